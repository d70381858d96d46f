"""Partial prediction files after a kill: a write torn inside a multi-byte character loses only that record."""

from __future__ import annotations

import json
from pathlib import Path

from toolkit.engine.tasks.predictions import PartialWriter, load_done


def test_a_tail_torn_inside_a_utf8_character_is_dropped_not_fatal(tmp_path: Path) -> None:
    writer = PartialWriter(tmp_path, "bank-s0", "0-end", "k")
    writer.append([{"index": 0, "prediction": "甲"}, {"index": 1, "prediction": "乙"}])
    torn = (json.dumps({"index": 2, "prediction": "丙"}, ensure_ascii=False) + "\n").encode("utf-8")
    cut = torn.index("丙".encode()) + 1  # SIGKILL can end a write() short, here inside 丙
    with open(writer.path, "ab") as fh:
        fh.write(torn[:cut])
    assert sorted(load_done(tmp_path, "bank-s0", "k")) == [0, 1]  # was: UnicodeDecodeError, and -r could not resume
    resumed = PartialWriter(tmp_path, "bank-s0", "0-end", "k")  # resuming cuts the torn tail off
    resumed.append([{"index": 2, "prediction": "丙"}])
    assert {i: r["prediction"] for i, r in load_done(tmp_path, "bank-s0", "k").items()} == {0: "甲", 1: "乙", 2: "丙"}

"""The validate benchmark's generator and its RESULTS.md writer (the timing itself is not a test)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from toolkit.validate import validate_path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "validate_bench.py"


def _bench():
    spec = importlib.util.spec_from_file_location("validate_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_synthetic_bank_plants_defects_every_check_can_find(tmp_path: Path) -> None:
    root = _bench().make_bank(tmp_path / "bank", 3000, 20)
    assert len(list(root.rglob("*.csv"))) == 60
    codes = {f.code for f in validate_path(root).findings}
    assert {"E101", "E206", "E207", "E307", "W208", "W308", "W309"} <= codes


def test_record_replaces_only_the_validate_section(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n## validate\n\nold\n\n## eval\n\nkeep me\n", encoding="utf-8")
    bench = _bench()
    bench.record("## validate\n\nnew\n", results)
    assert results.read_text(encoding="utf-8") == "# Benchmark results\n\n## validate\n\nnew\n\n## eval\n\nkeep me\n"
    fresh = tmp_path / "NEW.md"
    bench.record("## validate\n\nfirst\n", fresh)
    assert fresh.read_text(encoding="utf-8") == "# Benchmark results\n\n## validate\n\nfirst\n"

"""An lm-evaluation-harness task that scores exactly our prompts.

Our few-shot prompt (C-Eval's, as OpenCompass renders it for a base model) ends in
``答案: `` and, in the examples, the answer follows on its own line: ``答案: \\nA``.
So the task feeds our rendered prompts as a ``prompt`` column (``num_fewshot: 0``:
the examples are already in it), the choices are the letters and the target
delimiter is ``"\\n"``; lm-eval's ``_encode_pair`` then moves the trailing space of
the context into the continuation, so it scores ``" \\nA"`` after ``…答案:`` — the
same full text ``…答案: \\nA`` our choice mode scores. The shared ``" \\n"`` tokens
add the same log-probability to every choice, so the argmax is comparable.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

TASK = "toolkit_bench_choice"
LETTERS = ("A", "B", "C", "D")


def task_yaml(data_file: Path, task: str = TASK) -> str:
    """The task's YAML text (a local JSON-lines file; no hub access).

    Example:
        >>> "target_delimiter" in task_yaml(Path("/d/p.jsonl"))
        True
    """
    return "\n".join([
        f"task: {task}",
        "dataset_path: json",
        "dataset_kwargs:",
        "  data_files:",
        f"    test: {json.dumps(str(data_file))}",
        "test_split: test",
        "output_type: multiple_choice",
        "doc_to_text: prompt",
        f"doc_to_choice: {json.dumps(list(LETTERS))}",
        "doc_to_target: label",
        'target_delimiter: "\\n"',
        "num_fewshot: 0",
        "metric_list:",
        "  - metric: acc",
        "    aggregation: mean",
        "    higher_is_better: true",
        "metadata:",
        "  version: 1.0",
        "",
    ])


def prompt_rows(predictions: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """One row per question from our predictions (abbr → index → record with ``origin_prompt``, ``gold``).

    Example:
        >>> prompt_rows({"s": {"0": {"origin_prompt": "Q\\n答案: ", "gold": "C"}}})
        [{'id': 's/0', 'prompt': 'Q\\n答案: ', 'label': 2}]
    """
    rows = []
    for abbr in sorted(predictions):
        for idx in sorted(predictions[abbr], key=int):
            rec = predictions[abbr][idx]
            gold = str(rec.get("gold", "")).strip()
            rows.append({"id": f"{abbr}/{idx}", "prompt": rec["origin_prompt"],
                         "label": LETTERS.index(gold) if gold in LETTERS else 0})
    return rows


def write_task(folder: Path, rows: Iterable[Mapping[str, Any]], task: str = TASK) -> Path:
    """Write ``prompts.jsonl`` and ``<task>.yaml`` into ``folder``; returns the folder (lm-eval's --include_path)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "prompts.jsonl"
    data.write_text("".join(json.dumps(dict(r), ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    (folder / f"{task}.yaml").write_text(task_yaml(data, task), encoding="utf-8")
    return folder


def _contexts(sample: Mapping[str, Any]) -> list[tuple[str, str]]:
    args = sample.get("arguments")
    if isinstance(args, Mapping):  # {"gen_args_0": {"arg_0": ctx, "arg_1": cont}, …}
        return [(a["arg_0"], a["arg_1"]) for a in args.values()]
    return [(a[0], a[1]) for a in args or []]


def sample_choices(samples: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """lm-eval's logged samples → id → {prediction (argmax letter), loglikelihoods, context}.

    Example:
        >>> s = {"doc": {"id": "s/0"}, "filtered_resps": [["-2.0", "False"], ["-1.0", "True"], ["-3", "False"], ["-4", "False"]],
        ...      "arguments": [["ctx", "\\nA"]]}
        >>> sample_choices([s])["s/0"]["prediction"]
        'B'
    """
    out: dict[str, dict[str, Any]] = {}
    for s in samples:
        lls = [float(r[0] if isinstance(r, (list, tuple)) else r) for r in s["filtered_resps"]]
        best = lls.index(max(lls))
        ctx = _contexts(s)
        out[s["doc"]["id"]] = {"prediction": LETTERS[best], "loglikelihoods": lls,
                               "context": ctx[0][0] if ctx else None,
                               "continuations": [c for _, c in ctx]}
    return out

"""The model requests our engine makes for a set of datasets, as token ids (no forward pass).

    python bench/requests_export.py --config-dir DIR --datasets ceval_gen --out requests.json

A tokenizer-only stand-in for the HF backend goes through the engine's own
``DatasetInference`` (prompt building, ``--max-seq-len`` truncation, rendering,
tokenising), records every ``ScoreRequest`` (choice on the gen configs, ppl on the
ppl configs) and ``GenRequest`` it is asked for, and writes them:

* ``choice`` / ``ppl``: per question ``prefix`` (the candidates' shared tokens) and
  ``tails`` (each candidate's own tokens: one letter token each in C-Eval's templates);
* ``gen``: the prompt's tokens, ``max_tokens`` and the stop strings.

The vLLM peer (``vllm_peer.py``) scores exactly these, and ``compute_bound.py`` counts
their unique tokens and FLOPs.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

DEFAULT_MODEL = Path("~/.cache/toolkit/models/SmolLM2-135M-Instruct").expanduser()


def common_len(seqs: Sequence[Sequence[int]]) -> int:
    """Shared leading tokens of all sequences.

    Example:
        >>> common_len([(1, 2, 3), (1, 2, 4)])
        2
    """
    n = min(len(s) for s in seqs)
    for i in range(n):
        if any(s[i] != seqs[0][i] for s in seqs):
            return i
    return n


class Recorder:
    """Our HF backend's tokenising half; remembers the requests instead of running a model."""

    hf_type = "base"
    name = "recorder"

    def __init__(self, model_dir: Path) -> None:
        from transformers import AutoTokenizer

        from toolkit.models.hf import DEFAULT_TOKENIZER_KWARGS, HFModel

        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir), **DEFAULT_TOKENIZER_KWARGS)
        self._encoded: dict[Any, Any] = {}
        self._hf = HFModel
        self.scored: list[Any] = []
        self.generated: list[Any] = []

    def encode(self, prompt: Any, *, generation: bool) -> tuple[int, ...]:
        return self._hf.encode(self, prompt, generation=generation)  # type: ignore[arg-type]

    def _encode(self, prompt: Any, *, generation: bool) -> tuple[int, ...]:
        return self._hf._encode(self, prompt, generation=generation)  # type: ignore[arg-type]

    def count_tokens(self, prompt: Any, *, generation: bool) -> int:
        return len(self.encode(prompt, generation=generation))

    def decode(self, tokens: Sequence[int]) -> str:
        return self.tokenizer.decode(list(tokens), skip_special_tokens=True)

    def score(self, requests: Sequence[Any], progress: Any = None, *, need_total: bool = True) -> Iterator[list[Any]]:
        from toolkit.models.base import CandidateScore, ScoreResult

        base = len(self.scored)  # keys restart with every chunk of questions
        self.scored.extend((base + r.key, r) for r in requests)
        zero = CandidateScore(0.0, 1, 0.0, 1)
        yield [ScoreResult(r.key, tuple(zero for _ in r.candidates)) for r in requests]

    def generate(self, requests: Sequence[Any], progress: Any = None) -> Iterator[list[Any]]:
        from toolkit.models.base import GenResult

        base = len(self.generated)
        self.generated.extend((base + r.key, r) for r in requests)
        yield [GenResult(r.key, "", 0, "length") for r in requests]


def export(config_dir: Path, datasets: Sequence[str], mode: str, *, model_dir: Path = DEFAULT_MODEL,
           max_seq_len: int = 2048, max_out_len: int = 16) -> list[dict[str, Any]]:
    """One entry per question of ``datasets`` in ``mode`` (choice, ppl or gen), in the engine's order."""
    from toolkit.config.loader import load_datasets
    from toolkit.engine.data import load_ceval_splits
    from toolkit.engine.inference import DatasetInference
    from toolkit.engine.params import InferParams

    rows: list[dict[str, Any]] = []
    params = InferParams(mode=mode, max_seq_len=max_seq_len, max_out_len=max_out_len)
    for d in load_datasets(datasets, config_dir):
        rec = Recorder(model_dir)
        inference = DatasetInference(rec, d, load_ceval_splits(d.path, d.name), params)  # type: ignore[arg-type]
        indices = inference.indices
        for _ in inference.run():
            pass
        for k, req in rec.scored:
            q = common_len(req.candidates)
            q = min(q, min(len(c) for c in req.candidates) - 1)
            rows.append({"group": d.abbr, "key": f"{d.abbr}/{indices[k]}", "prefix": list(req.candidates[0][:q]),
                         "tails": [list(c[q:]) for c in req.candidates],
                         "labels": [rec.decode(c[q:]).strip() for c in req.candidates]})
        for k, req in rec.generated:
            rows.append({"group": d.abbr, "key": f"{d.abbr}/{indices[k]}", "tokens": list(req.tokens),
                         "max_tokens": req.max_new_tokens, "stop": list(req.stop_strings)})
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config-dir", type=Path, required=True)
    p.add_argument("--datasets", nargs="+", required=True, help="gen configs (choice, gen); ppl configs for ppl")
    p.add_argument("--ppl-datasets", nargs="*", default=[], help="the ppl configs, for the ppl requests")
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    p.add_argument("--max-seq-len", type=int, default=2048)
    p.add_argument("--max-out-len", type=int, default=16)
    p.add_argument("--modes", default="choice,gen,ppl")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    out: dict[str, Any] = {"model": str(args.model), "max_seq_len": args.max_seq_len}
    for mode in args.modes.split(","):
        names = args.ppl_datasets if mode == "ppl" else args.datasets
        if names:
            out[mode] = export(args.config_dir, names, mode, model_dir=args.model, max_seq_len=args.max_seq_len,
                               max_out_len=args.max_out_len)
    args.out.write_text(json.dumps(out, ensure_ascii=False) + "\n", encoding="utf-8")
    print({k: len(v) for k, v in out.items() if isinstance(v, list)}, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""vLLM (CPU build) scoring exactly the requests our engine makes; runs inside vLLM's own venv.

    <vllm-venv>/bin/python bench/vllm_peer.py --requests requests.json --out vllm.json --repeats 3

``requests.json`` comes from ``requests_export.py`` (our engine's requests as token ids).
One ``vllm.LLM`` (float32, prefix caching on, ``VLLM_CPU_KVCACHE_SPACE`` from the
environment) serves every mode and repetition, so the minutes of start-up are paid once:

* choice / ppl: per question one prompt — the candidates' shared tokens as token ids —
  with ``SamplingParams(max_tokens=1, logprob_token_ids=[each candidate's one own token])``;
  the prediction is the candidate whose token is most likely (ties: the first, as ours);
* gen: the prompt's token ids, greedy, ``max_tokens`` and our stop strings.

Each subject is one ``generate`` call; the prefix cache is reset before every mode and
repetition, so no run reuses another's work. Around each run the script prints
``MARK begin <mode> <rep>`` / ``MARK end <mode> <rep>`` lines: the benchmark takes the CPU
time of the whole process tree (the engine core is a child process) between them.
Standard library and vLLM only: it must not import toolkit (vLLM pins its own transformers).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any


def mark(what: str) -> None:
    print(f"MARK {what} {time.time():.3f}", flush=True)


def _groups(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row["group"], []).append(row)
    return out


def run_scores(llm: Any, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """One generate per subject; per question the letters' log-probabilities and the argmax."""
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt

    out: dict[str, Any] = {}
    for group in _groups(rows).values():
        prompts, params = [], []
        for row in group:
            if any(len(t) != 1 for t in row["tails"]):
                raise SystemExit(f"{row['key']}: candidates with several own tokens are not supported here")
            ids = [t[0] for t in row["tails"]]
            prompts.append(TokensPrompt(prompt_token_ids=row["prefix"]))
            params.append(SamplingParams(max_tokens=1, temperature=0.0, logprob_token_ids=ids))
        results = llm.generate(prompts, params, use_tqdm=False)
        for row, res in zip(group, results):
            lp = res.outputs[0].logprobs[0]
            values = [float(lp[t[0]].logprob) for t in row["tails"]]
            best = max(range(len(values)), key=lambda i: (values[i], -i))
            labels = row.get("labels") or [str(i) for i in range(len(values))]
            out[row["key"]] = {"logprobs": values, "best": best, "prediction": labels[best]}
    return out


def run_gen(llm: Any, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Greedy generation, one generate per subject."""
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt

    out: dict[str, Any] = {}
    for group in _groups(rows).values():
        prompts = [TokensPrompt(prompt_token_ids=row["tokens"]) for row in group]
        params = [SamplingParams(max_tokens=row["max_tokens"], temperature=0.0, stop=row["stop"] or None)
                  for row in group]
        for row, res in zip(group, llm.generate(prompts, params, use_tqdm=False)):
            out[row["key"]] = {"text": res.outputs[0].text, "tokens": len(res.outputs[0].token_ids)}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--modes", default="choice,gen,ppl")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--max-model-len", type=int, default=4096)
    p.add_argument("--wait-dir", help="interleave with another tool: write ready after the start, wait for "
                                      "go-<mode>-<rep> before each run, write done-<mode>-<rep> after it")
    args = p.parse_args(argv)
    with open(args.requests, encoding="utf-8") as fh:
        requests = json.load(fh)

    mark("load-begin")
    from vllm import LLM

    llm = LLM(model=requests["model"], dtype="float32", enable_prefix_caching=True, max_model_len=args.max_model_len,
              seed=0)
    mark("load-end")
    import vllm

    result: dict[str, Any] = {"vllm": vllm.__version__, "runs": [], "answers": {},
                              "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "VLLM_CPU_OMP_THREADS_BIND",
                                                                     "VLLM_CPU_KVCACHE_SPACE")}}
    signal = lambda name: open(os.path.join(args.wait_dir, name), "w").close()  # noqa: E731
    if args.wait_dir:
        signal("ready")
    for rep in range(args.repeats):
        for mode in args.modes.split(","):
            rows = requests.get(mode)
            if not rows:
                continue
            while args.wait_dir and not os.path.exists(os.path.join(args.wait_dir, f"go-{mode}-{rep}")):
                time.sleep(0.1)
            llm.reset_prefix_cache()
            mark(f"begin {mode} {rep}")
            t0, c0 = time.perf_counter(), time.process_time()
            answers = run_gen(llm, rows) if mode == "gen" else run_scores(llm, rows)
            seconds = time.perf_counter() - t0
            mark(f"end {mode} {rep}")
            result["runs"].append({"mode": mode, "rep": rep, "seconds": round(seconds, 3),
                                   "client_cpu_seconds": round(time.process_time() - c0, 3), "questions": len(rows)})
            result["answers"].setdefault(mode, answers)
            print(f"{mode} rep {rep}: {seconds:.2f} s for {len(rows)} questions", file=sys.stderr, flush=True)
            if args.wait_dir:
                signal(f"done-{mode}-{rep}")
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(result, fh, ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

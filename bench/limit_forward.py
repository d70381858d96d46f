"""The limit: bare forward passes over only the unique tokens, in a plain torch loop.

    python bench/limit_forward.py --model DIR --prompts prompts.jsonl --out limit.json

``prompts.jsonl`` holds ``{"group": subject, "prompt": text}`` rows (our rendered gen
prompts). Per group, the longest common token prefix (each prompt keeping at least
one token of its own) is run once with ``use_cache=True``; then each prompt's own
tokens run once, batch 1, on that cache, which is cropped back to the prefix after
each question. fp32 on CPU, SDPA attention, ``torch.inference_mode``. Only the loop
is timed (not loading, not tokenising), by the clock and by the process's CPU time. No padding, no sampling, no Python around
it: a lower bound for any engine that computes each question's logits.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path


def common_prefix(seqs: list[list[int]]) -> int:
    """Shared leading tokens, leaving every sequence at least one of its own.

    Example:
        >>> common_prefix([[1, 2, 3], [1, 2, 4, 5]])
        2
    """
    n = min(len(s) for s in seqs)
    first = seqs[0]
    for s in seqs[1:]:
        i = 0
        while i < n and s[i] == first[i]:
            i += 1
        n = i
    return min(n, min(len(s) for s in seqs) - 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--prompts", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32, attn_implementation="sdpa").eval()
    groups: dict[str, list[list[int]]] = defaultdict(list)
    for line in args.prompts.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        groups[row["group"]].append(tok(row["prompt"], add_special_tokens=True)["input_ids"])
    prefix_tokens = own_tokens = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    with torch.inference_mode():
        for seqs in groups.values():
            p = common_prefix(seqs) if len(seqs) > 1 else 0
            cache = None
            if p:
                out = model(input_ids=torch.tensor([seqs[0][:p]]), use_cache=True)
                cache = out.past_key_values
                prefix_tokens += p
            for s in seqs:
                own = s[p:]
                pos = torch.arange(p, p + len(own)).unsqueeze(0)
                model(input_ids=torch.tensor([own]), position_ids=pos, past_key_values=cache, use_cache=cache is not None,
                      logits_to_keep=1)
                own_tokens += len(own)
                if cache is not None:
                    cache.crop(-len(own))  # back to the prefix (transformers 5: a negative count removes tokens)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    result = {"seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3), "questions": sum(len(v) for v in groups.values()), "groups": len(groups),
              "prefix_tokens": prefix_tokens, "own_tokens": own_tokens, "unique_tokens": prefix_tokens + own_tokens,
              "threads": torch.get_num_threads(), "torch": torch.__version__}
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""One model's part of the GPU check: ours in three modes, the limit, the naive paths, and (for the first
model) the extra correctness runs: without the prefix cache, other batch sizes, plain ``generate``.

Every question of the chosen subjects runs through ours in choice, ppl and gen mode (the speed rows and
the reference answers). The limit runs the same choice rows at each ``--limit-batch-sizes`` value and
keeps the fastest. The naive paths and the extra runs take the subjects that fit their allotment
(:mod:`gpu_context`), and each speed ratio compares the same subjects: ours' time on a subset is the sum
of its datasets' own inference seconds, scaled by the run's overhead between datasets.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from gpu_context import Context, fit, free_memory, spread_order
from gpu_models import H200_BF16_FLOPS, Shape, build_model, causal_pairs
from gpu_ours import (
    OursRun,
    agreement,
    ceval_datasets,
    gib,
    label_values,
    letters,
    make_items,
    run_ours,
    same_letters,
    spread,
)
from gpu_paths import Item, cut_at_stop, naive_choice, naive_gen, naive_ppl, run_limit
from gpu_timing import Timed, decode_step_seconds, warm_up

MODES = ("choice", "ppl", "gen")


def model_spec(ctx: Context, abbr: str, path: str, batch_size: int) -> Any:
    from toolkit.config.spec import ModelSpec

    return ModelSpec(abbr=abbr, path=path, hf_type="base", max_seq_len=ctx.settings["max_seq_len"],
                     max_out_len=ctx.settings["max_out_len"], batch_size=batch_size, num_gpus=1 if ctx.cuda else 0)


class ModelPhase:
    """Everything the check does with one random-weight model held in memory."""

    def __init__(self, ctx: Context, name: str, *, correctness: bool) -> None:
        self.ctx = ctx
        self.name = name
        self.correctness = correctness
        self.shape = Shape.of(name, len(ctx.tokenizer))
        self.entry: dict[str, Any] = ctx.result.setdefault("models", {}).setdefault(name, {})
        self.model: Any = None
        self.ours: dict[str, OursRun] = {}
        self.items: list[Item] = []
        self.limit: Timed | None = None
        self.post: dict[str, Any] = {}
        self.spec = model_spec(ctx, name, str(ctx.tokenizer_dir), ctx.settings["batch_size"])

    # -- building blocks ------------------------------------------------------------------
    def hf(self, *, prefix_cache: bool = True) -> Any:
        """Our backend around the built model. On a CPU (``--smoke``) without the packed path, which the
        engine takes on CPUs only: the smoke runs the padded path, the one a GPU runs."""
        from toolkit.models.hf import HFModel

        hf = HFModel(self.spec, self.model, self.ctx.tokenizer, prefix_cache=prefix_cache, packed=self.ctx.cuda)
        self.entry["forward_path"] = "packed" if hf.fw.packed is not None else "padded"
        return hf

    def datasets(self, mode: str, subjects: Sequence[str] | None = None) -> tuple[Any, ...]:
        return ceval_datasets("ppl" if mode == "ppl" else "gen", subjects if subjects is not None else self.ctx.subjects)

    def run(self, mode: str, tag: str, *, subjects: Sequence[str] | None = None, prefix_cache: bool = True,
            batch_size: int | None = None) -> OursRun:
        from dataclasses import replace

        if batch_size is not None:
            self.spec, saved = replace(self.spec, batch_size=batch_size), self.spec
        try:
            return run_ours(self.datasets(mode, subjects), self.spec, mode=mode, work=self.ctx.work / "runs" / f"{self.name}-{tag}",
                            data_dir=self.ctx.data_dir, device=self.ctx.device, model=self.hf(prefix_cache=prefix_cache),
                            gpus=1 if self.ctx.cuda else 0)
        finally:
            if batch_size is not None:
                self.spec = saved

    def mfu(self, flops: float, seconds: float | None) -> float | None:
        return round(flops / seconds / H200_BF16_FLOPS, 4) if self.ctx.cuda and seconds else None

    def prompt_tokens(self, keys: set[str] | None = None) -> int:
        return sum(len(it.prompt) for it in self.items if keys is None or it.key in keys)

    def subset_seconds(self, mode: str, subjects: Sequence[str]) -> float | None:
        """Ours' seconds on ``subjects``: their datasets' own seconds, scaled by the whole run's overhead."""
        run = self.ours[mode]
        if run.seconds is None:
            return None
        abbrs = {f"ceval-{s}" for s in subjects}
        if abbrs >= set(run.per_dataset):
            return run.seconds
        total = sum(run.per_dataset.values())
        part = sum(v for k, v in run.per_dataset.items() if k in abbrs)
        return run.seconds * part / total if total else None

    # -- the phase ------------------------------------------------------------------------
    def build(self) -> None:
        ctx = self.ctx
        free_memory()
        t0 = time.perf_counter()
        self.model = build_model(self.name, ctx.tokenizer, device=ctx.device, dtype=ctx.dtype, seed=ctx.settings["seed"],
                                 scale=ctx.settings["scale"])
        self.entry.update(shape=self.name, parameters=self.shape.parameters, matmul_parameters=self.shape.matmul_params,
                          dtype=str(ctx.dtype).replace("torch.", ""), device=str(next(self.model.parameters()).device),
                          build_seconds=round(time.perf_counter() - t0, 2),
                          warm_up_seconds=round(warm_up(self.model, ctx.pad), 2))
        from toolkit.engine.inference import dataset_postprocessor

        self.post = {d.abbr: dataset_postprocessor(d) for d in self.datasets("gen")}
        self.run("choice", "warm-up", subjects=ctx.subjects[:1])  # prompt code paths, tokeniser, kernels: untimed
        ctx.save()

    def run_ours_all(self) -> None:
        for mode in MODES:
            self.ours[mode] = self.run(mode, mode)
            self.entry.setdefault("ours", {})[mode] = self.ours[mode].summary()
            self.ctx.save()
        self.items = make_items(self.ours["choice"], self.ctx.tokenizer, ppl=self.ours["ppl"])
        choice_letters = letters(self.ours["choice"], self.post)
        gen_letters = letters(self.ours["gen"], self.post)
        gen = self.ours["gen"].flat()
        self.entry["answers"] = {"choice": spread(choice_letters.values()), "gen": spread(gen_letters.values()),
                                 "gen_stop_reasons": spread(r.get("stop_reason", "") for r in gen.values()),
                                 "gen_new_tokens_mean": round(sum(r.get("new_tokens", 0) for r in gen.values()) / max(1, len(gen)), 2)}
        self.entry["data"] = {"questions": len(self.items), "subjects": len(self.ours["choice"].predictions),
                              "prompt_tokens": self.prompt_tokens()}

    def run_limit_sweep(self) -> None:
        sweep = []
        for bs in self.ctx.settings["limit_batch_sizes"]:
            t = run_limit(self.model, self.items, batch_size=bs, pad=self.ctx.pad)
            sweep.append({"batch_size": bs, "seconds": round(t.seconds, 3), "peak_gib": gib(t.peak_bytes)})
            if self.limit is None or t.seconds < self.limit.seconds:
                self.limit = t
                self.entry["limit_best_batch_size"] = bs
            free_memory()
        assert self.limit is not None
        self.entry["limit_sweep"] = sweep
        self.entry["unique_tokens"] = self.limit.tokens
        self.entry["ours_vs_limit_answers"] = agreement(label_values(self.ours["choice"]), self.limit.out)
        self.ctx.save()

    def speed_rows(self) -> None:
        """Ours and the limit, all subjects."""
        assert self.limit is not None
        limit_s = self.limit.seconds
        qs, tokens = len(self.items), self.prompt_tokens()
        rows = [_row("limit", "bare forward", qs, tokens, limit_s, self.limit.peak_bytes, self.limit.flops(self.shape), self)]
        for mode in MODES:
            run = self.ours[mode]
            row = _row("ours", mode, run.questions, tokens, run.seconds, run.peak_bytes, self.ours_flops(mode), self)
            row["vs_limit"] = round(run.seconds / limit_s, 3) if run.seconds and limit_s else None
            rows.append(row)
        self.entry["speed"] = rows
        self.ctx.save()

    def ours_flops(self, mode: str) -> float:
        """The unique work of a mode: the limit's rows; ppl with logits everywhere; gen plus its decoding steps."""
        assert self.limit is not None
        lim = self.limit
        if mode == "choice":
            return lim.flops(self.shape)
        if mode == "ppl":
            return self.shape.flops(lim.tokens, lim.pairs, lim.tokens)
        steps = {k: max(0, int(r.get("new_tokens", 1)) - 1) for k, r in self.ours["gen"].flat().items()}
        prompt = {it.key: len(it.prompt) for it in self.items}
        decode = sum(steps.values())
        pairs = sum(causal_pairs(prompt.get(k, 0), s) for k, s in steps.items())
        return lim.flops(self.shape) + self.shape.flops(decode, pairs, decode)

    # -- naive paths --------------------------------------------------------------------------
    def naive_all(self) -> None:
        assert self.limit is not None
        rate = self.limit.flops(self.shape) / max(self.limit.seconds, 1e-6)  # FLOP/s: the vocabulary counts too
        nb = self.ctx.settings["naive_batch_size"]
        step_s = decode_step_seconds(self.model, self.ctx.pad, nb, 256)
        self.entry["decode_step_seconds"] = round(step_s, 5)
        per_subject = {s: [it for it in self.items if it.abbr == f"ceval-{s}"] for s in self.ctx.subjects}
        work = {s: {"choice": self.whole(it.choice[0][:-1] for it in v), "ppl": self.whole(c for it in v for c in it.ppl),
                    "gen": self.whole((it.prompt for it in v), logits=False)} for s, v in per_subject.items()}
        max_new = self.ctx.settings["max_out_len"]
        costs: dict[str, Callable[[str], float]] = {
            "choice": lambda s: 1.5 * work[s]["choice"] / rate,
            "ppl": lambda s: 2.0 * work[s]["ppl"] / rate,
            "gen": lambda s: 1.5 * work[s]["gen"] / rate + -(-len(per_subject[s]) // nb) * max_new * step_s,
        }
        for mode in MODES:
            step = f"{self.name}.naive_{mode}"
            seconds = self.ctx.budget.allot(step)
            subjects, estimate = fit(spread_order(self.ctx.subjects), costs[mode], seconds)
            if seconds <= 0:
                self.ctx.skip(step, f"no time left in the budget ({self.ctx.budget.left():.0f} s left)")
                continue
            chosen = [it for s in subjects for it in per_subject[s]]
            if mode == "ppl" and not all(it.ppl for it in chosen):
                self.ctx.skip(step, "ours' ppl run left no label prompts for these questions")
                continue
            free_memory()
            try:
                self.naive_one(mode, subjects, chosen, estimate, seconds)
            except Exception as err:  # noqa: BLE001 - one failed path is reported, the check goes on
                self.ctx.error(step, err)
            self.ctx.save()

    def whole(self, seqs: Iterable[Sequence[int]], *, logits: bool = True) -> float:
        """FLOPs of a forward over each sequence whole, logits at every position (else at the last)."""
        lengths = [len(x) for x in seqs]
        return self.shape.flops(sum(lengths), sum(causal_pairs(0, n) for n in lengths), sum(lengths) if logits else len(lengths))

    def naive_one(self, mode: str, subjects: list[str], chosen: list[Item], estimate: float, allotted: float) -> None:
        ctx, nb = self.ctx, self.ctx.settings["naive_batch_size"]
        if mode == "choice":
            t = naive_choice(self.model, chosen, batch_size=nb, pad=ctx.pad)
            answers = agreement(label_values(self.ours["choice"]), t.out)
        elif mode == "ppl":
            t = naive_ppl(self.model, chosen, batch_size=nb, pad=ctx.pad)
            answers = agreement(label_values(self.ours["ppl"], "PPL"), t.out)
        else:
            t = naive_gen(self.model, ctx.tokenizer, chosen, batch_size=nb, pad=ctx.pad, max_new_tokens=ctx.settings["max_out_len"],
                          eos=ctx.eos)
            ours = letters(self.ours["gen"], self.post)
            plain = {it.key: self.post[it.abbr](cut_at_stop(t.out["texts"][it.key], it.stops)) for it in chosen}
            answers = same_letters({k: ours[k] for k in plain}, plain)
            answers["plain_generate_answers"] = spread(plain.values())
        keys = {it.key for it in chosen}
        ours_s = self.subset_seconds(mode, subjects)
        row = _row("naive", mode, len(chosen), self.prompt_tokens(keys), t.seconds, t.peak_bytes, t.flops(self.shape), self)
        row.update(subjects=len(subjects), naive_over_ours=round(t.seconds / ours_s, 2) if ours_s else None,
                   ours_seconds_same_subjects=round(ours_s, 3) if ours_s else None, estimate_s=round(estimate, 1),
                   allotted_s=round(allotted, 1), padded_tokens=t.padded_tokens, answers_vs_ours=answers)
        self.entry.setdefault("speed", []).append(row)

    # -- extra correctness runs (the first model) ----------------------------------------------
    def correctness_runs(self) -> None:
        ctx = self.ctx
        assert self.limit is not None
        rate = self.limit.tokens / max(self.limit.seconds, 1e-6)
        toks = {s: sum(len(it.prompt) for it in self.items if it.abbr == f"ceval-{s}") for s in ctx.subjects}
        checks = self.entry.setdefault("correctness", {})
        seconds = ctx.budget.allot(f"{self.name}.uncached")
        subjects, estimate = fit(spread_order(ctx.subjects), lambda s: 3.0 * toks[s] / rate, seconds)
        if seconds <= 0:
            ctx.skip("uncached scoring", "no time left in the budget")
        else:
            for mode in ("choice", "ppl"):
                run = self.run(mode, f"uncached-{mode}", subjects=subjects, prefix_cache=False)
                checks[f"prefix_cache_vs_none_{mode}"] = {
                    "subjects": len(subjects), "questions": run.questions, "seconds": run.seconds, "estimate_s": round(estimate, 1),
                    "label_nll": agreement(label_values(self.ours[mode]), label_values(run)),
                    **({"ppl": agreement(label_values(self.ours[mode], "PPL"), label_values(run, "PPL"))} if mode == "ppl" else {})}
                ctx.save()
        self.batch_size_runs(checks)

    def batch_size_runs(self, checks: dict[str, Any]) -> None:
        ctx = self.ctx
        seconds = ctx.budget.allot(f"{self.name}.batch_sizes")
        if seconds <= 0:
            ctx.skip("batch sizes", "no time left in the budget")
            return
        counts = {s: sum(1 for it in self.items if it.abbr == f"ceval-{s}") for s in ctx.subjects}
        want = ctx.settings["sweep_questions"]
        subjects: list[str] = []
        for s in spread_order(ctx.subjects):
            if sum(counts[x] for x in subjects) >= want:
                break
            subjects.append(s)
        sizes = [b for b in ctx.settings["sweep_batch_sizes"] if b != ctx.settings["batch_size"]]
        out: dict[str, Any] = {"subjects": subjects, "questions": sum(counts[s] for s in subjects),
                               "reference_batch_size": ctx.settings["batch_size"]}
        for bs in sizes:
            choice = self.run("choice", f"bs{bs}-choice", subjects=subjects, batch_size=bs)
            gen = self.run("gen", f"bs{bs}-gen", subjects=subjects, batch_size=bs)
            ref_letters = letters(self.ours["gen"], self.post)
            out[str(bs)] = {"choice": agreement(label_values(self.ours["choice"]), label_values(choice)),
                            "gen": same_letters({k: ref_letters[k] for k in letters(gen, self.post)}, letters(gen, self.post)),
                            "seconds": [choice.seconds, gen.seconds]}
            ctx.save()
        checks["batch_sizes"] = out

    def save_to(self, folder: Any) -> None:
        """The model and tokenizer as a plain Hugging Face folder (for the checks that load from disk)."""
        self.model.save_pretrained(folder)
        self.ctx.tokenizer.save_pretrained(folder)

    def close(self) -> None:
        self.model = None
        self.ours.clear()
        free_memory()


def _row(tool: str, mode: str, questions: int, prompt_tokens: int, seconds: float | None, peak: int | None,
         flops: float, phase: ModelPhase) -> dict[str, Any]:
    return {"tool": tool, "mode": mode, "questions": questions, "seconds": round(seconds, 3) if seconds else seconds,
            "questions_per_s": round(questions / seconds, 2) if seconds else None,
            "prompt_tokens_per_s": round(prompt_tokens / seconds) if seconds else None,
            "peak_gib": gib(peak), "tflop": round(flops / 1e12, 6), "mfu": phase.mfu(flops, seconds)}

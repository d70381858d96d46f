"""The vLLM backend (``--backend vllm``): the same prompts as the HF backend, run by ``vllm.LLM``.

vLLM is an optional extra (``pip install -e ".[vllm]"``), imported only when this backend
loads. Prompts are tokenised here exactly as the HF backend does (the same tokenizer
settings and chat template) and sent as token ids, so both backends see the same tokens.

* ``gen``: greedy (temperature 0), ``min_tokens`` and our stop strings, prefix caching
  on (the few-shot examples of a subject are computed once). vLLM cannot call our
  "answer decided" check while it generates, so each output is then cut where the HF
  backend would have stopped (EOS, a stop string, the decided answer, the length): the
  same text, the same stop reason.
* ``choice``: one request per question — the candidates' shared token prefix as the
  prompt, ``max_tokens=1`` and ``logprob_token_ids`` = the candidates' own last tokens:
  their log-probabilities are the letters' scores (the candidates are tokenised whole,
  as the HF backend does, because the prompt and ``"\\nA"`` tokenised apart can merge
  differently). Candidates with longer tails fall back to prompt log-probabilities.
* ``ppl``: prompt log-probabilities of each label's full prompt (prefix-cached).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from toolkit.errors import RunError, UsageError
from toolkit.models.base import (
    CandidateScore,
    GenRequest,
    GenResult,
    ProgressFn,
    ScoreRequest,
    ScoreResult,
    Tokens,
    encode_prompt,
)
from toolkit.models.planning import common_prefix_len

INSTALL_HINT = 'pip install -e ".[vllm]"'
CHUNK = 256
"""Requests handed to vLLM at once (it batches inside); results are saved after each chunk."""
_LLM_KWARGS = ("gpu_memory_utilization", "max_model_len", "tensor_parallel_size", "enforce_eager", "quantization",
               "kv_cache_dtype", "swap_space", "seed", "max_num_seqs", "max_num_batched_tokens", "block_size",
               "enable_chunked_prefill", "trust_remote_code", "revision", "distributed_executor_backend")


def import_vllm() -> Any:
    """The ``vllm`` module, or a one-line usage error saying what to install."""
    try:
        import vllm
    except ImportError:
        raise UsageError("the vLLM backend needs vLLM, which is not installed in this Python",
                         hint=f"{INSTALL_HINT} (or set TOOLKIT_VLLM_PYTHON to a Python that has it)") from None
    return vllm


CPU_KV_CACHE_GIB = "4"
"""The KV cache vLLM's CPU build gets unless ``VLLM_CPU_KVCACHE_SPACE`` says otherwise (GiB)."""


def cpu_env(environ: Mapping[str, str]) -> dict[str, str]:
    """What to add to the environment before vLLM's CPU build starts: an explicit KV cache size. Without it
    vLLM reserves ``gpu_memory_utilization`` (0.92) of the machine's memory and refuses to start when other
    processes hold more than 8 % of it ("Available memory on node 0 … is less than desired")."""
    return {} if environ.get("VLLM_CPU_KVCACHE_SPACE") else {"VLLM_CPU_KVCACHE_SPACE": CPU_KV_CACHE_GIB}


def llm_kwargs(spec: Any, *, cuda: bool) -> dict[str, Any]:
    """``vllm.LLM`` arguments for a model spec: prefix caching on, fp32 on CPU (as the HF backend),
    ``model_kwargs`` passed through where vLLM knows them (OpenCompass's ``VLLM`` passes them all)."""
    options = dict(spec.model_kwargs)
    dtype = options.pop("torch_dtype", options.pop("dtype", None))
    if isinstance(dtype, str):
        dtype = dtype.replace("torch.", "")
    kwargs: dict[str, Any] = {"model": spec.path, "tokenizer": spec.tokenizer_path or spec.path,
                              "enable_prefix_caching": True, "trust_remote_code": True, "seed": 0,
                              "dtype": dtype or ("auto" if cuda else "float32")}
    if spec.max_seq_len:
        kwargs["max_model_len"] = spec.max_seq_len
    if cuda and spec.num_gpus > 1:
        kwargs["tensor_parallel_size"] = spec.num_gpus
    unknown = sorted(set(options) - set(_LLM_KWARGS))
    if unknown:
        raise UsageError(f"model {spec.abbr}: vLLM does not take model_kwargs {', '.join(unknown)}",
                         hint=f"use vLLM's LLM arguments: {', '.join(_LLM_KWARGS)}")
    kwargs.update(options)
    return kwargs


class VllmModel:
    """A ``vllm.LLM`` behind :class:`toolkit.models.base.LanguageModel`; see the module docstring."""

    def __init__(self, spec: Any, llm: Any, tokenizer: Any, *, load_seconds: float = 0.0) -> None:
        self.spec = spec
        self.name = spec.abbr
        self.hf_type = spec.hf_type
        self.llm = llm
        self.tokenizer = tokenizer
        self.load_seconds = load_seconds
        self._vllm = import_vllm()
        eos = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
        gen_eos = getattr(llm.llm_engine.model_config.hf_config, "eos_token_id", None) if llm is not None else None
        eos |= set(gen_eos if isinstance(gen_eos, list) else [gen_eos] if gen_eos is not None else [])
        self.eos_ids = eos

    @classmethod
    def load(cls, spec: Any, *, device: str | None = None, **_: object) -> VllmModel:
        """Start the engine (``vllm.LLM``) and load the tokenizer as the HF backend does."""
        vllm = import_vllm()
        from transformers import AutoTokenizer

        from toolkit.models.hf import DEFAULT_TOKENIZER_KWARGS

        started = time.perf_counter()
        tok_kwargs = {**DEFAULT_TOKENIZER_KWARGS, **dict(spec.tokenizer_kwargs)}
        try:
            tokenizer = AutoTokenizer.from_pretrained(spec.tokenizer_path or spec.path, **tok_kwargs)
        except (OSError, ValueError) as err:
            raise UsageError(f"cannot load the tokenizer from {spec.tokenizer_path or spec.path}: {err}".splitlines()[0],
                             hint="check --hf-path (a local Hugging Face folder)") from None
        cuda = device != "cpu" and _has_cuda()
        if not cuda:
            os.environ.update(cpu_env(os.environ))
        try:
            llm = vllm.LLM(**llm_kwargs(spec, cuda=cuda))
        except (OSError, ValueError, RuntimeError) as err:
            raise RunError(f"vLLM could not load {spec.path}: {err}".splitlines()[0],
                           hint="see the task's log under logs/infer/ for vLLM's own messages") from None
        return cls(spec, llm, tokenizer, load_seconds=time.perf_counter() - started)

    # -- prompts (as the HF backend) -----------------------------------------------------
    def encode(self, prompt: Any, *, generation: bool) -> Tokens:
        """A string with special tokens (base); a message list through the chat template."""
        return encode_prompt(self.tokenizer, prompt, generation=generation, model=self.name)

    def count_tokens(self, prompt: Any, *, generation: bool) -> int:
        """The prompt's token count, special tokens included."""
        return len(self.encode(prompt, generation=generation))

    def decode(self, tokens: Sequence[int]) -> str:
        """Token ids to text, special tokens removed."""
        return self.tokenizer.decode(list(tokens), skip_special_tokens=True)

    # -- gen --------------------------------------------------------------------------
    def generate(self, requests: Sequence[GenRequest], progress: ProgressFn | None = None, *,
                 batch_size: int | None = None) -> Iterator[list[GenResult]]:
        """Greedy generations, chunk by chunk (vLLM batches inside a chunk as it sees fit)."""
        v = self._vllm
        for start in range(0, len(requests), CHUNK):
            chunk = requests[start:start + CHUNK]
            params = [v.SamplingParams(temperature=0.0, max_tokens=r.max_new_tokens, min_tokens=r.min_new_tokens,
                                       stop=list(r.stop_strings) or None, skip_special_tokens=True)
                      for r in chunk]
            prompts = [{"prompt_token_ids": list(r.tokens)} for r in chunk]
            outputs = self.llm.generate(prompts, params, use_tqdm=False)
            results = [self._cut(r, list(o.outputs[0].token_ids)) for r, o in zip(chunk, outputs)]
            if progress:
                progress(len(results))
            yield results

    def _cut(self, req: GenRequest, ids: list[int]) -> GenResult:
        """Where the HF backend's loop stops on these tokens, and its text there."""
        from toolkit.models.hf_generate import cut_at_stop

        for k in range(1, len(ids) + 1):
            reason = None
            text = self.decode(ids[:k])
            if ids[k - 1] in self.eos_ids:
                reason = "eos"
            elif any(s and s in text for s in req.stop_strings):
                reason = "stop_string"
            elif req.decided is not None and req.decided(text):
                reason = "decided"
            elif k >= req.max_new_tokens:
                reason = "length"
            if reason:
                return GenResult(req.key, cut_at_stop(text, req.stop_strings), k, reason)
        return GenResult(req.key, cut_at_stop(self.decode(ids), req.stop_strings), len(ids), "length")

    # -- choice / ppl -------------------------------------------------------------------
    def score(self, requests: Sequence[ScoreRequest], progress: ProgressFn | None = None, *,
              need_total: bool = True, batch_size: int | None = None) -> Iterator[list[ScoreResult]]:
        """Candidate scores, chunk by chunk (see the module docstring)."""
        for start in range(0, len(requests), CHUNK):
            chunk = requests[start:start + CHUNK]
            fast: list[tuple[ScoreRequest, int]] = []
            slow: list[tuple[ScoreRequest, int]] = []
            for r in chunk:
                q = _question_len(r.candidates)
                single = q > 0 and all(len(c) - q == 1 for c in r.candidates)
                (fast if single and not need_total else slow).append((r, q))
            results = self._score_letters(fast) + self._score_prompts(slow)
            if progress:
                progress(len(results))
            yield results

    def _score_letters(self, items: list[tuple[ScoreRequest, int]]) -> list[ScoreResult]:
        if not items:
            return []
        v = self._vllm
        prompts = [{"prompt_token_ids": list(r.candidates[0][:q])} for r, q in items]
        params = [v.SamplingParams(temperature=0.0, max_tokens=1, logprob_token_ids=sorted({c[-1] for c in r.candidates}))
                  for r, _q in items]
        outputs = self.llm.generate(prompts, params, use_tqdm=False)
        results = []
        for (r, q), out in zip(items, outputs):
            logprobs = out.outputs[0].logprobs[0]
            scores = tuple(CandidateScore(math.nan, len(c), -float(logprobs[c[-1]].logprob), len(c) - q)
                           for c in r.candidates)
            results.append(ScoreResult(r.key, scores))
        return results

    def _score_prompts(self, items: list[tuple[ScoreRequest, int]]) -> list[ScoreResult]:
        if not items:
            return []
        v = self._vllm
        flat = [(i, c) for i, (r, _q) in enumerate(items) for c in r.candidates]
        prompts = [{"prompt_token_ids": list(c)} for _i, c in flat]
        params = v.SamplingParams(temperature=0.0, max_tokens=1, prompt_logprobs=0)
        outputs = self.llm.generate(prompts, params, use_tqdm=False)
        per: list[list[CandidateScore]] = [[] for _ in items]
        for (i, cand), out in zip(flat, outputs):
            q = items[i][1]
            nlls = [0.0] + [-float(out.prompt_logprobs[k][tok].logprob) for k, tok in enumerate(cand) if k > 0]
            per[i].append(CandidateScore(sum(nlls), len(cand), sum(nlls[max(1, q):]), len(cand) - q))
        return [ScoreResult(r.key, tuple(per[i])) for i, (r, _q) in enumerate(items)]

    # -- facts ------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """Facts for the manifest."""
        config = self.llm.llm_engine.model_config
        return {"abbr": self.name, "path": self.spec.path, "class": "vllm.LLM", "backend": "vllm",
                "vllm": getattr(self._vllm, "__version__", None), "dtype": str(config.dtype).replace("torch.", ""),
                "max_model_len": config.max_model_len, "prefix_cache": True,
                "load_seconds": round(self.load_seconds, 2)}

    def close(self) -> None:
        """Shut the engine down."""
        llm, self.llm = self.llm, None
        del llm


def _question_len(cands: Sequence[Sequence[int]]) -> int:
    """Tokens shared by all candidates, leaving every candidate at least one of its own (as the HF scorer)."""
    return max(0, min(common_prefix_len(cands), min(len(c) for c in cands) - 1))


def _has_cuda() -> bool:
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) == "":
        return False
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:  # pragma: no cover - torch comes with vLLM
        return False

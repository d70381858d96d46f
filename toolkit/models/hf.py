"""The Hugging Face backend: AutoModelForCausalLM + AutoTokenizer behind :class:`LanguageModel`.

* dtype ``auto``: bf16 on a GPU that supports it, fp32 on CPU; ``model_kwargs`` may
  override (``torch_dtype='torch.float16'``, as OpenCompass users write it);
* ``device_map`` across the visible GPUs when ``num_gpus > 1`` (accelerate);
* SDPA attention unless ``attn_implementation`` is given;
* a tokenizer without a pad token gets one (generation config's, else EOS), as in
  OpenCompass; padding is left;
* ``path`` may be a ``.gguf`` file (dequantised by transformers, needs ``gguf``).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from toolkit.config.spec import ModelSpec
from toolkit.errors import RunError, UsageError
from toolkit.models.base import GenRequest, GenResult, ProgressFn, ScoreRequest, ScoreResult, Tokens, encode_prompt
from toolkit.models.paths import check_model_paths, split_gguf

ENCODE_CACHE_SIZE = 8192
DEFAULT_TOKENIZER_KWARGS = {"padding_side": "left", "truncation_side": "left", "trust_remote_code": True}


def _resolve_dtype(value: Any, torch: Any, device_type: str) -> Any:
    if value in (None, "auto"):
        if device_type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    if isinstance(value, str):
        name = value.replace("torch.", "")
        if not hasattr(torch, name):
            raise UsageError(f"unknown dtype {value!r}", hint="use bfloat16, float16 or float32")
        return getattr(torch, name)
    return value


def quiet_transformers() -> None:
    """Silence transformers' own tqdm bars ("Loading weights", "Writing model shards"): on a terminal
    they break into lines above our progress display, elsewhere they leak ``\r``-lines into logs. Our
    display says what is loading. GGUF de-quantising has its own bar: :func:`quiet_gguf`."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


@contextmanager
def quiet_gguf() -> Iterator[None]:
    """Within the block, transformers' GGUF loader runs without its "de-quantizing GGUF tensors" bar
    (a bare ``tqdm`` that transformers' own switch does not reach)."""
    try:
        import transformers.modeling_gguf_pytorch_utils as gguf_utils
    except ImportError:  # pragma: no cover - a transformers without GGUF support
        yield
        return
    original = getattr(gguf_utils, "tqdm", None)
    if original is None:
        yield
        return
    gguf_utils.tqdm = functools.partial(original, disable=True)
    try:
        yield
    finally:
        gguf_utils.tqdm = original


class HFModel:
    """A loaded causal LM; see :class:`toolkit.models.base.LanguageModel` for the protocol."""

    def __init__(self, spec: ModelSpec, model: Any, tokenizer: Any, *, prefix_cache: bool = True,
                 token_budget: int | None = None, warn: Any = None, load_seconds: float = 0.0,
                 packed: bool = True) -> None:
        import torch

        from toolkit.models.hf_forward import Forwarder
        from toolkit.models.hf_generate import Generator
        from toolkit.models.hf_memory import plan_budget
        from toolkit.models.hf_score import Scorer

        self.spec = spec
        self.name = spec.abbr
        self.hf_type = spec.hf_type
        self.model = model
        self.tokenizer = tokenizer
        self.load_seconds = load_seconds
        self._torch = torch
        self._encoded: dict[tuple[str, bool], Tokens] = {}
        pad = tokenizer.pad_token_id
        self.fw = Forwarder(model, pad if pad is not None else 0, packed=packed)
        device, dtype = self.fw.device, self.fw.dtype
        eos = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
        gen_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
        eos |= set(gen_eos if isinstance(gen_eos, list) else [gen_eos] if gen_eos is not None else [])
        budget = plan_budget(model.config, device, dtype, max_batch=spec.batch_size, full_logits=False,
                             token_budget=token_budget)
        full = plan_budget(model.config, device, dtype, max_batch=spec.batch_size, full_logits=True,
                           token_budget=token_budget)
        self.scorer_full = Scorer(self.fw, full, prefix_cache=prefix_cache, warn=warn)
        self.scorer_last = Scorer(self.fw, budget, prefix_cache=prefix_cache, warn=warn)
        self.generator = Generator(self.fw, tokenizer, sorted(eos), budget, prefix_cache=prefix_cache, warn=warn)

    # -- loading ----------------------------------------------------------------------
    @classmethod
    def load(cls, spec: ModelSpec, *, device: str | None = None, prefix_cache: bool = True,
             token_budget: int | None = None, warn: Any = None, packed: bool = True) -> HFModel:
        """Load tokenizer and model as ``spec`` says; errors name the path and the fix."""
        started = time.perf_counter()
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as err:  # pragma: no cover - torch/transformers are core dependencies
            raise RunError(f"cannot import torch/transformers ({err})", hint='pip install -e ".[dev]"') from None
        check_model_paths(spec)
        quiet_transformers()
        model_path, model_gguf = split_gguf(spec.path)
        tok_path, tok_gguf = split_gguf(spec.tokenizer_path or spec.path)
        tok_kwargs = {**DEFAULT_TOKENIZER_KWARGS, **tok_gguf, **dict(spec.tokenizer_kwargs)}
        try:
            tokenizer = AutoTokenizer.from_pretrained(tok_path, **tok_kwargs)
        except (OSError, ValueError) as err:
            raise UsageError(f"cannot load the tokenizer from {spec.tokenizer_path or spec.path}: {err}".splitlines()[0],
                             hint="check --tokenizer-path / --hf-path (a local folder with tokenizer files)") from None
        if spec.pad_token_id is not None:
            tokenizer.pad_token_id = spec.pad_token_id
        want = device or ("cuda" if torch.cuda.is_available() and spec.num_gpus > 0 else "cpu")
        kwargs = dict(spec.model_kwargs)
        dtype = _resolve_dtype(kwargs.pop("torch_dtype", kwargs.pop("dtype", "auto")), torch, want)
        kwargs.setdefault("attn_implementation", "sdpa")
        if want == "cuda":
            kwargs.setdefault("device_map", "auto" if spec.num_gpus > 1 else "cuda:0")
        try:
            with quiet_gguf():
                model = AutoModelForCausalLM.from_pretrained(model_path, dtype=dtype, **model_gguf, **kwargs)
        except (OSError, ValueError) as err:
            raise UsageError(f"cannot load the model from {spec.path}: {err}".splitlines()[0],
                             hint="check --hf-path (a local Hugging Face folder or a .gguf file) and --model-kwargs") from None
        model.eval()
        if tokenizer.pad_token_id is None:
            gen_pad = getattr(model.generation_config, "pad_token_id", None)
            tokenizer.pad_token_id = gen_pad if gen_pad is not None else tokenizer.eos_token_id
        return cls(spec, model, tokenizer, prefix_cache=prefix_cache, token_budget=token_budget, warn=warn,
                   load_seconds=time.perf_counter() - started, packed=packed)

    # -- protocol ---------------------------------------------------------------------
    def encode(self, prompt: Any, *, generation: bool) -> Tokens:
        """A string is tokenised with special tokens (base); a message list goes through the chat template.

        Results are memoised: the prompt counted for truncation is the one sent, tokenised once.
        """
        key = (prompt if isinstance(prompt, str) else repr(prompt), generation)
        hit = self._encoded.get(key)
        if hit is None:
            hit = self._encode(prompt, generation=generation)
            if len(self._encoded) >= ENCODE_CACHE_SIZE:
                self._encoded.pop(next(iter(self._encoded)))
            self._encoded[key] = hit
        return hit

    def _encode(self, prompt: Any, *, generation: bool) -> Tokens:
        return encode_prompt(self.tokenizer, prompt, generation=generation, model=self.name)

    def count_tokens(self, prompt: Any, *, generation: bool) -> int:
        """OpenCompass's count: the prompt's token ids, special tokens included."""
        return len(self.encode(prompt, generation=generation))

    def decode(self, tokens: Sequence[int]) -> str:
        """Token ids to text, special tokens removed."""
        return self.tokenizer.decode(list(tokens), skip_special_tokens=True)

    def score(self, requests: Sequence[ScoreRequest], progress: ProgressFn | None = None, *,
              need_total: bool = True, batch_size: int | None = None) -> Iterator[list[ScoreResult]]:
        """Candidate scores; ``need_total=False`` (choice mode) skips the whole-sequence losses."""
        scorer = self.scorer_full if need_total else self.scorer_last
        with self._torch.inference_mode():
            yield from scorer.score(requests, need_total=need_total, progress=progress, batch_size=batch_size)

    def generate(self, requests: Sequence[GenRequest], progress: ProgressFn | None = None, *,
                 batch_size: int | None = None) -> Iterator[list[GenResult]]:
        """Greedy generations."""
        with self._torch.inference_mode():
            yield from self.generator.generate(requests, progress=progress, batch_size=batch_size)

    def describe(self) -> dict[str, Any]:
        """Facts for the manifest."""
        m = self.model
        return {
            "abbr": self.name,
            "path": self.spec.path,
            "class": type(m).__name__,
            "dtype": str(self.fw.dtype).replace("torch.", ""),
            "device": str(self.fw.device),
            "parameters": int(sum(p.numel() for p in m.parameters())),
            "attn_implementation": getattr(m.config, "_attn_implementation", None),
            "prefix_cache": self.scorer_full.prefix_cache,
            "packed_attention": self.fw.packed is not None,
            "load_seconds": round(self.load_seconds, 2),
        }

    def token_counts(self) -> dict[str, int]:
        """What the forward passes have processed so far (:class:`~toolkit.models.hf_forward.TokenCounts`):
        shared prefix tokens computed once, the requests' own tokens on top, padding and decode steps."""
        return dict(vars(self.fw.counts))

    def close(self) -> None:
        """Drop the model and free GPU memory."""
        self.model = None
        if self._torch.cuda.is_available():
            self._torch.cuda.empty_cache()

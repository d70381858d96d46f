"""Random-weight Llama-shaped models built from configs, and the arithmetic of their forward passes.

No weights travel to the GPU machine: each model is built there from a config (the demo
model's tokenizer gives the vocabulary and special tokens) and initialised at random.
Timing does not depend on the weights' values, but agreement checks do: with the default
initialisation (std 0.02) every question gets the same answer (the last token dominates
the last position), so every matrix is scaled by ``scale`` (8 by default), which makes the
answers depend on the question, as in ``tests/tiny_model.py``.

FLOPs follow the usual count: 2 per multiply-add of the weight matrices for every
processed token, plus attention (QKᵀ and AV: 4 × layers × heads × head_dim per
query-key pair), plus the vocabulary projection for every position whose logits are
computed. Padding is not counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

H200_BF16_FLOPS = 790e12
"""An 8192³ bf16 matrix product through PyTorch on this workplace's H200 (KINDS.md): the MFU ceiling."""

SHAPES: Mapping[str, Mapping[str, Any]] = {
    # Llama-3.2-1B's shape (tied embeddings); with the demo tokenizer's 49,152-token vocabulary: 1.07 B parameters
    "1b": {"hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32,
           "num_key_value_heads": 8, "head_dim": 64, "tie_word_embeddings": True},
    # Llama-3.1-8B's shape; with the demo vocabulary: 7.4 B parameters
    "8b": {"hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32,
           "num_key_value_heads": 8, "head_dim": 128, "tie_word_embeddings": False},
    # the --smoke stand-ins for the two (CPU, seconds)
    "smoke-1b": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
                 "num_key_value_heads": 2, "head_dim": 16, "tie_word_embeddings": True},
    "smoke-8b": {"hidden_size": 96, "intermediate_size": 192, "num_hidden_layers": 3, "num_attention_heads": 4,
                 "num_key_value_heads": 2, "head_dim": 24, "tie_word_embeddings": False},
}


@dataclass(frozen=True)
class Shape:
    """What the FLOP count needs from a config."""

    hidden: int
    intermediate: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    tied: bool

    @classmethod
    def of(cls, name: str, vocab: int) -> Shape:
        s = SHAPES[name]
        return cls(s["hidden_size"], s["intermediate_size"], s["num_hidden_layers"], s["num_attention_heads"],
                   s["num_key_value_heads"], s["head_dim"], vocab, bool(s["tie_word_embeddings"]))

    @property
    def matmul_params(self) -> int:
        """Weights every token multiplies (attention and MLP projections; no embeddings, no norms)."""
        attn = self.hidden * self.heads * self.head_dim * 2 + self.hidden * self.kv_heads * self.head_dim * 2
        return self.layers * (attn + 3 * self.hidden * self.intermediate)

    @property
    def parameters(self) -> int:
        """All weights (norms included)."""
        embeddings = self.vocab * self.hidden * (1 if self.tied else 2)
        norms = self.hidden * (2 * self.layers + 1)
        return self.matmul_params + embeddings + norms

    def flops(self, tokens: int, pairs: int, logit_rows: int) -> float:
        """FLOPs of a forward pass over ``tokens`` new tokens that attend ``pairs`` (query, key) pairs in
        all, with the vocabulary projection at ``logit_rows`` positions.

        Example (weights 2·144·3, attention 4·1·2·2·6, vocabulary 2·4·10):
            >>> Shape(4, 8, 1, 2, 1, 2, 10, True).flops(tokens=3, pairs=6, logit_rows=1)
            1040.0
        """
        return float(2 * self.matmul_params * tokens + 4 * self.layers * self.heads * self.head_dim * pairs
                     + 2 * self.hidden * self.vocab * logit_rows)


def causal_pairs(context: int, new: int) -> int:
    """(query, key) pairs of ``new`` tokens after ``context`` cached ones, each seeing itself and all before it.

    Example:
        >>> causal_pairs(10, 3)  # 11 + 12 + 13
        36
    """
    return new * context + new * (new + 1) // 2


def build_model(name: str, tokenizer: Any, *, device: str, dtype: Any, seed: int = 0, scale: float = 8.0) -> Any:
    """A random ``LlamaForCausalLM`` of shape ``name``, built directly on ``device`` in ``dtype``, every
    matrix multiplied by ``scale``, in eval mode."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig

    shape = dict(SHAPES[name])
    eos = tokenizer.eos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    config = LlamaConfig(vocab_size=len(tokenizer), max_position_embeddings=8192, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=eos, pad_token_id=pad, **shape)
    torch.manual_seed(seed)
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(config, dtype=dtype, attn_implementation="sdpa")
    with torch.no_grad():
        for param in model.parameters():
            if param.dim() > 1:
                param.mul_(scale)
    return model.eval()


def gpu_memory() -> dict[str, Any] | None:
    """The GPU's name and memory as torch sees it (None without CUDA)."""
    import torch

    if not torch.cuda.is_available():
        return None
    props = torch.cuda.get_device_properties(0)
    free, total = torch.cuda.mem_get_info(0)
    return {"name": props.name, "total_bytes": int(total), "free_bytes": int(free),
            "capability": f"{props.major}.{props.minor}", "multiprocessors": props.multi_processor_count}

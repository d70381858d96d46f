"""Before a run writes anything: every model's backend can run here, or one clear error.

* A model behind an API (``api``): the key variable it names is set; in ``choice`` or ``ppl``
  mode the server must give prompt log-probabilities — refused at once for hosted chat
  APIs, else asked with one small probe request (:meth:`toolkit.models.api.ApiModel.check_mode`),
  before any question is sent.
* ``vllm``: vLLM imports in the Python that runs its tasks (:func:`vllm_python`: ``--vllm-python``,
  else ``$TOOLKIT_VLLM_PYTHON``, else this Python).

And one hint (:func:`vllm_suggestion`): a run of the HF backend far past the number of
questions at which the vLLM backend finishes first (its load time included), where vLLM is
installed, gets one line suggesting ``--backend vllm``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Collection
from pathlib import Path

from toolkit.engine.spec import EvalRunSpec
from toolkit.errors import UsageError
from toolkit.models import model_backend

VLLM_PYTHON_ENV = "TOOLKIT_VLLM_PYTHON"
VLLM_CROSSOVER = 2682
"""Questions per model past which ``--backend vllm`` finishes before the HF backend, load included: measured by
bench/api_bench.py (bench/results/api_bench.json, ``crossover``) on a 2-core CPU, the demo model, 5-shot C-Eval
choice: vLLM starts in ~82 s against ~5 s and then saves only 0.03 s a question on these short prompts (in gen
it saved nothing there). On long prompts vLLM's per-token lead is larger (issue 14: 2.2-2.4x) and it wins sooner."""
VLLM_SUGGEST_FACTOR = 3
"""The hint is given from this many times :data:`VLLM_CROSSOVER` questions ("far past" it)."""
VLLM_HINT = f'pip install -e ".[vllm]", or point --vllm-python (or ${VLLM_PYTHON_ENV}) at a Python that has vLLM'


def vllm_python(spec: EvalRunSpec | None = None) -> str:
    """The interpreter of ``vllm`` tasks."""
    return (spec.vllm_python if spec is not None else None) or os.environ.get(VLLM_PYTHON_ENV) or sys.executable


def toolkit_root() -> str:
    """The folder holding the ``toolkit`` package (put on another Python's path, so it runs this code)."""
    return str(Path(__file__).resolve().parents[2])


def check_backends(spec: EvalRunSpec, abbrs: Collection[str]) -> None:
    """Raise a UsageError when a model of ``abbrs`` (the ones this run loads) cannot run."""
    modes = {spec.infer_mode or d.infer.inferencer.kind for d in spec.datasets}
    checked_vllm = False
    for model in spec.models:
        if model.abbr not in abbrs:
            continue
        backend = model_backend(model, spec.backend)
        if backend == "api":
            _check_api(model, modes)
        elif backend == "vllm" and not checked_vllm:
            check_vllm(spec)
            checked_vllm = True


def _check_api(model: object, modes: Collection[str]) -> None:
    from toolkit.models.api import ApiModel

    api = ApiModel.load(model)  # reads the key: a named variable that is unset is an error here
    for mode in sorted(modes):
        api.check_mode(mode)


def check_vllm(spec: EvalRunSpec) -> None:
    """VLLM must import in the Python that runs the ``vllm`` tasks (checked without importing it)."""
    python = vllm_python(spec)
    if spec.debug and Path(python).resolve() != Path(sys.executable).resolve():
        raise UsageError(f"--debug runs every task in this process, but vLLM's tasks run with {python}",
                         hint=f"drop --debug, or unset {VLLM_PYTHON_ENV} in a Python that has vLLM")
    probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('vllm') is None)"
    try:
        found = subprocess.run([python, "-c", probe], capture_output=True, timeout=120).returncode == 0
    except (OSError, subprocess.TimeoutExpired) as err:
        raise UsageError(f"cannot run {python} for the vLLM backend ({err})", hint=VLLM_HINT) from None
    if not found:
        where = "this Python" if python == sys.executable else python
        raise UsageError(f"the vLLM backend needs vLLM, which is not installed in {where}", hint=VLLM_HINT)


def vllm_installed(spec: EvalRunSpec) -> bool:
    """VLLM is found (not imported) in this Python, or in the one ``--vllm-python`` / ``$TOOLKIT_VLLM_PYTHON`` names."""
    import importlib.util

    if importlib.util.find_spec("vllm") is not None:
        return True
    python = vllm_python(spec)
    if python == sys.executable:
        return False
    probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('vllm') is None)"
    try:
        return subprocess.run([python, "-c", probe], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def vllm_suggestion(spec: EvalRunSpec, questions: int) -> str | None:
    """One line suggesting ``--backend vllm`` when HF-backend models each face ``questions`` questions, far past
    :data:`VLLM_CROSSOVER`, and vLLM is installed; else None."""
    if spec.mode not in ("all", "infer") or questions < VLLM_SUGGEST_FACTOR * VLLM_CROSSOVER:
        return None
    if not any(model_backend(m, spec.backend) == "hf" for m in spec.models) or not vllm_installed(spec):
        return None
    return (f"hint: {questions} questions per model; vLLM is installed and, its load time included, finishes "
            f"first past about {VLLM_CROSSOVER} questions (measured on a 2-core CPU): try --backend vllm")

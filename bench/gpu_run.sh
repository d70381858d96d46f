#!/usr/bin/env bash
# The GPU machine's side of bench/gpu_check.py, run from the repository root with .gpu/ carried
# (bench/gpu_prep.py fills it here and prints this call):
#
#   bash bench/gpu_run.sh [gpu_check.py options…]
#
# No network there: the carried wheels are installed with --no-index --no-deps into $SITE (/tmp/site; never
# over the image's torch or transformers), this checkout's toolkit is imported from the tree (no
# install), and everything lands in $OUT: gpu_check.json, gpu_check.md, gpu_check.log, env.txt.
set -uo pipefail
OUT="${OUT:-$PWD/gpu-check-out}"
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
PY="${PYTHON:-python3}"
SITE="${SITE:-/tmp/site}"
{
  date -u +"%Y-%m-%dT%H:%M:%SZ"
  nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,clocks.sm,clocks.mem --format=csv 2>&1
} >"$OUT/env.txt"
if compgen -G ".gpu/wheels/*.whl" >/dev/null; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" \
    --find-links .gpu/wheels .gpu/wheels/*.whl >>"$OUT/env.txt" 2>&1 || echo "wheel install failed (see above)" >>"$OUT/env.txt"
  export PYTHONPATH="$SITE"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
"$PY" - >>"$OUT/env.txt" 2>&1 <<'PYEOF'
import importlib, sys
import torch, transformers
print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.cuda.is_available(),
      "transformers", transformers.__version__)
for name in ("pandera", "openpyxl", "gguf", "charset_normalizer", "jinja2", "yaml", "accelerate", "toolkit"):
    try:
        module = importlib.import_module(name)
        print(name, getattr(module, "__version__", "?"), "from", getattr(module, "__file__", "?"))
    except Exception as err:  # noqa: BLE001 - a report line, not a failure: the check needs none of the optional ones
        print(name, "NOT IMPORTABLE:", type(err).__name__, err)
PYEOF
"$PY" bench/gpu_check.py --out "$OUT" "$@" 2>&1 | tee "$OUT/gpu_check.log"
exit "${PIPESTATUS[0]}"

#!/usr/bin/env bash
# Run our generated config for the example dataset through REAL OpenCompass, end to end (not CI).
#
#   bash bench/opencompass_e2e.sh            # gen config (about 2–6 minutes on 2 CPU cores, plus a one-time install)
#   MODES="gen ppl" bash bench/opencompass_e2e.sh
#
# 1. installs opencompass 0.5.4 in its own venv ($TOOLKIT_PEERS_DIR/opencompass, default /work/peers/opencompass):
#    torch==2.13.0 first, then opencompass with transformers==4.57.6 and pyarrow<26 (see ../shared/reference/peers.md);
# 2. copies examples/chinese_core_socialist_values to a temp folder, runs `toolkit validate --fix` on the copy,
#    then `toolkit gen-config` on it;
# 3. runs `opencompass --datasets chinese_core_socialist_values_<mode> --config-dir … --hf-type base --hf-path <demo model>
#    --max-seq-len 1024 --max-out-len 16 --batch-size 2 --hf-num-gpus 0 --debug -w OUT` and prints OpenCompass's summary.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${TOOLKIT_PYTHON:-$(command -v python)}"          # the python that has toolkit installed
TOOLKIT=("$PY" -m toolkit)
PEERS="${TOOLKIT_PEERS_DIR:-/work/peers}"
VENV="$PEERS/opencompass"
MODEL="${DEMO_MODEL:-$HOME/.cache/toolkit/models/SmolLM2-135M-Instruct}"
MODES="${MODES:-gen}"
THREADS="${THREADS:-2}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/oc-e2e.XXXXXX")"
NAME=chinese_core_socialist_values

if ! "$VENV/bin/python" -c "import importlib.metadata as m; assert m.version('opencompass') == '0.5.4'" 2>/dev/null; then
    echo "installing opencompass 0.5.4 into $VENV …" >&2
    "$PY" -m venv "$VENV"
    "$VENV/bin/pip" install -q torch==2.13.0
    "$VENV/bin/pip" install -q opencompass==0.5.4 transformers==4.57.6 "pyarrow<26"
fi
[ -d "$MODEL" ] || "${TOOLKIT[@]}" demo-model >&2

cp -r "$REPO/examples/$NAME" "$WORK/$NAME"
echo "== toolkit validate --fix (on the copy in $WORK)" >&2
"${TOOLKIT[@]}" validate "$WORK/$NAME" --fix >&2 || true      # warnings may remain; errors would stop gen-config
echo "== toolkit gen-config" >&2
"${TOOLKIT[@]}" gen-config "$WORK/$NAME" --out "$WORK/configs/datasets/$NAME" --abs-path >&2
ls "$WORK/configs/datasets/$NAME" >&2

export OMP_NUM_THREADS="$THREADS" MKL_NUM_THREADS="$THREADS" CUDA_VISIBLE_DEVICES="" HF_HUB_OFFLINE=1 \
       HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
for MODE in $MODES; do
    echo "== opencompass --datasets ${NAME}_$MODE (log: $WORK/opencompass_$MODE.log)" >&2
    start=$(date +%s)
    (cd "$WORK" && "$VENV/bin/opencompass" --datasets "${NAME}_$MODE" --config-dir "$WORK/configs" --hf-type base \
        --hf-path "$MODEL" --max-seq-len 1024 --max-out-len 16 --batch-size 2 --hf-num-gpus 0 --debug \
        -w "$WORK/out_$MODE") > "$WORK/opencompass_$MODE.log" 2>&1 || { tail -40 "$WORK/opencompass_$MODE.log"; exit 1; }
    summary=$(ls "$WORK"/out_"$MODE"/*/summary/summary_*.txt | tail -1)
    echo "== OpenCompass $(date -u +%Y-%m-%d) ${NAME}_$MODE: $(( $(date +%s) - start )) s wall; summary $summary"
    awk '/^dataset/{p=1} /^\$/{if (p) exit} p' "$summary"     # OpenCompass's own table (its tabulate block)
done
echo "work folder: $WORK" >&2

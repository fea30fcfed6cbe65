#!/usr/bin/env bash
# Does door-lock's success detection depend on how long the one-shot adaptation runs? The shipped
# GRM adapted from the same door-lock demo for 50, 150 (grm-adapt's default), 300 and 600 steps,
# scored on the same 20 held-out episodes; no plots, so the committed ones stay.
# Run scripts/make_pretrained_grm.sh first (it makes data/heldout). ~2 min per setting on 2 cores.
# Sizes and places (scripts/common.sh): OUT roots every file written (default: the repository);
# COLLECT_ARGS, TRAIN_ARGS and EVAL_ARGS are appended to every grm-collect, grm-train and
# grm_heldout.py command, so tests/test_scripts.py runs this script on a tiny budget.
set -euo pipefail
source "$(dirname "$0")/common.sh"
for steps in 50 150 300 600; do
  heldout --tasks door-lock-v3 --adapt-steps "$steps" --perspectives fused incremental --plots '' \
    --out "$OUT/benchmarks/results/adapt_steps/door-lock-v3-a$steps.json"
done

#!/usr/bin/env bash
# Multi-embodiment pretraining against Meta-World alone: the Meta-World-only GRM (scripts/common.sh
# meta_world_only, seed 0: the model shipped until 2026-12-04) and the multi-embodiment GRM (the robosuite
# arms' tasks added: envs/tasks.py group `robosuite`, Panda, Sawyer, UR5e and Kinova3 lifting and stacking
# cubes; the IIWA arm is held out), zero-shot and one-shot on both held-out groups (docs/grm.md "Other robots").
# Run scripts/make_pretrained_grm.sh first (it makes the datasets and seed 1's model, the shipped one).
# About 25 min of training per model and 25 min of evaluation on 2 cores.
# Sizes and places (scripts/common.sh): OUT roots every file written (default: the repository);
# COLLECT_ARGS, TRAIN_ARGS and EVAL_ARGS are appended to every grm-collect, grm-train and
# grm_heldout.py command, so tests/test_scripts.py runs this script on a tiny budget.
# SEED (default 0) is the training seed: another seed trains runs/grm-mt40-robosuite-seedN and writes
# benchmarks/results/grm_multi_embodiment-seedN.json. Fused progress is scored both ways, the median (the
# default) and the mean (the paper's; the seed-0 table holds only the mean). The committed tables name the
# Meta-World-only model grm_mt40 (they were written while it shipped under that name).
set -euo pipefail
source "$(dirname "$0")/common.sh"
SEED=${SEED:-0}
SUFFIX=$([[ $SEED == 0 ]] || echo "-seed$SEED")
pretrain "$META_WORLD_ONLY" 0 "$OUT/runs/grm-retract"
pretrain "$MULTI_EMBODIMENT" "$SEED" "$OUT/runs/grm-mt40-robosuite$SUFFIX"
heldout --tasks held_out robosuite_held_out --perspectives fused mean incremental forward backward \
  --variants "$OUT/runs/grm-retract/grm.pt" "$OUT/runs/grm-mt40-robosuite$SUFFIX/grm.pt" --out "$OUT/benchmarks/results/grm_multi_embodiment$SUFFIX.json"

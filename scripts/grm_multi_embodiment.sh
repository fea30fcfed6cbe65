#!/usr/bin/env bash
# Multi-embodiment pretraining: the shipped recipe (data/pretrain-retract, 1600 steps, seed 0) with the
# robosuite arms' tasks added (envs/tasks.py group `robosuite`: Panda, Sawyer, UR5e and Kinova3 lifting
# and stacking cubes; the IIWA arm is held out), then zero-shot and one-shot on both held-out groups
# beside the shipped Meta-World-only model (docs/grm.md "Other robots").
# Run scripts/make_pretrained_grm.sh first (it makes data/pretrain-retract, data/heldout and
# data/heldout-embodiment). About 5 min of collection, 25 min of training and 25 min of evaluation on 2 cores.
# Sizes and places (scripts/common.sh): OUT roots every file written (default: the repository);
# COLLECT_ARGS, TRAIN_ARGS and EVAL_ARGS are appended to every grm-collect, grm-train and
# grm_heldout.py command, so tests/test_scripts.py runs this script on a tiny budget.
# SEED (default 0) is the training seed: another seed trains runs/grm-mt40-robosuite-seedN and writes
# benchmarks/results/grm_multi_embodiment-seedN.json (its robosuite data is the same). Fused progress is
# scored both ways, the median (the default) and the mean (the paper's; the seed-0 table holds only the mean).
set -euo pipefail
source "$(dirname "$0")/common.sh"
SEED=${SEED:-0}
SUFFIX=$([[ $SEED == 0 ]] || echo "-seed$SEED")
# 8 robosuite tasks x the Meta-World recipe's kinds and counts
collect task=robosuite "${PRETRAIN_KINDS[@]}" "${RETRACT[@]}" out="$OUT/data/pretrain-robosuite"
train datasets="[$OUT/data/pretrain-retract,$OUT/data/pretrain-robosuite]" steps=1600 batch_size=16 seed="$SEED" \
  sampler.post_success_share=0.25 out="$OUT/runs/grm-mt40-robosuite$SUFFIX"
heldout --tasks held_out robosuite_held_out --perspectives fused mean incremental forward backward \
  --variants "$OUT/grm/pretrained/grm_mt40.pt" "$OUT/runs/grm-mt40-robosuite$SUFFIX/grm.pt" --out "$OUT/benchmarks/results/grm_multi_embodiment$SUFFIX.json"

#!/usr/bin/env bash
# Multi-embodiment pretraining: the shipped recipe (data/pretrain-retract, 1600 steps, seed 0) with the
# robosuite arms' tasks added (envs/tasks.py group `robosuite`: Panda, Sawyer, UR5e and Kinova3 lifting
# and stacking cubes; the IIWA arm is held out), once as rendered and once with randomized views of
# those arms (camera pose, light, colours per episode: env.randomize), then zero-shot and one-shot on
# both held-out groups beside the shipped Meta-World-only model (docs/grm.md "Other robots").
# Run scripts/make_pretrained_grm.sh first (it makes data/pretrain-retract, data/heldout and
# data/heldout-embodiment). About 15 min of collection, 50 min of training and 30 min of evaluation on 2 cores.
# Sizes and places (scripts/common.sh): OUT roots every file written (default: the repository);
# COLLECT_ARGS, TRAIN_ARGS and EVAL_ARGS are appended to every grm-collect, grm-train and
# grm_heldout.py command, so tests/test_scripts.py runs this script on a tiny budget.
set -euo pipefail
source "$(dirname "$0")/common.sh"
# 8 robosuite tasks x the Meta-World recipe's kinds and counts
KINDS=(episodes=8 failures.noisy=2 failures.early_stop=2 failures.wrong=3 failures.reversed=2 seed=0 env.image_size=64
       rollout.post_success=retract rollout.post_success_steps=40)
collect task=robosuite "${KINDS[@]}" out="$OUT/data/pretrain-robosuite"
collect task=robosuite "${KINDS[@]}" env.randomize.camera_deg=8 env.randomize.camera_m=0.03 env.randomize.light=0.3 \
  env.randomize.color=0.3 out="$OUT/data/pretrain-robosuite-randomized"
for DATA in robosuite robosuite-randomized; do
  train datasets="[$OUT/data/pretrain-retract,$OUT/data/pretrain-$DATA]" steps=1600 batch_size=16 seed=0 \
    sampler.post_success_share=0.25 out="$OUT/runs/grm-mt40-$DATA"
done
heldout --tasks held_out robosuite_held_out --variants "$OUT/grm/pretrained/grm_mt40.pt" \
  "$OUT/runs/grm-mt40-robosuite/grm.pt" "$OUT/runs/grm-mt40-robosuite-randomized/grm.pt" \
  --out "$OUT/benchmarks/results/grm_multi_embodiment.json"

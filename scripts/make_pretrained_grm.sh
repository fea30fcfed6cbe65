#!/usr/bin/env bash
# Rebuild the shipped GRM checkpoint (grm/pretrained/grm_mt40.pt) and its held-out eval data
# from scratch, exactly as shipped. About 27 min of collection and 20 min of training on
# a 2-core CPU. The 10 held-out tasks (envs/tasks.py HELD_OUT) are never seen in pretraining.
# The recipe is docs/grm.md's "Retracted endings in pretraining": every expert, noisy and reversed
# episode ends with the hand returning home (rollout.post_success=retract), and a quarter of
# finished episodes' query frames are drawn after success (sampler.post_success_share=0.25).
# The earlier shipped model (plain endings, the ablation table's baseline) is scripts/grm_ablations.sh's.
# Sizes and places (scripts/common.sh): OUT roots every file written (default: the repository);
# COLLECT_ARGS, TRAIN_ARGS and EVAL_ARGS are appended to every grm-collect, grm-train and
# grm_heldout.py command, so tests/test_scripts.py runs this script on a tiny budget.
set -euo pipefail
source "$(dirname "$0")/common.sh"
# 40 pretraining tasks x (8 expert + 2 noisy + 2 early-stop + 3 wrong + 2 reversed) episodes, 64x64, 3 views
collect task=pretrain "${PRETRAIN_KINDS[@]}" "${RETRACT[@]}" out="$OUT/data/pretrain-retract"
# held-out evaluation data: per task, expert_0000 is the one demo, 10 more experts, 10 failed/perturbed
collect task=held_out "${HELDOUT_KINDS[@]}" out="$OUT/data/heldout"
# the held-out embodiment (envs/tasks.py robosuite_held_out: the IIWA arm), the same kinds and counts
collect task=robosuite_held_out "${HELDOUT_KINDS[@]}" out="$OUT/data/heldout-embodiment"
train datasets="[$OUT/data/pretrain-retract]" steps=1600 batch_size=16 seed=0 sampler.post_success_share=0.25 \
  out="$OUT/runs/grm-retract"
mkdir -p "$OUT/grm/pretrained"
cp "$OUT/runs/grm-retract/grm.pt" "$OUT/grm/pretrained/grm_mt40.pt"

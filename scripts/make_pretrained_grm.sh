#!/usr/bin/env bash
# Rebuild the shipped GRM checkpoint (grm/pretrained/grm_multi_embodiment.pt) and its held-out eval data
# from scratch, exactly as shipped. About 32 min of collection and 25 min of training on a 2-core CPU.
# Never seen in pretraining: the 10 held-out Meta-World tasks (envs/tasks.py HELD_OUT) and the IIWA arm
# (envs/tasks.py robosuite_held_out).
# The recipe (scripts/common.sh pretrain "$MULTI_EMBODIMENT"; docs/grm.md "Other robots"): the 40 Meta-World
# pretraining tasks and 8 robosuite tasks of four other arms (Panda, Sawyer, UR5e, Kinova3 lifting and
# stacking cubes); every expert, noisy and reversed episode ends with the hand returning home
# (rollout.post_success=retract), and a quarter of finished episodes' query frames are drawn after
# success. Training seed 1 of the three measured (scripts/grm_multi_embodiment.sh; why: docs/grm.md).
# The Meta-World-only model shipped before is scripts/common.sh's pretrain "$META_WORLD_ONLY", seed 0.
# Sizes and places (scripts/common.sh): OUT roots every file written (default: the repository);
# COLLECT_ARGS, TRAIN_ARGS and EVAL_ARGS are appended to every grm-collect, grm-train and
# grm_heldout.py command, so tests/test_scripts.py runs this script on a tiny budget.
set -euo pipefail
source "$(dirname "$0")/common.sh"
# 40 pretraining tasks x (8 expert + 2 noisy + 2 early-stop + 3 wrong + 2 reversed) episodes, 64x64, 3 views
collect task=pretrain "${PRETRAIN_KINDS[@]}" "${RETRACT[@]}" out="$OUT/data/pretrain-retract"
# 8 robosuite tasks (envs/tasks.py group `robosuite`), the same kinds and counts
collect task=robosuite "${PRETRAIN_KINDS[@]}" "${RETRACT[@]}" out="$OUT/data/pretrain-robosuite"
# held-out evaluation data: per task, expert_0000 is the one demo, 10 more experts, 10 failed/perturbed
collect task=held_out "${HELDOUT_KINDS[@]}" out="$OUT/data/heldout"
# the held-out embodiment (envs/tasks.py robosuite_held_out: the IIWA arm), the same kinds and counts
collect task=robosuite_held_out "${HELDOUT_KINDS[@]}" out="$OUT/data/heldout-embodiment"
pretrain "$MULTI_EMBODIMENT" 1 "$OUT/runs/grm-mt40-robosuite-seed1"
mkdir -p "$OUT/grm/pretrained"
cp "$OUT/runs/grm-mt40-robosuite-seed1/grm.pt" "$OUT/grm/pretrained/grm_multi_embodiment.pt"

#!/usr/bin/env bash
# The retracted-endings experiment (docs/grm.md, "Retracted endings in pretraining"): the plain-endings recipe
# (the baseline in scripts/grm_ablations.sh) with every pretraining expert, noisy and reversed episode ending
# in the hand's return home (rollout.post_success=retract, 40 steps) and a quarter of finished
# episodes' query frames drawn after success (sampler.post_success_share=0.25), two training seeds;
# evaluated on the unchanged held-out data (expert_0000 the one demo, as for the shipped model), and
# with each task's demo recollected at the same placement ending retracted (--demos).
# ~25 min collection, ~20 min training per seed, ~15 min per evaluation on this 2-core CPU.
# TASKS_A and TASKS_B: the held-out tasks split over two processes (one per core).
# Sizes and places (scripts/common.sh): OUT roots every file written (default: the repository);
# COLLECT_ARGS, TRAIN_ARGS and EVAL_ARGS are appended to every grm-collect, grm-train and
# grm_heldout.py command, so tests/test_scripts.py runs this script on a tiny budget.
set -euo pipefail
source "$(dirname "$0")/common.sh"
meta_world_halves
TMP="$OUT/runs/retract-tables"
mkdir -p "$TMP"
collect task=pretrain "${PRETRAIN_KINDS[@]}" "${RETRACT[@]}" out="$OUT/data/pretrain-retract"
collect task=held_out "${HELDOUT_KINDS[@]}" out="$OUT/data/heldout"
collect task=held_out episodes=1 seed=1000 env.image_size=64 "${RETRACT[@]}" out="$OUT/data/heldout-demo-retract"
for S in 0 1; do
  RUN=$OUT/runs/grm-retract$([ $S = 0 ] || echo -s$S)
  P=(fused incremental forward backward); [ $S = 0 ] || P=(fused incremental)  # seed 1: the two rows compared
  pretrain "$META_WORLD_ONLY" "$S" "$RUN"
  heldout_halves "$TMP/s$S" --variants "$RUN/grm.pt" --perspectives "${P[@]}"
done
# the same seed-0 model adapted from demos that end retracted (a copy, so its plots and cache stay apart)
mkdir -p "$OUT/runs/grm-retract-rdemo" && cp "$OUT/runs/grm-retract/grm.pt" "$OUT/runs/grm-retract-rdemo/grm.pt"
heldout_halves "$TMP/rdemo" --variants "$OUT/runs/grm-retract-rdemo/grm.pt" --demos "$OUT/data/heldout-demo-retract"
heldout --merge "$TMP"/s0-{a,b}.json "$TMP"/s1-{a,b}.json "$TMP"/rdemo-{a,b}.json \
  --out "$OUT/benchmarks/results/grm_heldout_retract.json"

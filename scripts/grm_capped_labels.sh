#!/usr/bin/env bash
# The capped-failure-label experiment (docs/grm_experiments.md, "Capped failure labels"): the plain-endings recipe
# (the baseline in scripts/grm_ablations.sh) with rollout.cap_unfinished=true for every collected episode,
# then the held-out benchmark on held-out data labelled the same way. ~12 + 12 min collection,
# ~25 min training, ~30 min of one-shot adaptations on this 2-core CPU.
# Sizes and places (scripts/common.sh): OUT roots every file written (default: the repository);
# COLLECT_ARGS, TRAIN_ARGS and EVAL_ARGS are appended to every grm-collect, grm-train and
# grm_heldout.py command, so tests/test_scripts.py runs this script on a tiny budget.
set -euo pipefail
source "$(dirname "$0")/common.sh"
collect task=pretrain "${PRETRAIN_KINDS[@]}" rollout.cap_unfinished=true out="$OUT/data/pretrain-capped"
collect task=held_out "${HELDOUT_KINDS[@]}" rollout.cap_unfinished=true out="$OUT/data/heldout-capped"
train datasets="[$OUT/data/pretrain-capped]" steps=1600 batch_size=16 seed=0 out="$OUT/runs/grm-capped"
heldout --dataset "$OUT/data/heldout-capped" --variants "$OUT/runs/grm-capped/grm.pt" \
  --perspectives fused incremental forward backward guarded --out "$OUT/benchmarks/results/grm_heldout_capped_labels.json"

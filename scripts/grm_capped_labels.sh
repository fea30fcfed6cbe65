#!/usr/bin/env bash
# The capped-failure-label experiment (docs/grm_experiments.md, "Capped failure labels"): the plain-endings recipe
# (the baseline in scripts/grm_ablations.sh) with rollout.cap_unfinished=true for every collected episode,
# then the held-out benchmark on held-out data labelled the same way. ~12 + 12 min collection,
# ~25 min training, ~30 min of one-shot adaptations on this 2-core CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
$BIN/grm-collect task=pretrain episodes=8 failures.noisy=2 failures.early_stop=2 failures.wrong=3 \
  failures.reversed=2 seed=0 env.image_size=64 rollout.cap_unfinished=true out=data/pretrain-capped
$BIN/grm-collect task=held_out episodes=11 failures.noisy=2 failures.early_stop=3 failures.wrong=3 \
  failures.reversed=2 seed=1000 env.image_size=64 rollout.cap_unfinished=true out=data/heldout-capped
$BIN/grm-train datasets=[data/pretrain-capped] steps=1600 batch_size=16 seed=0 out=runs/grm-capped
$BIN/python benchmarks/grm_heldout.py --dataset data/heldout-capped --variants runs/grm-capped/grm.pt \
  --perspectives fused incremental forward backward guarded --out benchmarks/results/grm_heldout_capped_labels.json

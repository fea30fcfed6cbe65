#!/usr/bin/env bash
# The GRM ablation table: same data (data/pretrain, plain endings), same budget and seed, one change
# each; then zero-shot and one-shot on the held-out tasks. Its baseline is the plain-endings model
# (runs/grm-pretrain, shipped until the retracted-endings recipe replaced it; docs/grm.md "Ablations").
# Run scripts/make_pretrained_grm.sh first (it makes data/heldout).
# Sizes and places (scripts/common.sh): OUT roots every file written (default: the repository);
# COLLECT_ARGS, TRAIN_ARGS and EVAL_ARGS are appended to every grm-collect, grm-train and
# grm_heldout.py command, so tests/test_scripts.py runs this script on a tiny budget.
set -euo pipefail
source "$(dirname "$0")/common.sh"
collect task=pretrain "${PRETRAIN_KINDS[@]}" out="$OUT/data/pretrain"
train datasets="[$OUT/data/pretrain]" steps=1600 batch_size=16 seed=0 out="$OUT/runs/grm-pretrain"
train datasets="[$OUT/data/pretrain]" steps=1600 batch_size=16 seed=0 threads=1 cameras=[corner] \
  out="$OUT/runs/ablate-single-view"
train datasets="[$OUT/data/pretrain]" steps=1600 batch_size=16 seed=0 threads=1 model.head=regression \
  out="$OUT/runs/ablate-regression"
# the baseline's rows (committed under the name grm_mt40, from when it was the shipped checkpoint)
heldout --variants "$OUT/runs/grm-pretrain/grm.pt" --out "$OUT/benchmarks/results/grm_heldout_plain.json"
heldout --variants "$OUT/runs/grm-pretrain/grm.pt" --perspectives guarded \
  --out "$OUT/benchmarks/results/grm_guard_plain.json"
heldout --perspectives fused --variants "$OUT/runs/ablate-single-view/grm.pt" "$OUT/runs/ablate-regression/grm.pt" \
  --out "$OUT/benchmarks/results/grm_ablations.json"

#!/usr/bin/env bash
# The GRM ablation table: same data (data/pretrain), same budget and seed as the shipped
# checkpoint, one change each; then zero-shot and one-shot on the held-out tasks.
# Run scripts/make_pretrained_grm.sh first (it makes the data and the multi-view/bins model).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
$BIN/grm-train datasets=[data/pretrain] steps=1600 batch_size=16 seed=0 threads=1 cameras=[corner] out=runs/ablate-single-view
$BIN/grm-train datasets=[data/pretrain] steps=1600 batch_size=16 seed=0 threads=1 model.head=regression out=runs/ablate-regression
$BIN/python benchmarks/grm_heldout.py --perspectives fused \
  --variants runs/ablate-single-view/grm.pt runs/ablate-regression/grm.pt --out benchmarks/results/grm_ablations.json

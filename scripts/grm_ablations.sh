#!/usr/bin/env bash
# The GRM ablation table: same data (data/pretrain, plain endings), same budget and seed, one change
# each; then zero-shot and one-shot on the held-out tasks. Its baseline is the plain-endings model
# (runs/grm-pretrain, shipped until the retracted-endings recipe replaced it; docs/grm.md "Ablations").
# Run scripts/make_pretrained_grm.sh first (it makes data/heldout).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
$BIN/grm-collect task=pretrain episodes=8 failures.noisy=2 failures.early_stop=2 failures.wrong=3 \
  failures.reversed=2 seed=0 env.image_size=64 out=data/pretrain
$BIN/grm-train datasets=[data/pretrain] steps=1600 batch_size=16 seed=0 out=runs/grm-pretrain
$BIN/grm-train datasets=[data/pretrain] steps=1600 batch_size=16 seed=0 threads=1 cameras=[corner] out=runs/ablate-single-view
$BIN/grm-train datasets=[data/pretrain] steps=1600 batch_size=16 seed=0 threads=1 model.head=regression out=runs/ablate-regression
# the baseline's rows (committed under the name grm_mt40, from when it was the shipped checkpoint)
$BIN/python benchmarks/grm_heldout.py --variants runs/grm-pretrain/grm.pt --out benchmarks/results/grm_heldout_plain.json
$BIN/python benchmarks/grm_heldout.py --variants runs/grm-pretrain/grm.pt --perspectives guarded \
  --out benchmarks/results/grm_guard_plain.json
$BIN/python benchmarks/grm_heldout.py --perspectives fused \
  --variants runs/ablate-single-view/grm.pt runs/ablate-regression/grm.pt --out benchmarks/results/grm_ablations.json

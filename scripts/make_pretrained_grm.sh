#!/usr/bin/env bash
# Rebuild the shipped GRM checkpoint (grm/pretrained/grm_mt40.pt) and its held-out eval data
# from scratch, exactly as shipped. About 15 min of collection and 15 min of training on
# a 2-core CPU. The 10 held-out tasks (envs/tasks.py HELD_OUT) are never seen in pretraining.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
# 40 pretraining tasks x (8 expert + 2 noisy + 2 early-stop + 3 wrong + 2 reversed) episodes, 64x64, 3 views
$BIN/grm-collect task=pretrain episodes=8 failures.noisy=2 failures.early_stop=2 failures.wrong=3 \
  failures.reversed=2 seed=0 env.image_size=64 out=data/pretrain
# held-out evaluation data: per task, expert_0000 is the one demo, 10 more experts, 10 failed/perturbed
$BIN/grm-collect task=held_out episodes=11 failures.noisy=2 failures.early_stop=3 failures.wrong=3 \
  failures.reversed=2 seed=1000 env.image_size=64 out=data/heldout
$BIN/grm-train datasets=[data/pretrain] steps=1600 batch_size=16 seed=0 out=runs/grm-pretrain
mkdir -p grm/pretrained
cp runs/grm-pretrain/grm.pt grm/pretrained/grm_mt40.pt

#!/usr/bin/env bash
# The visual trunk, chosen by measurement: the Meta-World-only recipe (scripts/common.sh pretrain "$META_WORLD_ONLY",
# seed 0: the model shipped when this was measured) with the view encoder's from-scratch CNN replaced by
# EfficientNet-Lite0's first 11 blocks, ImageNet weights frozen (model.trunk=efficientnet_lite0,
# grm/efficientnet_lite.py), at the datasets' 64 px; then zero-shot and one-shot on both held-out groups
# beside the same recipe with the CNN (docs/grm.md "The visual trunk"). Run scripts/make_pretrained_grm.sh
# first. About 25 min of training per model (two DDP processes) and 20 min of evaluation (two halves) on 2 cores.
# Sizes and places: scripts/common.sh; NPROC processes train (default 2), TASKS_A / TASKS_B split the evaluation.
set -euo pipefail
source "$(dirname "$0")/common.sh"
TMP="$OUT/runs/trunk-tables"
mkdir -p "$TMP"
"$BIN/torchrun" --nproc_per_node "${NPROC:-2}" --master_addr 127.0.0.1 --master_port "${MASTER_PORT:-29517}" \
  -m grm.cli.train datasets="$META_WORLD_ONLY" "${GRM_RECIPE[@]}" seed=0 model.trunk=efficientnet_lite0 threads=1 out="$OUT/runs/grm-retract-effnet" "${_TRAIN[@]}"
pretrain "$META_WORLD_ONLY" 0 "$OUT/runs/grm-retract"
heldout_halves "$TMP/trunk" --variants "$OUT/runs/grm-retract/grm.pt" "$OUT/runs/grm-retract-effnet/grm.pt"
heldout --merge "$TMP"/trunk-{a,b}.json --out "$OUT/benchmarks/results/grm_pretrained_trunk.json"

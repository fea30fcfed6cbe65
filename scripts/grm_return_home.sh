#!/usr/bin/env bash
# Goals that look like the start (docs/grm.md "Return-home tasks"): every held-out Meta-World task
# recollected with its expert, noisy and reversed episodes ending in the hand's return home
# (rollout.post_success=retract, 40 steps, kept only while the task stays done), the one demo
# (expert_0000) included, so the success the GRM must read is a frame whose hand is where it began.
# The shipped GRM is adapted from that demo and scored per perspective and fusion rule
# (benchmarks/results/grm_return_home.json; "final_progress_success" is the progress it reads at
# the end of the successes). About 10 min collection and 15 min evaluation on 2 cores.
# Sizes and places: scripts/common.sh (TASKS_A / TASKS_B split the tasks).
set -euo pipefail
source "$(dirname "$0")/common.sh"
meta_world_halves
TMP="$OUT/runs/return-home-tables"
mkdir -p "$TMP"
collect task=held_out "${HELDOUT_KINDS[@]}" "${RETRACT[@]}" out="$OUT/data/heldout-return"
heldout_halves "$TMP/return" --dataset "$OUT/data/heldout-return" --perspectives fused mean incremental forward backward \
  --plots ''
heldout --merge "$TMP"/return-{a,b}.json --out "$OUT/benchmarks/results/grm_return_home.json"

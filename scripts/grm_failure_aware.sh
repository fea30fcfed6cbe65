#!/usr/bin/env bash
# Failure-aware one-shot adaptation: the shipped GRM adapted from each held-out task's one demo plus
# failure episodes made from that demo's own frames (synthetic_failures=2: two each of truncated,
# rewound, reversed and stalled; grm/synthetic_failures.py), scored on the same held-out episodes as
# the plain adaptation, on both held-out groups (docs/grm.md "Failure-aware adaptation"); the plain
# adaptation's figures are the shipped model's rows of benchmarks/results/grm_multi_embodiment.json.
# No plots, so the committed ones stay. Run scripts/make_pretrained_grm.sh first.
# About 35 min on 2 cores (two halves, two RL runs beside them). Sizes and places: scripts/common.sh;
# TASKS_A / TASKS_B split the tasks.
set -euo pipefail
source "$(dirname "$0")/common.sh"
TMP="$OUT/runs/failure-aware-tables"
mkdir -p "$TMP"
heldout_halves "$TMP/failures" --adapt-overrides synthetic_failures=2 --perspectives fused --plots ''
heldout --merge "$TMP"/failures-{a,b}.json --out "$OUT/benchmarks/results/grm_failure_aware.json"

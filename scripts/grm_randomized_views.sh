#!/usr/bin/env bash
# Randomized views in pretraining: scripts/grm_multi_embodiment.sh's recipe with every robosuite
# pretraining episode rendered from a camera turned up to 8 degrees and moved up to 3 cm, its lights
# and the scene's colours scaled by up to 30% (env.randomize.*, drawn per episode). Evaluated beside the
# plain multi-embodiment model on both held-out groups as rendered for pretraining, and on the held-out
# arm seen by randomized cameras (a second held-out set: the IIWA arm, other camera poses, lights and
# colours in every episode, the demo's among them) (docs/grm.md "Other robots").
# Run scripts/make_pretrained_grm.sh and scripts/grm_multi_embodiment.sh first.
# About 8 min of collection, 25 min of training and 30 min of evaluation on 2 cores.
# Sizes and places: scripts/common.sh.
set -euo pipefail
source "$(dirname "$0")/common.sh"
RANDOMIZE=(env.randomize.camera_deg=8 env.randomize.camera_m=0.03 env.randomize.light=0.3 env.randomize.color=0.3)
collect task=robosuite "${PRETRAIN_KINDS[@]}" "${RETRACT[@]}" "${RANDOMIZE[@]}" out="$OUT/data/pretrain-robosuite-randomized"
collect task=robosuite_held_out "${HELDOUT_KINDS[@]}" "${RANDOMIZE[@]}" out="$OUT/data/heldout-embodiment-randomized"
pretrain "[$OUT/data/pretrain-retract,$OUT/data/pretrain-robosuite-randomized]" 0 "$OUT/runs/grm-mt40-robosuite-randomized"
VARIANTS=("$OUT/runs/grm-mt40-robosuite/grm.pt" "$OUT/runs/grm-mt40-robosuite-randomized/grm.pt")
heldout --tasks held_out robosuite_held_out --variants "${VARIANTS[@]}" \
  --out "$OUT/benchmarks/results/grm_randomized_views.json"
heldout --dataset "$OUT/data/heldout-embodiment-randomized" --tasks robosuite_held_out --variants "${VARIANTS[@]}" \
  --plots "$OUT/benchmarks/results/grm_heldout_randomized" \
  --out "$OUT/benchmarks/results/grm_randomized_views_other_cameras.json"

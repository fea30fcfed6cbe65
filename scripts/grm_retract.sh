#!/usr/bin/env bash
# The retracted-endings experiment (docs/grm.md, "Retracted endings in pretraining"): the plain-endings recipe
# (the baseline in scripts/grm_ablations.sh) with every pretraining expert, noisy and reversed episode ending
# in the hand's return home (rollout.post_success=retract, 40 steps) and a quarter of finished
# episodes' query frames drawn after success (sampler.post_success_share=0.25), two training seeds;
# evaluated on the unchanged held-out data (expert_0000 the one demo, as for the shipped model), and
# with each task's demo recollected at the same placement ending retracted (--demos).
# ~25 min collection, ~20 min training per seed, ~15 min per evaluation on this 2-core CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
A=(door-lock-v3 assembly-v3 bin-picking-v3 box-close-v3 drawer-close-v3)
B=(hammer-v3 peg-insert-side-v3 pick-place-wall-v3 shelf-place-v3 window-close-v3)
$BIN/grm-collect task=pretrain episodes=8 failures.noisy=2 failures.early_stop=2 failures.wrong=3 \
  failures.reversed=2 seed=0 env.image_size=64 rollout.post_success=retract rollout.post_success_steps=40 \
  out=data/pretrain-retract
$BIN/grm-collect task=held_out episodes=11 failures.noisy=2 failures.early_stop=3 failures.wrong=3 \
  failures.reversed=2 seed=1000 env.image_size=64 out=data/heldout
$BIN/grm-collect task=held_out episodes=1 seed=1000 env.image_size=64 rollout.post_success=retract \
  rollout.post_success_steps=40 out=data/heldout-demo-retract
for S in 0 1; do
  RUN=runs/grm-retract$([ $S = 0 ] || echo -s$S)
  P=(fused incremental forward backward); [ $S = 0 ] || P=(fused incremental)  # seed 1: the two rows compared
  $BIN/grm-train datasets=[data/pretrain-retract] steps=1600 batch_size=16 seed=$S sampler.post_success_share=0.25 out=$RUN
  # two processes over disjoint tasks (one per core), joined by --merge
  $BIN/python benchmarks/grm_heldout.py --variants $RUN/grm.pt --tasks "${A[@]}" --perspectives "${P[@]}" --out /tmp/retract-a$S.json &
  $BIN/python benchmarks/grm_heldout.py --variants $RUN/grm.pt --tasks "${B[@]}" --perspectives "${P[@]}" --out /tmp/retract-b$S.json
  wait
done
# the same seed-0 model adapted from demos that end retracted (a copy, so its plots and cache stay apart)
mkdir -p runs/grm-retract-rdemo && cp runs/grm-retract/grm.pt runs/grm-retract-rdemo/grm.pt
$BIN/python benchmarks/grm_heldout.py --variants runs/grm-retract-rdemo/grm.pt --demos data/heldout-demo-retract \
  --tasks "${A[@]}" --out /tmp/retract-rdemo-a.json &
$BIN/python benchmarks/grm_heldout.py --variants runs/grm-retract-rdemo/grm.pt --demos data/heldout-demo-retract \
  --tasks "${B[@]}" --out /tmp/retract-rdemo-b.json
wait
$BIN/python benchmarks/grm_heldout.py --merge /tmp/retract-a0.json /tmp/retract-b0.json /tmp/retract-a1.json \
  /tmp/retract-b1.json /tmp/retract-rdemo-a.json /tmp/retract-rdemo-b.json --out benchmarks/results/grm_heldout_retract.json

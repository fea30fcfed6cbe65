# Sourced by the scripts here: run from the repository root; OUT roots every file a script writes
# (default: the repository); COLLECT_ARGS, TRAIN_ARGS and EVAL_ARGS (space-separated) are appended
# to every grm-collect, grm-train and benchmarks/grm_heldout.py command (the last value of a
# setting wins), so a test runs each script's own commands on a tiny budget.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=${OUT:-.}
BIN=.venv/bin
read -ra _COLLECT <<< "${COLLECT_ARGS:-}"
read -ra _TRAIN <<< "${TRAIN_ARGS:-}"
read -ra _EVAL <<< "${EVAL_ARGS:-}"

collect() { "$BIN/grm-collect" "$@" "${_COLLECT[@]}"; }
train() { "$BIN/grm-train" "$@" "${_TRAIN[@]}"; }
heldout() {  # its default datasets, adaptation cache and plot folder, under OUT; the experiments here
  # compare on the Meta-World held-out tasks unless they pass --tasks
  "$BIN/python" benchmarks/grm_heldout.py --dataset "$OUT/data/heldout" "$OUT/data/heldout-embodiment" \
    --tasks held_out --adapted "$OUT/runs/heldout-adapt" --plots "$OUT/benchmarks/results/grm_heldout" "$@" "${_EVAL[@]}"
}
# Both held-out groups split in two for heldout_halves (one process per core); TASKS_A / TASKS_B
# (space-separated) override, and a script comparing on fewer tasks sets A and B itself
read -ra A <<< "${TASKS_A:-door-lock-v3 assembly-v3 bin-picking-v3 box-close-v3 drawer-close-v3 rs-lift-iiwa}"
read -ra B <<< "${TASKS_B:-hammer-v3 peg-insert-side-v3 pick-place-wall-v3 shelf-place-v3 window-close-v3 rs-stack-iiwa}"
meta_world_halves() {  # A and B over the Meta-World held-out tasks alone, for scripts that compare on
  # them only (TASKS_A / TASKS_B still override)
  read -ra A <<< "${TASKS_A:-door-lock-v3 assembly-v3 bin-picking-v3 box-close-v3 drawer-close-v3}"
  read -ra B <<< "${TASKS_B:-hammer-v3 peg-insert-side-v3 pick-place-wall-v3 shelf-place-v3 window-close-v3}"
}
heldout_halves() {  # heldout_halves STEM ARGS...: the evaluation in two processes (one per core) over the
  # task lists A and B, written to STEM-a.json and STEM-b.json for a later `heldout --merge`
  local stem=$1
  shift
  heldout "$@" --tasks "${A[@]}" --out "$stem-a.json" & local first=$!
  heldout "$@" --tasks "${B[@]}" --out "$stem-b.json"
  wait "$first"  # its exit status: a failed half stops the script
}
# The datasets' recipes, one source for every script: per pretraining task 8 experts and 9 failed or
# perturbed episodes; per held-out task 11 experts (expert_0000 is the one demo) and 10 others;
# RETRACT ends expert, noisy and reversed episodes with the hand returning home (docs/grm.md)
PRETRAIN_KINDS=(episodes=8 failures.noisy=2 failures.early_stop=2 failures.wrong=3 failures.reversed=2 seed=0 env.image_size=64)
HELDOUT_KINDS=(episodes=11 failures.noisy=2 failures.early_stop=3 failures.wrong=3 failures.reversed=2 seed=1000 env.image_size=64)
RETRACT=(rollout.post_success=retract rollout.post_success_steps=40)
# The GRM pretraining recipe (docs/grm.md), one source for every script: 1,600 steps of 16 clips, a
# quarter of finished episodes' query frames drawn after success. `pretrain` trains RUN with SEED
# and any more settings (TRAIN_ARGS still win); grm-train resumes RUN, so a finished run is kept.
GRM_RECIPE=(steps=1600 batch_size=16 sampler.post_success_share=0.25)
# The two pretraining sets: the 40 Meta-World and the 8 robosuite tasks (the shipped
# grm_multi_embodiment.pt is seed 1's), and the Meta-World tasks alone (seed 0 was shipped until
# 2026-12-04 as grm/pretrained/grm_mt40.pt; now the baseline it is compared with)
MULTI_EMBODIMENT="[$OUT/data/pretrain-retract,$OUT/data/pretrain-robosuite]"
META_WORLD_ONLY="[$OUT/data/pretrain-retract]"
pretrain() {  # pretrain DATASETS SEED RUN [SETTINGS...]: the recipe on DATASETS (a list: the two above, or others)
  local datasets=$1 seed=$2 run=$3
  shift 3
  train datasets="$datasets" "${GRM_RECIPE[@]}" seed="$seed" out="$run" "$@"
}

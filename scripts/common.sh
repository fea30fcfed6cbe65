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

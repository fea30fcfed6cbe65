"""The newcomer path with defaults only: collect one demo, adapt the shipped GRM to it, collect
episodes with failures, evaluate (grm-collect renders 96 px; the shipped GRM sees 64 px)."""
import json
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def _run(*args, cwd):
    proc = subprocess.run([str(BIN / args[0]), *args[1:]], cwd=cwd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{' '.join(args)}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def test_collect_adapt_collect_eval_with_defaults(tmp_path):
    _run("grm-collect", "task=peg-insert-side-v3", "episodes=1", "out=D", cwd=tmp_path)
    _run("grm-adapt", "demo=D", "out=A", cwd=tmp_path)
    _run("grm-collect", "task=peg-insert-side-v3", "episodes=8", "failures.noisy=3", "out=E", cwd=tmp_path)
    table = _run("grm-eval", "checkpoint=A/grm.pt", "dataset=E", "out=R", cwd=tmp_path)
    assert "peg-insert-side-v3" in table
    metrics = json.loads((tmp_path / "R" / "metrics.json").read_text())
    per_task = metrics["per_task"]["peg-insert-side-v3"]
    assert per_task["voc_dense"] > 0.5  # the adapted model orders the frames of new episodes of its task

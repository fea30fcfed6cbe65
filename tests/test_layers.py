"""The packages import only downward (the contracts in .importlinter, checked by import-linter):
hardware > policies > grm > envs > configs, and no RL library inside the reward model or the tasks."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_import_layers_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "2 kept, 0 broken" in proc.stdout

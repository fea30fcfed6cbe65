"""Benchmarks run on tiny budgets, through the same code path as their full runs, so the figures
they published stay reproducible (a benchmark nothing runs rots)."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_bridge_vs_inprocess_runs_and_writes_its_row(ros_domain, tmp_path):
    out = tmp_path / "bridge.json"
    proc = subprocess.run([sys.executable, "benchmarks/bridge_vs_inprocess.py", "--policy", "scripted:drawer-close-v3",
                           "--episodes", "2", "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "ROS_DOMAIN_ID": str(ros_domain)})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    row = json.loads(out.read_text())["rows"][-1]
    assert row["episodes"] == 2 and row["episodes_agreeing"] == 2  # the expert: the same outcome both ways
    assert row["success_in_process"] == row["success_bridge"] == 1.0


def test_rl_throughput_runs_and_writes_its_table(tmp_path):
    out = tmp_path / "rl_throughput.json"
    proc = subprocess.run([sys.executable, "benchmarks/rl_throughput.py", "--steps", "10", "--warmup", "30",
                           "--learning-starts", "20", "--part-steps", "10", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert [row["name"] for row in result["loops"]] == ["sb3_sac", "sac, dummy", "sac", "sac, bf16"]
    assert result["speedup_vs_sb3"] > 0 and all(row["env_steps_per_s"] > 0 for row in result["loops"])
    assert set(result["step_parts_ms"]) == {"physics_and_render", "grm", "updates_sb3_sac", "updates_sac"}


def test_expert_steps_runs_and_suggests_horizons(tmp_path):
    out = tmp_path / "expert_steps.json"
    proc = subprocess.run([sys.executable, "benchmarks/expert_steps.py", "--tasks", "drawer-close-v3", "--episodes", "2",
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    row = json.loads(out.read_text())["tasks"]["drawer-close-v3"]
    assert len(row["steps_to_success"]) == 2 and row["horizon"] >= 150 >= row["max"]


def test_grm_latency_runs_and_writes_its_rows(tmp_path):
    out = tmp_path / "grm_latency.json"
    proc = subprocess.run([sys.executable, "benchmarks/grm_latency.py", "--batches", "1", "2", "--repeats", "2",
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads(out.read_text())["rows"]
    assert [r["envs"] for r in rows] == [1, 2] and all(r["grm_ms_per_env_step"] > 0 for r in rows)


def test_collect_throughput_runs_and_writes_its_rates(tmp_path):
    out = tmp_path / "collect_throughput.json"
    proc = subprocess.run([sys.executable, "benchmarks/collect_throughput.py", "--episodes", "2", "--workers", "2",
                           "--image-size", "32", "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["episodes"] == 2 and result["frames"] > 0 and result["collect_fps"] > 0 < result["raw_steps_per_s"]

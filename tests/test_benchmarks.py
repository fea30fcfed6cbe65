"""Benchmarks run on tiny budgets, through the same code path as their full runs, so the figures
they published stay reproducible (a benchmark nothing runs rots)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).parents[1]


def _run(tmp_path, script: str, *args: str, env: dict | None = None, timeout: int = 300) -> dict:
    """Run benchmarks/<script> with tiny-budget args; its JSON (written to tmp_path) parsed."""
    out = tmp_path / f"{Path(script).stem}.json"
    proc = subprocess.run([sys.executable, f"benchmarks/{script}", *args, "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return json.loads(out.read_text())


def test_bridge_vs_inprocess_runs_and_writes_its_row(ros_domain, tmp_path):
    result = _run(tmp_path, "bridge_vs_inprocess.py", "--policy", "scripted:drawer-close-v3", "--episodes", "2",
                  env={"ROS_DOMAIN_ID": str(ros_domain)}, timeout=600)
    row = result["rows"][-1]
    assert row["episodes"] == 2 and row["episodes_agreeing"] == 2  # the expert: the same outcome both ways
    assert row["success_in_process"] == row["success_bridge"] == 1.0


def test_rl_throughput_runs_and_writes_its_table(tmp_path):
    result = _run(tmp_path, "rl_throughput.py", "--steps", "10", "--warmup", "30", "--learning-starts", "20",
                  "--part-steps", "10", timeout=900)
    assert [row["name"] for row in result["loops"]] == ["sb3_sac", "sac, dummy", "sac, GRM in learner", "sac", "sac, bf16"]
    assert result["speedup_vs_sb3"] > 0 and all(row["env_steps_per_s"] > 0 for row in result["loops"])
    assert set(result["step_parts_ms"]) == {"physics_and_render", "grm", "updates_sb3_sac", "updates_sac"}
    # the ceilings: the env side alone bounds the loop, and work at the matmul rate cannot beat it
    ceil = result["ceilings"]
    at_peak = [ceil["at_matmul_peak_vs_sb3_float32"], ceil["at_matmul_peak_vs_sb3_bfloat16"]]
    assert 0 < max(at_peak) <= ceil["env_bound_vs_sb3"]
    assert result["update_mflop"]["sac"] > 0 and result["matmul_gflops"]["float32"] > 0


def test_expert_steps_runs_and_suggests_horizons(tmp_path):
    row = _run(tmp_path, "expert_steps.py", "--tasks", "drawer-close-v3", "--episodes", "2")["tasks"]["drawer-close-v3"]
    assert len(row["steps_to_success"]) == 2 and row["horizon"] >= 150 >= row["max"]


def test_grm_backends_times_both_backends(tmp_path):
    result = _run(tmp_path, "grm_backends.py", "--steps", "1")
    assert [r["backend"] for r in result["rows"]] == ["grm", "robodopamine"]
    assert all(r["scores_per_s"] > 0 for r in result["rows"]) and "tiny" in result["rows"][1]["model"]


def test_grm_latency_compares_checkpoints_with_rendering(tmp_path, tiny_grm):
    result = _run(tmp_path, "grm_latency.py", "--checkpoints", "grm/pretrained/grm_multi_embodiment.pt", str(tiny_grm),
                  "--batches", "1", "2", "--repeats", "2")
    rows = result["rows"]
    assert [(r["checkpoint"] == str(tiny_grm), r["envs"]) for r in rows] == [(False, 1), (False, 2), (True, 1), (True, 2)]
    assert all(r["grm_ms_per_env_step"] > 0 and r["render_ms_per_env_step"] > 0 for r in rows)
    assert all(r["grm_over_render"] == pytest.approx(r["grm_ms_per_env_step"] / r["render_ms_per_env_step"]) for r in rows)
    assert [m["image_size"] for m in result["models"]] == [64, 32]  # each rendered at its own model's size


def test_grm_latency_names_a_missing_checkpoint(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "grm_latency.py"), "--checkpoints",
                           str(tmp_path / "nope.pt"), "--out", str(tmp_path / "x.json")], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1 and proc.stderr.strip().endswith(f"--checkpoints: no such file {tmp_path / 'nope.pt'} "
                                                                "(a GRM checkpoint: grm.pt)")
    assert not (tmp_path / "x.json").exists()


def test_collect_throughput_runs_and_writes_its_rates(tmp_path):
    result = _run(tmp_path, "collect_throughput.py", "--episodes", "2", "--workers", "2", "--image-size", "32",
                  timeout=600)
    assert result["episodes"] == 2 and result["frames"] > 0 and result["collect_fps"] > 0 < result["raw_steps_per_s"]


@pytest.fixture(scope="module")
def heldout_table(tiny_dataset, tiny_grm, tmp_path_factory):
    """grm_heldout.py on the tiny dataset: the table the label and placement benchmarks read."""
    tmp = tmp_path_factory.mktemp("heldout")
    table = _run(tmp, "grm_heldout.py", "--dataset", str(tiny_dataset), "--variants", str(tiny_grm),
                 "--tasks", "drawer-close-v3", "--adapt-steps", "2", "--perspectives", "fused", "--plots", "",
                 "--adapted", str(tmp / "adapted"))
    key = f"{Path(tiny_grm).parent.name}/one_shot/fused"
    assert set(table) == {f"{Path(tiny_grm).parent.name}/{stage}/fused" for stage in ("zero_shot", "one_shot")}
    row = table[key]["per_task"]["drawer-close-v3"]
    assert {"voc_dense", "voc_reversed", "success_auc", "preference_acc", "kendall_tau"} <= set(row)
    return tmp / "grm_heldout.json", key


def test_near_miss_labels_lists_unfinished_episodes_by_label(tiny_dataset, heldout_table, tmp_path):
    results, key = heldout_table
    result = _run(tmp_path, "near_miss_labels.py", "--dataset", str(tiny_dataset), "--results", str(results),
                  "--key", key, "--threshold", "0")
    assert result["unfinished"] == len(result["rows"]) > 0  # threshold 0: every unfinished episode is listed
    assert any(r["grm_final"] is not None for r in result["rows"])  # finals joined from the table


def test_placement_offsets_joins_finals_with_object_offsets(tiny_dataset, heldout_table, tmp_path):
    results, key = heldout_table
    result = _run(tmp_path, "placement_offsets.py", "--task", "drawer-close-v3", "--dataset", str(tiny_dataset),
                  "--results", str(results), "--key", key)
    offsets = [e["object_offset"][0] for e in result["episodes"]]
    assert len(offsets) > 0 and offsets == sorted(offsets) and len(result["episodes"][0]["hand_offset"]) == 3


def test_state_visibility_measures_task_change_per_view(heldout_table, tmp_path):
    results, key = heldout_table
    result = _run(tmp_path, "state_visibility.py", "--tasks", "drawer-close-v3", "--episodes", "1", "--size", "32",
                  "--results", str(results), "--key", key)
    row = result["tasks"]["drawer-close-v3"]
    assert set(row["task_change"]) == set(result["cameras"]) and row["success_auc"] is not None


def test_render_detail_compares_mesh_settings(tmp_path):
    result = _run(tmp_path, "render_detail.py", "--tasks", "drawer-close-v3", "--keep", "1.0", "0.5", "--episodes", "1")
    assert set(result["by_keep"]) == {"1.0", "0.5"} and result["by_keep"]["1.0"]["dphi_max"] == 0.0
    assert result["by_keep"]["0.5"]["ms"] > 0


def test_ros_loop_measures_the_policy_node_over_dds(ros_domain, tmp_path):
    result = _run(tmp_path, "ros_loop.py", "--seconds", "1", "--rates", "50", "--domain-id", str(ros_domain))
    row = result["rows"][0]
    assert row["rate_hz"] == 50 and row["commands"] > 0 and row["round_trip_ms_p50"] > 0


def test_tool_benchmarks_run_without_trained_parts(tmp_path):
    """The privileged picker and the perception check need no trained model (--affordance '')."""
    pick = _run(tmp_path, "tool_pick.py", "--policies", "privileged", "--episodes", "1", "--affordance", "")
    assert set(pick["policies"]["privileged"]) >= {"train", "held_out_sizes", "held_out_shapes"}
    perception = _run(tmp_path, "tool_perception.py", "--objects", "1", "--affordance", "")
    assert set(perception["splits"]) == set(pick["policies"]["privileged"]) - {"source"}
    proc = subprocess.run([sys.executable, "benchmarks/tool_pick.py", "--affordance", str(tmp_path / "none.pt"),
                           "--out", str(tmp_path / "x.json")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "--affordance/--low: affordance encoder" in proc.stderr  # one line, no traceback
    assert "Traceback" not in proc.stderr


def test_semantic_trap_finds_the_dip_naive_shaping_stops_before(load_benchmark):
    trap = load_benchmark("semantic_trap")
    rise = np.linspace(0.0, 1.0, 21)
    # "good enough" at 0.9, then a long dip (release and re-grasp) before success
    dip = np.concatenate([np.linspace(0.0, 0.9, 10), np.full(30, 0.1), [1.0]])
    for mode in trap.MODES:
        assert (trap.finish_advantage(mode, rise, 0.9, 1.0, 10.0) > 0).all(), "a rising path never traps"
    naive = trap.finish_advantage("grm_naive", dip, 0.9, 1.0, 10.0)
    assert naive[9] < 0 and naive[0] > 0, "naive: stopping on the plateau beats finishing; from the start, going on pays"
    # PBRS: finishing beats holding by exactly the discounted task reward (Ng et al. 1999)
    T = len(dip) - 1
    np.testing.assert_allclose(trap.finish_advantage("grm_pbrs", dip, 0.9, 1.0, 10.0), 0.9 ** (T - 1 - np.arange(T)), rtol=1e-5)
    assert trap.deepest_dip(dip) == pytest.approx(0.8) and trap.deepest_dip(rise) == 0.0
    row = trap.task_trap([dip], [np.linspace(0.0, 0.9, 10)], "grm_naive", 0.9, 1.0, 10.0)
    assert row["episodes_with_a_trap"] == 1.0 and row["failure_ranked_first"] == 1.0
    assert trap.task_trap([dip], [np.linspace(0.0, 0.9, 10)], "grm_pbrs", 0.9, 1.0, 10.0)["failure_ranked_first"] == 0.0


def test_semantic_trap_runs_on_a_dataset(tiny_dataset, tiny_grm, tmp_path):
    result = _run(tmp_path, "semantic_trap.py", "--dataset", str(tiny_dataset), "--tasks", "drawer-close-v3",
                  "--checkpoint", str(tiny_grm), "--adapt-steps", "2", "--adapted", str(tmp_path / "adapted"),
                  "--gammas", "0.9", "0.99")
    row = result["per_task"]["drawer-close-v3"]
    assert row["successes"] >= 2 and row["failures"] >= 1
    assert set(row["grm_pbrs"]) == {"0.9", "0.99"}
    # PBRS: no step of a successful path is a trap, whatever the (untrained) GRM reads
    assert all(row["grm_pbrs"][g]["trapped_steps"] == 0.0 for g in ("0.9", "0.99"))
    assert (tmp_path / "semantic_trap.png").is_file()


def test_semantic_trap_refuses_a_discount_that_holds_nothing(tmp_path):
    proc = subprocess.run([sys.executable, "benchmarks/semantic_trap.py", "--gammas", "0.99", "1.0",
                           "--out", str(tmp_path / "x.json")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "--gammas: each must lie in (0, 1)" in proc.stderr  # one line, no traceback
    assert "Traceback" not in proc.stderr and not (tmp_path / "x.json").exists()

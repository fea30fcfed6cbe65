"""The reward-mode grid: a Hydra multirun over grm-rl (configs/grid/rl.yaml) and its report
(benchmarks/rl_grid_report.py: per-seed table, IQM with bootstrap intervals, one plot)."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
TINY = ["task=reach-v3", "seed=0", "episodes=2", "max_steps=20", "eval.every_episodes=1", "eval.episodes=1",
        "eval.final_episodes=1", "checkpoint_every_episodes=1", "sac.learning_starts=10", "sac.batch_size=16",
        "sac.net_arch=[16,16]", "sac.compile=false", "vec_env=dummy",
        "demo.pretrain_updates=10"]


def test_sweep_then_report(tmp_path):
    grm_rl = Path(sys.executable).parent / "grm-rl"
    sweep = subprocess.run([str(grm_rl), "--multirun", "+grid=rl", "reward=sparse,oracle_pbrs", *TINY,
                            "out=runs/${task}/${reward}-s${seed}"], cwd=tmp_path, capture_output=True, text=True,
                           timeout=900)
    assert sweep.returncode == 0, sweep.stderr[-3000:]
    for mode in ("sparse", "oracle_pbrs"):
        assert (tmp_path / "runs" / "reach-v3" / f"{mode}-s0" / "report.json").is_file()
    run = tmp_path / "runs" / "reach-v3" / "sparse-s0"
    assert json.loads((run / "settings.json").read_text())["max_steps"] == 20
    assert not (run / "eval.mp4").exists()  # the grid's own settings (eval.video=false) reached the run

    def report(*args):
        return subprocess.run([sys.executable, "benchmarks/rl_grid_report.py", "--kept", str(tmp_path / "kept"),
                               "--out", str(tmp_path / "rl_curves.json"), "--reps", "100", *args],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)

    proc = report("--runs", str(tmp_path / "runs"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((tmp_path / "rl_curves.json").read_text())
    assert result["reach-v3/sparse"]["final_success_per_seed"] == [result["reach-v3/sparse"]["final_success_mean"]]
    assert len(result["reach-v3/oracle_pbrs"]["episodes_to_80_per_seed"]) == 1
    lo, hi = result["aggregate"]["sparse"]["iqm_final_success_ci95"]
    assert lo <= result["aggregate"]["sparse"]["iqm_final_success"] <= hi
    cell = result["reach-v3/oracle_pbrs"]  # one seed: its IQM and interval are that seed's value
    expected = cell["episodes_to_80_per_seed"][0] or cell["episodes"]
    assert cell["iqm_episodes_to_80"] == expected and cell["iqm_episodes_to_80_ci95"] == [expected, expected]
    assert (tmp_path / "rl_curves.png").stat().st_size > 1000
    # the kept reports rebuild the same table alone; a run learned with other settings is refused
    kept = tmp_path / "kept" / "reach-v3" / "sparse-s0.json"
    entry = json.loads(kept.read_text())
    entry["settings"]["sac.learning_rate"] = 1.0
    kept.write_text(json.dumps(entry))
    proc = report("--runs", str(tmp_path / "kept"))
    assert proc.returncode != 0 and "sac.learning_rate: 0.0003 vs 1.0" in proc.stderr + proc.stdout.replace("\n", "")


def test_a_cells_interval_does_not_move_when_other_cells_join(load_benchmark):
    report = load_benchmark("rl_grid_report")

    def cell(finals, to_80):
        return {"seeds": list(range(len(finals))), "final_success_per_seed": finals,
                "episodes_to_80_per_seed": to_80, "episodes": 150}

    # door-lock's grm_pbrs cell, alone and with its sparse cell beside it
    grm = ([1.0, 0.9, 1.0, 0.7, 0.65], [10, 80, 85, 70, 105])
    alone = {"door/grm_pbrs": cell(*grm)}
    joined = {"door/sparse": cell([1.0, 1.0, 0.7, 1.0, 1.0], [55, 35, 145, 105, 70]), "door/grm_pbrs": cell(*grm)}
    for cells in (alone, joined):
        report.add_cell_intervals(cells, 2000, 0)
    for key in ("iqm_final_success_ci95", "iqm_episodes_to_80_ci95"):
        assert joined["door/grm_pbrs"][key] == alone["door/grm_pbrs"][key]
        lo, hi = alone["door/grm_pbrs"][key]
        assert lo < hi  # five different seeds: a real interval, not a point


def test_modes_without_the_demo_get_a_panel_of_their_own(load_benchmark):
    report = load_benchmark("rl_grid_report")
    cells = dict.fromkeys(["door/sparse", "door/grm_pbrs", "door/sparse_nodemo", "door/grm_pbrs_nodemo", "box/oracle_pbrs"])
    assert report.panels(cells) == [("box", ["box/oracle_pbrs"]), ("door", ["door/grm_pbrs", "door/sparse"]),
                                    ("door, no demo in the buffer", ["door/grm_pbrs_nodemo", "door/sparse_nodemo"])]

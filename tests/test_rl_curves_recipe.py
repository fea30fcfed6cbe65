"""The learning-curve grid spans sessions: runs of two recipes must not end up in one table."""
import pytest


def test_grid_refuses_to_mix_runs_of_another_recipe(tmp_path, monkeypatch, load_benchmark):
    grid = load_benchmark("rl_curves")
    monkeypatch.setattr(grid, "ROOT", tmp_path / "rl_curves")
    monkeypatch.setattr(grid, "KEPT", tmp_path / "rl_curves_runs")
    current = grid.recipe(150, 150, [])
    assert current["sac"]["gradient_steps"] >= 1 and 0 < current["mesh_keep"] <= 1  # read from configs/rl.yaml
    grid.check_recipe(current)  # a new grid records its recipe
    grid.check_recipe(current)  # the same recipe resumes
    with pytest.raises(SystemExit, match=r"another recipe \(differs in \['episodes', 'extra'\]\)"):
        grid.check_recipe(grid.recipe(100, 150, ["sac.learning_rate=1e-4"]))


def test_a_new_grm_binds_only_the_grm_shaped_runs(tmp_path, monkeypatch, load_benchmark):
    grid = load_benchmark("rl_curves")
    monkeypatch.setattr(grid, "ROOT", tmp_path / "rl_curves")
    monkeypatch.setattr(grid, "KEPT", tmp_path / "rl_curves_runs")
    current = grid.recipe(150, 150, [])
    assert len(current["grm"]["checkpoint_sha256"]) == 16  # the checkpoint's content, not just its path
    grid.check_recipe(current)
    (grid.ROOT / "drawer-close-v3" / "sparse-s0").mkdir(parents=True)
    new_grm = {**current, "grm": {**current["grm"], "checkpoint_sha256": "0" * 16}}
    grid.check_recipe(new_grm)  # only sparse runs so far: they do not depend on the GRM
    (grid.ROOT / "drawer-close-v3" / "grm_pbrs-s0").mkdir()
    with pytest.raises(SystemExit, match=r"differs in \['grm'\]\) and GRM-shaped runs depend on it "
                                         r"\(drawer-close-v3/grm_pbrs-s0\)"):
        grid.check_recipe(current)


def test_finished_runs_are_kept_where_the_repository_carries_them(tmp_path, monkeypatch, load_benchmark):
    """Work folders (checkpoints, buffers) stay on one machine; the finished reports and the recipe are
    committed, so a fresh clone skips those runs, tabulates them, and still binds its GRM runs."""
    import json

    grid = load_benchmark("rl_curves")
    monkeypatch.setattr(grid, "ROOT", tmp_path / "rl_curves")  # empty: a fresh clone
    monkeypatch.setattr(grid, "KEPT", tmp_path / "rl_curves_runs")
    current = grid.recipe(150, 150, [])
    grid.check_recipe(current)
    report = {"task": "door-lock-v3", "reward": "grm_pbrs", "seed": 0, "final_success_rate": 0.9,
              "episodes_to_80": 60, "curve": [{"episodes": 10, "env_steps": 1500, "success_rate": 0.8}]}
    kept = grid.kept_report("door-lock-v3", "grm_pbrs", 0)
    kept.parent.mkdir(parents=True)
    kept.write_text(json.dumps(report))
    assert grid.run_one("door-lock-v3", "grm_pbrs", 0, 150, 150, []) == grid.ROOT / "door-lock-v3" / "grm_pbrs-s0"
    assert not grid.ROOT.joinpath("door-lock-v3").exists()  # skipped: nothing was run
    assert grid.summarize(grid.collect_results())["door-lock-v3/grm_pbrs"]["final_success_per_seed"] == [0.9]
    new_grm = {**current, "grm": {**current["grm"], "checkpoint_sha256": "0" * 16}}
    with pytest.raises(SystemExit, match=r"GRM-shaped runs depend on it \(door-lock-v3/grm_pbrs-s0\)"):
        grid.check_recipe(new_grm)

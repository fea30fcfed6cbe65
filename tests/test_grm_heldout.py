"""benchmarks/grm_heldout.py: tables of disjoint task sets join into one; --demos supplies the one demo;
--plots chooses where the per-episode plots go, or writes none."""
import json
from pathlib import Path

import pytest

from grm.evaluate import METRICS


def _part(path: Path, scores: dict[str, float], fusion: str | None = None) -> str:
    per_task = {task: {m: v for m in METRICS} for task, v in scores.items()}
    row = {"mean": {}, "per_task": per_task, **({"fusion": fusion} if fusion else {})}
    path.write_text(json.dumps({"grm/one_shot/fused": row}))
    return str(path)


def test_merge_joins_disjoint_tasks_and_recomputes_means(tmp_path, load_benchmark):
    heldout = load_benchmark("grm_heldout")
    a = _part(tmp_path / "a.json", {"door-lock-v3": 0.5, "hammer-v3": 1.0})
    b = _part(tmp_path / "b.json", {"box-close-v3": 0.0})
    row = heldout.merge([a, b])["grm/one_shot/fused"]
    assert sorted(row["per_task"]) == ["box-close-v3", "door-lock-v3", "hammer-v3"]
    assert row["mean"]["success_auc"] == pytest.approx(0.5)
    assert list(row["groups"]) == ["held_out"] and row["groups"]["held_out"] == row["mean"]  # no robosuite task here
    arm = heldout.merge([a, _part(tmp_path / "d.json", {"rs-lift-iiwa": 0.9})])["grm/one_shot/fused"]["groups"]
    assert arm["held_out"]["success_auc"] == pytest.approx(0.75) and arm["robosuite_held_out"]["success_auc"] == 0.9
    with pytest.raises(ValueError, match="repeats tasks.*hammer-v3"):
        heldout.merge([a, _part(tmp_path / "c.json", {"hammer-v3": 0.0})])
    assert "fusion" not in row  # a table from before the setting: its rows fused by the mean, unlabelled
    median = [_part(tmp_path / f"{n}.json", {t: 1.0}, "median") for n, t in (("e", "hammer-v3"), ("f", "assembly-v3"))]
    assert heldout.merge(median)["grm/one_shot/fused"]["fusion"] == "median"


def test_demos_folder_supplies_each_tasks_one_demo(tmp_path, tiny_dataset, tiny_grm, load_benchmark, monkeypatch):
    """--demos adapts from that folder's expert_0000; the scored episodes stay the dataset's."""
    import shutil
    import sys

    heldout = load_benchmark("grm_heldout")
    demo = tmp_path / "demos" / "drawer-close-v3" / "expert_0000.hdf5"
    demo.parent.mkdir(parents=True)
    shutil.copy(tiny_dataset / "drawer-close-v3" / "expert_0001.hdf5", demo)
    adapted_from = []
    real_adapt = heldout.adapt
    monkeypatch.setattr(heldout, "adapt", lambda ckpt, d, *a: adapted_from.append(d) or real_adapt(ckpt, d, *a))
    out = tmp_path / "table.json"
    argv = ["grm_heldout", "--dataset", str(tiny_dataset), "--demos", str(demo.parents[1]), "--variants", str(tiny_grm),
            "--tasks", "drawer-close-v3", "--adapt-steps", "2", "--perspectives", "fused", "--out", str(out),
            "--adapted", str(tmp_path / "adapted")]
    monkeypatch.setattr(sys, "argv", argv + ["--plots", str(tmp_path / "plots")])
    heldout.main()
    assert adapted_from == [demo]
    assert list((tmp_path / "plots").rglob("*.png"))
    table = json.loads(out.read_text())[f"{Path(tiny_grm).parent.name}/one_shot/fused"]
    row = table["per_task"]["drawer-close-v3"]
    assert table["fusion"] == "median"  # the default fusion, recorded with the row
    scored = {e["episode"] for e in row["episode_finals"]}
    assert "expert_0000.hdf5" not in scored and "expert_0001.hdf5" in scored  # the dataset's episodes, its demo left out
    files = sorted(tmp_path.rglob("*"))
    monkeypatch.setattr(sys, "argv", argv + ["--plots", ""])  # a probe: the table, no plots anywhere
    monkeypatch.chdir(tmp_path)
    heldout.main()
    assert sorted(tmp_path.rglob("*")) == files  # the adaptation was cached, and no plot was written


def test_a_task_no_dataset_holds_is_named(tmp_path, load_benchmark, monkeypatch):
    import sys

    heldout = load_benchmark("grm_heldout")
    monkeypatch.setattr(sys, "argv", ["grm_heldout", "--dataset", str(tmp_path), "--tasks", "rs-lift-iiwa"])
    with pytest.raises(SystemExit, match="no episodes of rs-lift-iiwa in --dataset .*make_pretrained_grm.sh"):
        heldout.main()

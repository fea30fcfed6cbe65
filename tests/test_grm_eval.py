"""grm-eval and grm-adapt: the metrics on hand-made cases, both commands on a tiny dataset end to end."""
import json
import subprocess
import sys

import numpy as np
import pytest

from grm.metrics import preference_accuracy, roc_auc, voc


def test_metrics_on_hand_made_cases():
    assert voc(np.linspace(0, 1, 10)) == pytest.approx(1.0) and voc(np.linspace(1, 0, 10)) == pytest.approx(-1.0)
    assert voc(np.full(10, 0.7)) == 0.0  # a constant prediction earns nothing
    assert roc_auc(np.array([0.9, 0.8]), np.array([0.1, 0.2])) == 1.0
    assert roc_auc(np.array([0.5]), np.array([0.5])) == 0.5  # ties count half
    assert roc_auc(np.array([0.1]), np.array([0.9, 0.2])) == 0.0
    # only pairs whose true quality differs by more than the margin are judged
    acc, pairs = preference_accuracy(np.array([0.9, 0.2, 0.5]), np.array([1.0, 0.1, 0.95]))
    assert pairs == 2 and acc == 1.0
    acc, pairs = preference_accuracy(np.array([0.1, 0.9]), np.array([1.0, 0.1]))
    assert pairs == 1 and acc == 0.0


def test_grm_eval_writes_metrics_plots_and_each_episodes_final_progress(tiny_dataset, tiny_grm, tmp_path):
    out = tmp_path / "eval"
    proc = subprocess.run([sys.executable, "-m", "grm.cli.eval", f"checkpoint={tiny_grm}", f"dataset={tiny_dataset}",
                           "tasks=[drawer-close-v3]", "reference=expert_0000.hdf5", f"out={out}"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "MEAN" in proc.stdout
    result = json.loads((out / "metrics.json").read_text())
    task = result["per_task"]["drawer-close-v3"]
    # 3 experts less the reference, 1 early stop, 1 wrong, 1 reversed
    assert task["episodes"] == 5 and len(task["episode_finals"]) == 5
    assert {e["kind"] for e in task["episode_finals"]} == {"expert", "early_stop", "wrong", "reversed"}
    finals = task["episode_finals"]  # what success detection read, episode by episode (rounded to 1e-3)
    pos = [e["final"] for e in finals if e["success"]]
    neg = [e["final"] for e in finals if not e["success"]]
    assert (len(pos), len(neg)) == (task["successes"], task["failures"])
    assert np.mean(pos) == pytest.approx(task["final_progress_success"], abs=1e-3)
    assert np.mean(neg) == pytest.approx(task["final_progress_failure"], abs=1e-3)
    pairs = 2 * len(pos) * len(neg)  # the AUC counts success-failure pairs, ties as halves
    assert task["success_auc"] * pairs == pytest.approx(round(task["success_auc"] * pairs), abs=1e-9)
    assert (out / "plots" / "drawer-close-v3.png").stat().st_size > 1000



def test_success_detection_reads_the_simulators_verdict_and_voc_only_demonstrations(tiny_dataset, tiny_grm, tmp_path):
    """A wandering (`wrong`) run that happened to do the task is a success to detect, not a demonstration."""
    import shutil

    import h5py

    from grm.evaluate import score_task
    from grm.inference import RewardModel

    root = tmp_path / "data"
    shutil.copytree(tiny_dataset / "drawer-close-v3", root / "drawer-close-v3")
    with h5py.File(root / "drawer-close-v3" / "wrong_0000.hdf5", "r+") as f:
        f["data/demo_0"].attrs["success"] = True  # as when the wander closed the drawer
    summary, scores = score_task(RewardModel.load(tiny_grm), root, "drawer-close-v3", "expert_0000.hdf5")
    by_kind = {s.kind: s for s in scores}
    assert by_kind["wrong"].success and not by_kind["wrong"].voc  # detected as done; no time-order claim
    assert summary["successes"] == 3 and summary["failures"] == 2  # 2 experts + the wrong run; early stop, reversed
    demos = [s for s in scores if s.kind == "expert"]
    assert summary["voc_dense"] == pytest.approx(np.mean([s.voc["dense"] for s in demos]))
    assert summary["voc_reversed"] == pytest.approx(np.mean([s.voc["reversed"] for s in demos]))
    # reversed VOC: the demo's frames up to its first success, played backwards, scored afresh
    from grm.dataset import open_episode
    from grm.inference import progress_from_embeddings
    from grm.metrics import voc

    rm = RewardModel.load(tiny_grm)
    rm.set_reference_from_episode(root / "drawer-close-v3" / "expert_0000.hdf5")
    with open_episode(root / "drawer-close-v3" / demos[0].name) as ep:
        end = int(ep.keyframes[-1]) + 1
        backwards = rm.encode(ep.frames(slice(0, end), rm.inputs)[::-1].copy())
    expected = voc(progress_from_embeddings(rm, backwards, "fused", False))
    assert demos[0].voc["reversed"] == pytest.approx(expected, abs=1e-5)

def test_grm_adapt_uses_the_shared_one_shot_settings_and_refuses_an_ambiguous_demo(tiny_dataset, tiny_grm, tmp_path):
    """grm-adapt, grm-rl and the held-out benchmark adapt with configs/adaptation/one_shot.yaml."""
    from configs.typed import compose
    from grm.one_shot import AdaptConfig, one_shot_config
    from policies.rl_run import compose_rl

    demo = tiny_dataset / "drawer-close-v3" / "expert_0000.hdf5"
    settings = compose("adapt", AdaptConfig, [f"demo={demo}", "steps=7"])
    assert settings.sampler.same_episode_reference == 1.0 and settings.sampler.post_success_share > 0
    cfg = one_shot_config("demo.hdf5", "out", "grm.pt", settings, 0, None, settings)
    assert cfg.steps == 7 and cfg.lr == settings.lr and cfg.sampler == settings.sampler
    adapt, rl = compose("adapt", AdaptConfig, [f"demo={demo}"]), compose_rl().grm.adaptation
    assert all(getattr(rl, k) == getattr(adapt, k) for k in rl.__dataclass_fields__)  # one source

    demo = tiny_dataset / "drawer-close-v3" / "expert_0000.hdf5"
    run = [sys.executable, "-m", "grm.cli.adapt", f"checkpoint={tiny_grm}", "steps=2", "progress=false"]
    proc = subprocess.run(run + [f"demo={demo}", f"out={tmp_path / 'adapted'}"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "adapted" / "grm.pt").is_file()
    proc = subprocess.run(run + [f"demo={demo.parent}", f"out={tmp_path / 'no'}"], capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0 and "one-shot adaptation takes one" in proc.stderr

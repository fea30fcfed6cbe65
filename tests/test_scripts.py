"""The research scripts in scripts/ run their own commands on a tiny budget (scripts/common.sh):
every file lands under OUT, the sizes come from COLLECT_ARGS / TRAIN_ARGS / EVAL_ARGS."""
import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
TINY = {
    "COLLECT_ARGS": "task=[drawer-close-v3,window-close-v3] episodes=2 failures.noisy=0 failures.early_stop=1 "
                    "failures.wrong=0 failures.reversed=0 env.image_size=32 workers=1",
    "TRAIN_ARGS": "steps=2 batch_size=2 model.width=8 model.embed_dim=32 warmup=1 log_every=1000 ckpt_every=1000 "
                  "progress=false",
    "EVAL_ARGS": "--tasks drawer-close-v3 --adapt-steps 2 --perspectives fused",
}


def run_script(name: str, out: Path, **env: str) -> None:
    proc = subprocess.run(["bash", f"scripts/{name}"], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, **TINY, "OUT": str(out), **env})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]


@pytest.fixture(scope="module")
def tiny_recipe(tmp_path_factory):
    """make_pretrained_grm.sh on a tiny budget: its held-out data serve the scripts that need it."""
    out = tmp_path_factory.mktemp("scripts")
    shipped = (ROOT / "grm" / "pretrained" / "grm_multi_embodiment.pt").read_bytes()
    run_script("make_pretrained_grm.sh", out)
    assert (ROOT / "grm" / "pretrained" / "grm_multi_embodiment.pt").read_bytes() == shipped  # OUT's copy, not the shipped one
    return out


def test_make_pretrained_grm_builds_a_checkpoint_and_heldout_data(tiny_recipe):
    import torch

    assert torch.load(tiny_recipe / "grm" / "pretrained" / "grm_multi_embodiment.pt", map_location="cpu", weights_only=True)
    assert sorted(p.name for p in (tiny_recipe / "data" / "heldout").iterdir() if p.is_dir()) == \
        ["drawer-close-v3", "window-close-v3"]


def test_door_lock_adapt_steps_writes_one_table_per_setting(tiny_recipe):
    run_script("door_lock_adapt_steps.sh", tiny_recipe)
    tables = sorted((tiny_recipe / "benchmarks" / "results" / "adapt_steps").glob("*.json"))
    assert [t.name for t in tables] == [f"door-lock-v3-a{s}.json" for s in (150, 300, 50, 600)]
    row = json.loads(tables[0].read_text())["grm_multi_embodiment/one_shot/fused"]["per_task"]
    assert list(row) == ["drawer-close-v3"]  # EVAL_ARGS' --tasks won over the script's own


@pytest.mark.parametrize("name, table", [
                                         # three trainings and five evaluations (~46 s) for a table of past
                                         # recipes: kept off the CI suite's 15 min (it ran 925-952 s with it)
                                         pytest.param("grm_ablations.sh", "grm_ablations.json", marks=pytest.mark.slow),
                                         # a measured, not shipped recipe (~32 s): kept off the CI suite's 15 min
                                         pytest.param("grm_capped_labels.sh", "grm_heldout_capped_labels.json",
                                                      marks=pytest.mark.slow),
                                         # two collections, two trainings, three variants evaluated: the CI
                                         # suite's 15 min cannot take it (as grm_retract.sh's below)
                                         pytest.param("grm_multi_embodiment.sh", "grm_multi_embodiment.json",
                                                      marks=pytest.mark.slow)])
def test_experiment_scripts_write_their_tables(tiny_recipe, name, table):
    run_script(name, tiny_recipe)
    assert json.loads((tiny_recipe / "benchmarks" / "results" / table).read_text())


@pytest.mark.slow  # ~29 s of a measured, not shipped trunk (tests/test_efficientnet_trunk.py trains it): the CI suite's 15 min
def test_pretrained_trunk_experiment_trains_the_trunk_and_merges_its_halves(tiny_recipe):
    run_script("grm_pretrained_trunk.sh", tiny_recipe, NPROC="1", MASTER_PORT="29541", TASKS_A="drawer-close-v3",
               TASKS_B="window-close-v3", EVAL_ARGS="--adapt-steps 2 --perspectives fused")
    table = json.loads((tiny_recipe / "benchmarks" / "results" / "grm_pretrained_trunk.json").read_text())
    assert sorted(table["grm-retract-effnet/one_shot/fused"]["per_task"]) == ["drawer-close-v3", "window-close-v3"]
    assert sorted(table["grm-retract/one_shot/fused"]["per_task"]) == ["drawer-close-v3", "window-close-v3"]


def test_failure_aware_experiment_adapts_with_synthetic_failures(tiny_recipe):
    run_script("grm_failure_aware.sh", tiny_recipe, TASKS_A="drawer-close-v3", TASKS_B="window-close-v3",
               EVAL_ARGS="--adapt-steps 2")
    table = json.loads((tiny_recipe / "benchmarks" / "results" / "grm_failure_aware.json").read_text())
    assert sorted(table["grm_multi_embodiment/one_shot/fused"]["per_task"]) == ["drawer-close-v3", "window-close-v3"]
    adapted = [json.loads(p.read_text()) for p in (tiny_recipe / "runs" / "heldout-adapt").glob("*/*/*/settings.json")]
    assert [s.get("synthetic_failures") for s in adapted].count(2) == 2  # both tasks adapted with the failures


@pytest.mark.slow  # a collection, a training and an evaluation of two variants (as grm_multi_embodiment.sh's above)
def test_multi_embodiment_second_seed_keeps_its_own_model_and_table(tiny_recipe):
    run_script("grm_multi_embodiment.sh", tiny_recipe, SEED="1")
    run = tiny_recipe / "runs" / "grm-mt40-robosuite-seed1"
    assert json.loads((run / "settings.json").read_text())["seed"] == 1
    table = json.loads((tiny_recipe / "benchmarks" / "results" / "grm_multi_embodiment-seed1.json").read_text())
    assert "grm-mt40-robosuite-seed1/one_shot/fused" in table and "grm-retract/one_shot/fused" in table


@pytest.mark.slow  # builds on grm_multi_embodiment.sh's model (slow above): two more collections and two evaluations
def test_randomized_views_experiment_writes_both_tables(tiny_recipe):
    run_script("grm_multi_embodiment.sh", tiny_recipe)
    run_script("grm_randomized_views.sh", tiny_recipe)
    results = tiny_recipe / "benchmarks" / "results"
    assert json.loads((results / "grm_randomized_views.json").read_text())
    other = json.loads((results / "grm_randomized_views_other_cameras.json").read_text())
    assert "grm-mt40-robosuite-randomized/one_shot/fused" in other
    assert json.loads((tiny_recipe / "data" / "heldout-embodiment-randomized" / "dataset.json").read_text())["env"]["randomize"]


@pytest.mark.slow  # ~75 s (three collections, two trainings, six evaluations): the CI suite's budget is 15 min
def test_retract_experiment_merges_its_two_halves(tiny_recipe):
    run_script("grm_retract.sh", tiny_recipe, TASKS_A="drawer-close-v3", TASKS_B="window-close-v3",
               EVAL_ARGS="--adapt-steps 2 --perspectives fused")
    table = json.loads((tiny_recipe / "benchmarks" / "results" / "grm_heldout_retract.json").read_text())
    assert sorted(table["grm-retract/one_shot/fused"]["per_task"]) == ["drawer-close-v3", "window-close-v3"]


@pytest.mark.slow  # a collection and two evaluations of five rows each (~40 s): the CI suite's budget is 15 min
def test_return_home_experiment_scores_both_fusions_on_retracted_episodes(tiny_recipe):
    run_script("grm_return_home.sh", tiny_recipe, TASKS_A="drawer-close-v3", TASKS_B="window-close-v3",
               EVAL_ARGS="--adapt-steps 2")
    assert json.loads((tiny_recipe / "data" / "heldout-return" / "dataset.json").read_text())["post_success"] == "retract"
    table = json.loads((tiny_recipe / "benchmarks" / "results" / "grm_return_home.json").read_text())
    assert table["grm_multi_embodiment/one_shot/fused"]["fusion"] == "median" and table["grm_multi_embodiment/one_shot/mean"]["fusion"] == "mean"
    assert sorted(table["grm_multi_embodiment/one_shot/fused"]["per_task"]) == ["drawer-close-v3", "window-close-v3"]

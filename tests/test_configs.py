"""Every command's settings are one typed config: every YAML key reaches the object the run uses,
bad input is refused at the door in one line with nothing written, and defaults work anywhere."""
import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from configs.typed import ConfigError, compose

ROOT = Path(__file__).parents[1]


def _schemas():
    from grm.cli.collect import CollectConfig
    from grm.cli.eval import EvalConfig
    from grm.one_shot import AdaptConfig
    from grm.train import TrainConfig
    from hardware.cli import DeployConfig, ImportBagConfig
    from policies.affordance import AffordanceConfig
    from policies.rl_run import RLConfig
    from policies.tool_high_level import HighLevelConfig
    from policies.tool_low_level import LowLevelConfig
    from policies.tool_video import VideoConfig

    return {"rl": RLConfig, "train": TrainConfig, "adapt": AdaptConfig, "eval": EvalConfig, "collect": CollectConfig,
            "deploy": DeployConfig, "import_bag": ImportBagConfig, "tool_low": LowLevelConfig, "tool_high": HighLevelConfig,
            "tool_affordance": AffordanceConfig, "tool_video": VideoConfig}


REQUIRED = {"adapt": ["demo={demo}"], "eval": ["dataset={dataset}"], "train": ["datasets=[{dataset}]"],
            "import_bag": ["bag={dataset}", "task=drawer-close"]}


def _leaves(node, prefix=""):
    for key, value in node.items():
        if key in ("defaults", "hydra"):
            continue
        if isinstance(value, dict) and value:
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield prefix + key, value


def _other(value):
    """A different value of the same type (None, lists and interpolations are left alone)."""
    if isinstance(value, bool):
        return [str(not value).lower()]
    if isinstance(value, int):
        return [str(value + 1), str(max(0, value - 1))]
    if isinstance(value, float):
        return [repr(value * 0.5), repr(min(0.99, value * 1.5)) if value < 1 else repr(value * 1.5)]
    if isinstance(value, str) and not set("${}") & set(value) and "/" in value:
        return [value + "-x"]
    return []


@pytest.mark.parametrize("name", sorted(_schemas()))
def test_every_yaml_key_reaches_the_object_the_run_uses(name, tiny_dataset, tmp_path):
    """Each key of the composed config (configs/<name>.yaml and the groups it pulls in), set to
    another value on the command line, arrives changed in the typed object (fails on a hand copy
    that drops a key, as grm-rl once dropped mesh_keep)."""
    schema = _schemas()[name]
    demo = tiny_dataset / "drawer-close-v3" / "expert_0000.hdf5"
    base = [o.format(demo=demo, dataset=tiny_dataset) for o in REQUIRED.get(name, [])]
    composed = dataclasses.asdict(compose(name, schema, base))
    assert set(yaml.safe_load((ROOT / "configs" / f"{name}.yaml").read_text())) - {"defaults"} <= set(composed)
    checked = 0
    for key, value in _leaves(composed):
        for candidate in _other(value):
            try:
                obj = compose(name, schema, [*base, f"{key}={candidate}"])
            except ConfigError:
                continue  # outside the allowed range: try the next candidate
            got = obj
            for part in key.split("."):
                got = got[part] if isinstance(got, dict) else getattr(got, part)
            assert got == yaml.safe_load(candidate) or str(got) == candidate, f"{key}={candidate} arrived as {got!r}"
            checked += 1
            break
    assert checked >= 3, f"{name}: only {checked} keys could be varied"


def test_mesh_keep_reaches_grm_rl():
    from policies.rl_run import compose_rl

    assert compose_rl("mesh_keep=1.0").mesh_keep == 1.0


def _cli(*args, cwd):
    env = {**os.environ, "HYDRA_FULL_ERROR": ""}
    env.pop("HYDRA_FULL_ERROR")
    code = f"import sys; from {args[0]} import {args[1]} as m; sys.argv[0] = {args[2]!r}; m()"
    return subprocess.run([sys.executable, "-c", code, *args[3:]], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize("module, entry, prog, override, message", [
    ("policies.cli_rl", "main", "grm-rl", "episodes=-3", "episodes=-3: must be >= 1"),
    ("policies.cli_rl", "main", "grm-rl", "reward=banana", "reward='banana': must be one of sparse, env_dense"),
    ("policies.cli_rl", "main", "grm-rl", "sac.learning_rate=banana", "could not be converted to Float (key: sac.learning_rate)"),
    ("policies.cli_rl", "main", "grm-rl", "mesh_kep=1", "Key 'mesh_kep' not in 'RLConfig'"),
    ("grm.cli.collect", "main", "grm-collect", "episodes=-3", "episodes=-3: must be >= 0"),
    ("grm.cli.collect", "main", "grm-collect", "env.image_size=0", "env.image_size=0: must be >= 16"),
    ("grm.cli.train", "main", "grm-train", "steps=-3", "steps=-3: must be >= 1"),
    ("grm.cli.adapt", "main", "grm-adapt", "demo=/no/such.hdf5", "demo='/no/such.hdf5': no such episode file"),
    ("grm.cli.eval", "main", "grm-eval", "dataset=/no/such", "dataset='/no/such': not a dataset folder"),
    ("grm.cli.eval", "main", "grm-eval", "guard=true",
     "guard=True: smooths the mean of the perspectives: pass fusion=mean with it"),
    ("hardware.cli", "deploy_main", "grm-deploy", "episodes=-3", "episodes=-3: must be >= 0"),
    ("hardware.cli", "import_bag_main", "grm-import-bag", "bag=/no/such", "missing mandatory value: task"),
    ("policies.cli_tool", "train_low_main", "tool-train-low", "steps=banana", "could not be converted to Integer"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(module, entry, prog, override, message, tmp_path):
    out = tmp_path / "out"
    proc = _cli(module, entry, prog, override, f"out={out}", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [x for x in proc.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"{prog}: error: ") and message in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists() and not any(tmp_path.iterdir())


def test_collect_refuses_nothing_to_do_before_writing_dataset_json(tmp_path):
    proc = _cli("grm.cli.collect", "main", "grm-collect", "episodes=0", f"out={tmp_path / 'd'}", cwd=tmp_path)
    assert proc.returncode == 2 and "nothing to collect" in proc.stderr and not (tmp_path / "d").exists()


def test_shipped_defaults_resolve_from_any_working_directory(tmp_path):
    """The shipped GRM and tweezer policy are package data: defaults name them, not a cwd-relative path."""
    from hardware.deploy import load_params
    from policies.rl_run import compose_rl

    os.chdir(tmp_path)
    try:
        cfg = compose_rl()
        assert Path(cfg.grm.checkpoint).is_file() and Path(cfg.grm.checkpoint).is_absolute()
        from grm.cli.eval import EvalConfig

        with pytest.raises(ConfigError, match="dataset="):  # the checkpoint default is found; only the data is missing
            compose("eval", EvalConfig)
        from hardware.cli import DeployConfig

        deploy = compose("deploy", DeployConfig, ["params=${pkg:configs/ros/sim_tweezers.yaml}"])
        policy = load_params(deploy.params)["policy_node"]["ros__parameters"]["policy"]
        from configs.typed import package_path

        assert Path(package_path(policy.removeprefix("pkg:"))).is_file()
    finally:
        os.chdir(ROOT)


def test_learned_settings_leave_out_bookkeeping():
    from configs.typed import learned_settings
    from policies.rl_run import compose_rl

    learned = learned_settings(compose_rl())
    assert "sac.learning_rate" in learned and "grm.adaptation.sampler.post_success_share" in learned and "mesh_keep" in learned
    assert not {"episodes", "out", "progress", "eval.video", "threads"} & set(learned)
    assert all(dataclasses.is_dataclass(x) is False for x in learned.values())


def test_grm_eval_refuses_a_dataset_without_episodes_instead_of_writing_nan(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "dataset.json").write_text("{}")
    out = tmp_path / "out"
    proc = _cli("grm.cli.eval", "main", "grm-eval", f"dataset={empty}", f"out={out}", cwd=tmp_path)
    assert proc.returncode == 2 and "holds no episodes" in proc.stderr and not out.exists()


def test_grm_train_refuses_to_resume_a_run_with_another_learning_rate(tiny_dataset, tmp_path):
    from grm.train import TrainConfig, train

    base = [f"datasets=[{tiny_dataset}]", f"out={tmp_path / 'r'}", "steps=1", "batch_size=2", "progress=false",
            "model.width=8", "model.embed_dim=32", "threads=1"]
    train(compose("train", TrainConfig, base))
    with pytest.raises(ConfigError, match=r"lr=0.0003 -> 0.001.*resume=false"):
        train(compose("train", TrainConfig, [*base, "lr=1e-3"]))
    train(compose("train", TrainConfig, [*base, "lr=1e-3", "resume=false"]))  # asked for: starts over
    spelled = [f"datasets=[{tiny_dataset}/.]", *base[1:], "lr=1e-3", "steps=2"]
    train(compose("train", TrainConfig, spelled))  # the same dataset written another way resumes


def test_a_setting_added_later_at_its_absent_value_still_resumes_older_runs(tmp_path):
    """A setting with `absent` (what runs recorded before it existed did) is left out of the record
    at that value: an older folder resumes, one recorded with the key at that value too, and a run
    asking for something else is refused by name."""
    import json

    from configs.typed import RECORD, claim_run_folder
    from policies.rl_run import compose_rl

    out = tmp_path / "run"
    cfg = compose_rl(f"out={out}")
    assert not claim_run_folder(out, cfg, resume=True)
    record = json.loads((out / RECORD).read_text())
    assert "demo.clone_proposes" not in record and "grm.adaptation.synthetic_failures" not in record
    assert claim_run_folder(out, cfg, resume=True)  # as a folder from before the setting: resumes
    (out / RECORD).write_text(json.dumps({**record, "demo.clone_proposes": False}))
    assert claim_run_folder(out, cfg, resume=True)  # recorded at the absent value: the same run
    with pytest.raises(ConfigError, match=r"demo.clone_proposes='<unset>' -> True"):
        claim_run_folder(out, compose_rl(f"out={out}", "demo.clone_proposes=true"), resume=True)
    # the median fusion is the default, not the absent value: a folder from before it fused by the
    # mean and resumes only with grm.fusion=mean
    assert record["grm.fusion"] == "median"
    (out / RECORD).write_text(json.dumps({k: v for k, v in record.items() if k != "grm.fusion"}))
    with pytest.raises(ConfigError, match=r"grm.fusion='<unset>' -> 'median'"):
        claim_run_folder(out, cfg, resume=True)
    assert claim_run_folder(out, compose_rl(f"out={out}", "grm.fusion=mean"), resume=True)


COMMANDS = {  # console script -> (module, entry point)
    "grm-collect": ("grm.cli.collect", "main"), "grm-train": ("grm.cli.train", "main"),
    "grm-adapt": ("grm.cli.adapt", "main"), "grm-eval": ("grm.cli.eval", "main"), "grm-rl": ("policies.cli_rl", "main"),
    "grm-convert": ("grm.cli.convert", "main"),
    "grm-deploy": ("hardware.cli", "deploy_main"), "grm-import-bag": ("hardware.cli", "import_bag_main"),
    "tool-train-low": ("policies.cli_tool", "train_low_main"),
    "tool-train-affordance": ("policies.cli_tool", "train_affordance_main"),
    "tool-train-high": ("policies.cli_tool", "train_high_main"), "tool-video": ("policies.cli_tool", "video_main"),
}


def test_every_console_script_is_a_typed_command():
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    hydra_apps = {name: target for name, target in scripts.items() if not target.endswith("_node:main")}  # ROS nodes
    assert {name: tuple(t.split(":")) for name, t in hydra_apps.items()} == COMMANDS


@pytest.mark.parametrize("prog", sorted(COMMANDS))
def test_every_command_composes_its_defaults_from_another_directory(prog, tmp_path):
    """`--cfg job` from an empty folder: every default resolves (shipped files are package data)."""
    module, entry = COMMANDS[prog]
    proc = _cli(module, entry, prog, "--cfg", "job", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "out:" in proc.stdout and not any(tmp_path.iterdir())

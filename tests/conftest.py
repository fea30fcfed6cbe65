import os

os.environ.setdefault("MUJOCO_GL", "egl")

import pytest  # noqa: E402

TINY_CAMERAS = ("corner", "gripperPOV")


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory):
    """Two tasks, 32px, two views: experts plus failures; enough for GRM plumbing tests."""
    from grm.dataset.collect import EnvSettings, collect

    root = tmp_path_factory.mktemp("tiny_dataset")
    counts = {"expert": 3, "early_stop": 1, "wrong": 1, "reversed": 1}
    collect(["reach-v3", "drawer-close-v3"], counts, 0, root, EnvSettings(TINY_CAMERAS, 32, 200), progress=False)
    return root


@pytest.fixture(scope="session")
def tiny_grm(tiny_dataset, tmp_path_factory):
    """A GRM checkpoint for the tiny dataset's views (2 training steps: for plumbing, not quality)."""
    from configs.typed import compose
    from grm.train import TrainConfig, train

    out = tmp_path_factory.mktemp("tiny_grm")
    return train(compose("train", TrainConfig, [f"datasets=[{tiny_dataset}]", f"out={out}", "steps=2", "batch_size=2",
                                                "warmup=1", "log_every=1000", "ckpt_every=1000", "progress=false",
                                                "model.width=8", "model.embed_dim=32"]))


@pytest.fixture(scope="session")
def ros_domain():
    """Real DDS, kept on 127.0.0.1, in a domain of this test run's own."""
    from hardware.dds import use_loopback

    domain = 1 + os.getpid() % 100
    use_loopback(domain)
    return domain


@pytest.fixture
def load_benchmark(monkeypatch):
    """Import a script of benchmarks/ by name (benchmarks/ is a folder of scripts, not a package; a
    script may import another, as running it from benchmarks/ allows)."""
    import importlib.util
    from pathlib import Path

    folder = Path(__file__).parents[1] / "benchmarks"
    monkeypatch.syspath_prepend(str(folder))

    def load(name: str):
        path = folder / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load

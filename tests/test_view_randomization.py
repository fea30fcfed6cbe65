"""Randomized rendering (envs/rendering.py ViewRandomization): a render-only change drawn from the
episode seed, so the same seed gives the same pictures, another seed other pictures, and the
physics and state are those of the unrandomized task."""
import json

import numpy as np
import pytest

from envs.metaworld_env import MetaWorldTask
from envs.rendering import ViewRandomization

STRONG = ViewRandomization(camera_deg=8.0, camera_m=0.03, light=0.4, color=0.3)


def _episode(env, seed: int, steps: int = 5):
    obs, _ = env.reset(seed=seed)
    frames, states = [obs["pixels"]], [obs["state"]]
    for _ in range(steps):
        obs = env.step(np.array([0.5, 0.2, -0.3, 1.0]))[0]
        frames.append(obs["pixels"])
        states.append(obs["state"])
    return np.stack(frames), np.stack(states)


def test_draws_follow_the_seed_and_never_touch_the_physics():
    plain = MetaWorldTask("reach-v3", ("corner", "gripperPOV"), image_size=32)
    randomized = MetaWorldTask("reach-v3", ("corner", "gripperPOV"), image_size=32, randomization=STRONG)
    f0, s0 = _episode(plain, 3)
    f1, s1 = _episode(randomized, 3)
    f2, s2 = _episode(randomized, 3)
    f3, _ = _episode(randomized, 4)
    assert np.array_equal(s0, s1) and np.array_equal(s1, s2)  # same placement and motion
    assert np.array_equal(f1, f2)  # the same seed draws the same views
    assert np.abs(f1.astype(int) - f0).mean() > 5  # a visible change from the plain render
    assert np.abs(f3[0].astype(int) - f1[0]).mean() > 5  # another seed, other views
    assert np.array_equal(_episode(plain, 3)[0], f0)  # the plain renderer is untouched by the others
    plain.close()
    randomized.close()


def test_out_of_range_settings_are_refused():
    with pytest.raises(ValueError, match="color"):
        ViewRandomization(color=1.0)
    with pytest.raises(ValueError, match="camera_deg"):
        ViewRandomization(camera_deg=-1.0)


def test_dataset_records_randomization_only_when_used(tmp_path):
    """Folders collected before randomization existed stay current for plain collections."""
    from grm.dataset.collect import EnvSettings, collect

    plain = EnvSettings(("corner",), 32, 100)
    collect(["reach-v3"], {"expert": 1}, 0, tmp_path, plain, progress=False)
    assert "randomize" not in json.loads((tmp_path / "dataset.json").read_text())["env"]
    with pytest.raises(ValueError, match="randomize"):
        collect(["reach-v3"], {"expert": 2}, 0, tmp_path, EnvSettings(("corner",), 32, 100, randomize=STRONG),
                progress=False)


def test_collect_refuses_a_randomization_out_of_range():
    from configs.typed import ConfigError, compose
    from grm.cli.collect import CollectConfig

    with pytest.raises(ConfigError, match=r"env.randomize.color=1.5: must be < 1"):
        compose("collect", CollectConfig, ["env.randomize.color=1.5"])

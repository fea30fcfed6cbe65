"""Policy files and replay buffers load without running code from them, everywhere they are loaded."""
import base64
import json
import pickle
import zipfile

import numpy as np
import pytest

from policies.policy_file import (META, UnsafePolicyFile, load_policy_file, load_replay_buffer, save_policy_file,
                                  save_replay_buffer)


class _Marker:
    """Unpickling this creates the marker file: the proof that code ran."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _payload(marker) -> str:
    return base64.b64encode(pickle.dumps(_Marker(marker))).decode()


@pytest.fixture(scope="module")
def small_sac(tmp_path_factory):
    import gymnasium as gym
    from stable_baselines3 import SAC

    from policies.layer_norm_sac import LayerNormSACPolicy

    env = gym.make("Pendulum-v1")
    model = SAC(LayerNormSACPolicy, env, policy_kwargs={"net_arch": [16]}, buffer_size=500, learning_starts=10,
                device="cpu", seed=0)
    model.learn(40)
    path = save_policy_file(model, tmp_path_factory.mktemp("policy") / "model.zip")
    return model, path


def _rewrite(src, dst, edit_data=None, drop_meta=False):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.namelist():
            if drop_meta and item == META:
                continue
            blob = zin.read(item)
            if item == "data" and edit_data:
                data = json.loads(blob)
                edit_data(data)
                blob = json.dumps(data).encode()
            zout.writestr(item, blob)
    return dst


def test_a_saved_policy_loads_back_with_the_same_actions_and_no_pickles_decoded(small_sac):
    model, path = small_sac
    loaded = load_policy_file(path, for_acting=True)
    obs = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_allclose(loaded.predict(obs, deterministic=True)[0], model.predict(obs, deterministic=True)[0])
    assert type(loaded.policy).__name__ == "LayerNormSACPolicy" and loaded.replay_buffer.buffer_size == 1


@pytest.mark.parametrize("key", ["observation_space", "policy_class", "lr_schedule", "train_freq"])
def test_a_crafted_pickle_in_a_known_entry_is_never_decoded(small_sac, tmp_path, key):
    _, path = small_sac
    marker = tmp_path / "pwned"
    evil = _rewrite(path, tmp_path / "evil.zip",
                    lambda d: d.__setitem__(key, {":type:": "x", ":serialized:": _payload(marker)}))
    load_policy_file(evil, for_acting=True)
    assert not marker.exists()


def test_a_crafted_pickle_in_an_unknown_entry_is_refused_by_name(small_sac, tmp_path):
    _, path = small_sac
    marker = tmp_path / "pwned"
    evil = _rewrite(path, tmp_path / "evil.zip",
                    lambda d: d.__setitem__("surprise", {":type:": "x", ":serialized:": _payload(marker)}))
    with pytest.raises(UnsafePolicyFile, match=r"evil.zip.*\['surprise'\].*run code"):
        load_policy_file(evil)
    assert not marker.exists()


def test_a_plain_sb3_zip_is_refused_everywhere_a_policy_is_loaded(small_sac, tmp_path):
    """The policy node, the tweezer levels and the pick evaluation all go through the one loader."""
    from hardware.policy_loader import load_policy
    from hardware.policy_io import MetaWorldObservation
    from hardware.profile import load_profile
    from policies.tool_low_level import load_low_level
    from policies.tool_pick_eval import load_pick_policy

    _, path = small_sac
    marker = tmp_path / "pwned"
    evil = _rewrite(path, tmp_path / "model.zip", drop_meta=True,
                    edit_data=lambda d: d.__setitem__("observation_space", {":serialized:": _payload(marker)}))
    profile = load_profile("sawyer_metaworld")
    loaders = [lambda: load_policy(str(evil), profile, MetaWorldObservation(profile)),
               lambda: load_low_level(str(evil)), lambda: load_pick_policy("hierarchical", high_dir=str(tmp_path))]
    for load in loaders:
        with pytest.raises(UnsafePolicyFile, match=f"{evil}.*plain Stable-Baselines3 zip"):
            load()
    assert not marker.exists()


def test_meta_bounds_are_checked(small_sac, tmp_path):
    _, path = small_sac
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(bad, "w") as zout:
        for item in zin.namelist():
            blob = zin.read(item)
            if item == META:
                meta = json.loads(blob)
                meta["action_space"]["low"] = [3.0]  # above high (2.0)
                blob = json.dumps(meta).encode()
            zout.writestr(item, blob)
    with pytest.raises(UnsafePolicyFile, match="action_space: low/high"):
        load_policy_file(bad)


def test_replay_buffers_round_trip_as_arrays_and_a_pickle_is_refused(small_sac, tmp_path):
    import gymnasium as gym
    from stable_baselines3 import SAC

    model, _ = small_sac
    path = save_replay_buffer(model.replay_buffer, tmp_path / "buffer.npz")
    fresh = SAC("MlpPolicy", gym.make("Pendulum-v1"), buffer_size=500, device="cpu")
    load_replay_buffer(fresh.replay_buffer, path)
    assert fresh.replay_buffer.pos == model.replay_buffer.pos
    n = model.replay_buffer.pos
    np.testing.assert_array_equal(fresh.replay_buffer.observations[:n], model.replay_buffer.observations[:n])
    np.testing.assert_array_equal(fresh.replay_buffer.rewards[:n], model.replay_buffer.rewards[:n])
    marker = tmp_path / "pwned"
    (tmp_path / "evil.npz").write_bytes(pickle.dumps(_Marker(marker)))
    with pytest.raises(UnsafePolicyFile, match="evil.npz.*never unpickled"):
        load_replay_buffer(fresh.replay_buffer, tmp_path / "evil.npz")
    assert not marker.exists()

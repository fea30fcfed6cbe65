"""The policy's hand-relative input: what it keeps, what it drops, and that policy files carry it."""
import numpy as np
import pytest
import torch

from envs.task_spaces import GOAL, HAND, OBJ1, OBJ2, previous
from policies.hand_relative import FEATURES_DIM, HandRelative, hand_relative


def _shifted(state: np.ndarray, shift: np.ndarray) -> np.ndarray:
    out = state.copy()
    for index in (HAND, OBJ1, OBJ2):
        out[:, index] += shift
        out[:, previous(index)] += shift
    out[:, GOAL] += shift
    return out


def test_moving_the_whole_scene_changes_only_the_hand_position():
    state = np.random.default_rng(0).normal(size=(4, 39))
    shift = np.array([0.1, -0.2, 0.05])
    a = hand_relative(torch.as_tensor(state)).numpy()
    b = hand_relative(torch.as_tensor(_shifted(state, shift))).numpy()
    assert a.shape == (4, FEATURES_DIM)
    np.testing.assert_allclose(b[:, :3] - a[:, :3], np.broadcast_to(shift, (4, 3)), atol=1e-12)
    np.testing.assert_allclose(b[:, 3:], a[:, 3:], atol=1e-12)
    moved = state.copy()
    moved[:, OBJ1] += shift  # the object alone moves: its offset from the hand and its step change see it
    c = hand_relative(torch.as_tensor(moved)).numpy()
    np.testing.assert_allclose(c[:, 4:7] - a[:, 4:7], np.broadcast_to(shift, (4, 3)), atol=1e-12)


def test_a_policy_on_hand_relative_input_round_trips_through_a_policy_file(tmp_path):
    from envs.rl_task import RLTask
    from policies.fused_sac import EnsembleSACPolicy, FusedSAC
    from policies.policy_file import load_policy_file, save_policy_file

    env = RLTask("reach-v3", max_steps=20)
    model = FusedSAC(EnsembleSACPolicy, env, policy_kwargs={"net_arch": [16], "features_extractor_class": HandRelative},
                     buffer_size=100, device="cpu", seed=0)
    path = save_policy_file(model, tmp_path / "model.zip")
    loaded = load_policy_file(path, for_acting=True)
    obs = np.random.default_rng(1).normal(size=(5, 39)).astype(np.float32)
    assert isinstance(loaded.policy.actor.features_extractor, HandRelative)
    np.testing.assert_allclose(loaded.predict(obs, deterministic=True)[0], model.predict(obs, deterministic=True)[0])
    env.close()


def test_a_state_of_another_layout_is_refused():
    import gymnasium as gym

    with pytest.raises(ValueError, match="39-d task state, got shape \\(12,\\)"):
        HandRelative(gym.spaces.Box(-1, 1, shape=(12,)))

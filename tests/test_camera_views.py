"""A gymnasium environment outside Meta-World (gymnasium's MuJoCo Pusher) trains with GRM-shaped
reward through CameraViews + ShapedRewardVecEnv, its own cameras mapped onto the GRM's views."""
import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.vec_env import DummyVecEnv

from envs.camera_views import CameraViews
from envs.rendering import FreeCamera

CAMERAS = [FreeCamera("front", lookat=(0.0, -0.3, 0.0), distance=1.6, azimuth=90, elevation=-30),
           FreeCamera("top", lookat=(0.0, -0.3, 0.0), distance=1.8, azimuth=90, elevation=-89)]


def pusher(max_steps: int = 25) -> CameraViews:
    """Pusher-v5 has no success flag: the object within 5 cm of the goal is success."""
    return CameraViews(gym.make("Pusher-v5", max_episode_steps=max_steps), CAMERAS, image_size=32,
                       success=lambda info: -info["reward_dist"] < 0.05)


def test_views_reward_and_termination_follow_the_environment():
    env = pusher()
    obs, info = env.reset(seed=0)
    assert info["pixels"].shape == (2, 32, 32, 3) and info["pixels"].std() > 0  # a scene, not a blank frame
    _, r, terminated, truncated, info = env.step(env.action_space.sample())
    assert r in (0.0, 1.0) and r == float(info["is_success"]) and not terminated
    assert info["env_reward"] < 0  # Pusher's own reward, kept for env_dense
    for _ in range(30):
        *_, terminated, truncated, info = env.step(env.action_space.sample())
        if truncated:
            break
    assert truncated and not terminated  # the time limit truncates; success would terminate only if asked
    env.close()
    with pytest.raises(ValueError, match="unknown camera.*this model has: none.*FreeCamera"):
        CameraViews(gym.make("Pusher-v5"), ["corner"])
    with pytest.raises(KeyError, match="no `is_success`: pass CameraViews\\(success=...\\)"):
        plain = CameraViews(gym.make("Pusher-v5"), CAMERAS, image_size=16)
        plain.reset(seed=0)
        plain.step(plain.action_space.sample())


def test_pusher_trains_with_grm_pbrs(tiny_grm):
    from grm.inference import RewardModel
    from policies.fused_sac import EnsembleSACPolicy, FusedSAC
    from policies.shaping import GRMPotential, ShapedRewardVecEnv

    # references: the first and last frames of a rollout stand in for a demo's START and END
    env = pusher()
    _, info = env.reset(seed=1)
    start = info["pixels"]
    for _ in range(10):
        *_, info = env.step(env.action_space.sample())
    env.close()
    rm = RewardModel.load(tiny_grm, available=["front", "top"], views={"corner": "front", "gripperPOV": "top"})
    rm.set_reference(start, info["pixels"])
    gamma = 0.99
    venv = ShapedRewardVecEnv(DummyVecEnv([pusher]), "grm_pbrs", gamma, GRMPotential(rm, 1), reward_scale=10.0)
    model = FusedSAC(EnsembleSACPolicy, venv, gamma=gamma, learning_starts=30, batch_size=16, seed=0, device="cpu",
                     policy_kwargs={"net_arch": [16, 16]})
    model.learn(60)
    assert model.num_timesteps == 60 and model._n_updates == 30
    # each stored reward is the PBRS reward of the GRM's potential, scaled
    buf = model.replay_buffer
    rewards = buf.rewards[:buf.pos, 0]
    assert np.all(np.isfinite(rewards)) and np.abs(rewards).max() <= 10 * (1 + 1 + gamma)
    venv.reset()
    phi0 = float(venv.phi[0])
    _, reward, _, infos = venv.step(np.zeros((1, 7), dtype=np.float32))
    r_task = float(infos[0]["is_success"])
    assert 0.0 <= infos[0]["phi"] <= 1.0 and "pixels" not in infos[0]
    assert reward[0] == pytest.approx(10 * (r_task + gamma * infos[0]["phi"] - phi0), abs=1e-5)
    venv.close()

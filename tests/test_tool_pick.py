"""The pick task: perception at reset, the low level inside each step, the privileged reference."""
import numpy as np

from envs.tweezers.pick_env import ObjectDistribution, PrivilegedPickHeuristic, TweezerPickEnv
from envs.tweezers.scene import ObjectSpec


def test_privileged_heuristic_picks_a_box_and_the_observation_is_what_a_robot_sees():
    env = TweezerPickEnv(ObjectDistribution(("box",), (0.015, 0.016)))
    obs, info = env.reset(seed=3)
    assert env.observation_space.contains(obs)
    obj_xy = env.data.body("object").xpos[:2]
    np.testing.assert_allclose(obs[10:12], obj_xy, atol=0.004)  # centroid from the depth clouds
    policy = PrivilegedPickHeuristic(env)
    for _ in range(env.max_steps):
        obs, reward, terminated, truncated, info = env.step(policy(obs))
        if info["is_success"] or terminated or truncated:
            break
    assert info["is_success"] and reward == 1.0 and info["lifted"] > 0.04


def test_doing_nothing_lifts_nothing_and_affordance_estimates_enter_the_observation():
    env = TweezerPickEnv(affordance=lambda pts: (0.2, 0.1))
    obs, _ = env.reset(seed=0, options={"object": (ObjectSpec("cylinder", 0.015), np.zeros(2))})
    np.testing.assert_allclose(obs[14:], [0.2, 0.1])
    for _ in range(5):
        obs, reward, terminated, truncated, info = env.step(np.array([0, 0, 0, 1.0]))
    assert reward == 0.0 and not info["is_success"] and abs(info["lifted"]) < 0.003


def test_high_level_training_seeds_from_the_heuristic_and_reads_the_affordance(tmp_path):
    import json

    import torch

    from policies.affordance import PointNet
    from policies.tool_high_level import HighLevelConfig, load_affordance, train_high_level

    torch.save(PointNet().state_dict(), tmp_path / "aff.pt")
    estimate = load_affordance(str(tmp_path / "aff.pt"))
    approach, contact = estimate(np.random.default_rng(0).normal(0, 0.01, (100, 3)))
    assert 0.0 <= contact <= approach <= 0.3
    ckpt = train_high_level(HighLevelConfig(out=str(tmp_path / "high"), steps=40, seed_episodes=1,
                                            affordance=str(tmp_path / "aff.pt"), batch_size=16, net_arch=[16, 16],
                                            progress=False))
    assert ckpt.is_file()
    assert json.loads((tmp_path / "high" / "train.json").read_text())["seed_episodes_success"] == 1.0

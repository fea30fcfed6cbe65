"""The low-level tweezer task and controllers."""
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from configs.typed import compose
from envs.tweezers.tool_env import ToolOpeningEnv
from envs.tweezers.opening_controller import OpeningPController
from policies.tool_low_level import LowLevelConfig, evaluate_low_level, train_low_level


def test_env_follows_the_goal_api_and_rewards_are_relabelable():
    env = ToolOpeningEnv(max_steps=10)
    check_env(env, skip_render_check=True)
    obs, _ = env.reset(seed=0, options={"goal": 0.1})
    assert obs["desired_goal"][0] == 0.1 and obs["observation"].shape == (14,)
    obs, reward, *_ , info = env.step(np.full(6, np.nan))  # NaN actions do nothing
    assert reward == pytest.approx(env.compute_reward(obs["achieved_goal"], obs["desired_goal"], info))
    batch = env.compute_reward(np.array([[0.1], [0.2]]), np.array([[0.1], [0.1]]), [{}, {}])
    np.testing.assert_allclose(batch, [0.0, -0.1 / 0.3], atol=1e-9)


def test_dropping_the_tool_ends_the_episode_as_a_failure():
    env = ToolOpeningEnv(max_steps=10)
    env.reset(seed=0)
    from envs.tweezers import scene

    original = scene.update_grip
    scene.update_grip = lambda m, d: original(m, d, limit=0.01)  # a grip weaker than the tool's weight
    try:
        _, _, terminated, _, info = env.step(np.zeros(6))
    finally:
        scene.update_grip = original
    assert terminated and info["dropped"] and not info["is_success"]


def test_p_controller_reaches_and_holds_openings_across_the_range():
    result = evaluate_low_level(OpeningPController(), np.linspace(0.0, 0.28, 8))
    assert result["success_rate"] >= 0.95 and result["dropped"] == 0, result


def test_sac_her_training_runs_seeds_its_buffer_and_reports(tmp_path):
    cfg = compose("tool_low", LowLevelConfig, [f"out={tmp_path}", "steps=150", "seed_episodes=2", "eval_goals=2",
                                               "batch_size=32", "net_arch=[16,16]", "progress=false"])
    report = train_low_level(cfg)
    assert (tmp_path / "model.zip").is_file() and (tmp_path / "report.json").is_file()
    assert len(report["learned"]["episodes"]) == 2 and report["p_controller"]["success_rate"] == 1.0
    again = train_low_level(cfg)  # a finished run is evaluated again, not retrained
    assert again["learned"]["episodes"] == report["learned"]["episodes"]

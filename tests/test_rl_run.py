"""grm-rl end to end on tiny budgets: real MuJoCo, real SB3, every file a user looks at."""

import numpy as np
import pytest

from policies.demo_buffer import DemoMixReplayBuffer
from policies.rl_run import RLConfig, demo_transitions, run

TINY = dict(episodes=4, max_steps=40, eval_every_episodes=2, eval_episodes=1, final_eval_episodes=2,
            checkpoint_every_episodes=2, progress=False,
            sac={"learning_starts": 50, "batch_size": 32, "buffer_size": 5000, "gamma": 0.99, "net_arch": [32, 32]})


def test_sac_oracle_run_writes_report_video_and_resumes(tmp_path):
    cfg = RLConfig(task="reach-v3", out=str(tmp_path), reward="oracle_pbrs", **TINY)
    report = run(cfg)
    assert report["episodes"] == 4 and 0.0 <= report["final_success_rate"] <= 1.0
    assert [c["episodes"] for c in report["curve"]] == [2, 4]
    for name in ("report.json", "report.md", "learning_curve.png", "eval.mp4", "checkpoints/model.zip",
                 "checkpoints/replay_buffer.npz"):
        assert (tmp_path / name).is_file(), name
    assert (tmp_path / "eval.mp4").stat().st_size > 1000
    # a longer budget resumes from the checkpoint instead of starting over
    report2 = run(RLConfig(**{**cfg.__dict__, "episodes": 6, "video": False}))
    assert report2["episodes"] == 6 and report2["env_steps"] > report["env_steps"]
    assert [c["episodes"] for c in report2["curve"]] == [2, 4, 6]


def test_ppo_sparse_run(tmp_path):
    cfg = RLConfig(task="reach-v3", out=str(tmp_path), reward="sparse", algo="ppo", video=False,
                   ppo={"n_steps": 64, "batch_size": 32, "n_epochs": 2, "gamma": 0.99, "net_arch": [32, 32]},
                   **{k: v for k, v in TINY.items() if k != "sac"})
    assert run(cfg)["episodes"] == 4


def test_demo_seeds_every_sac_batch(tiny_dataset):
    demo = next(p for p in sorted((tiny_dataset / "reach-v3").glob("expert_*.hdf5")))
    d = demo_transitions(demo, "oracle_pbrs", 0.99)
    assert d["dones"][-1] == 1 and d["dones"][:-1].sum() == 0
    T = len(d["rewards"])  # PBRS on the demo telescopes: sum gamma^t r_t = gamma^(T-1) * 1 - Phi(s_0), Phi(s_0) = 0
    np.testing.assert_allclose((0.99 ** np.arange(T) * d["rewards"]).sum(), 0.99 ** (T - 1), atol=1e-4)
    import gymnasium as gym

    obs_space = gym.spaces.Box(-np.inf, np.inf, (39,), np.float32)
    act_space = gym.spaces.Box(-1, 1, (4,), np.float32)
    buf = DemoMixReplayBuffer(100, obs_space, act_space, demo=d, demo_ratio=0.25)
    for _ in range(10):
        buf.add(np.full((1, 39), 7.0), np.full((1, 39), 7.0), np.zeros((1, 4)), np.zeros(1), np.zeros(1), [{}])
    batch = buf.sample(16)
    from_demo = (batch.observations[:, 0] != 7.0).sum().item()
    assert from_demo == 4 and batch.observations.shape == (16, 39)


def test_bad_rl_inputs_fail_clearly(tmp_path):
    with pytest.raises(ValueError, match="unknown task"):
        run(RLConfig(task="reach-v9", out=str(tmp_path)))
    with pytest.raises(ValueError, match="unknown reward mode"):
        run(RLConfig(task="reach-v3", out=str(tmp_path), reward="dense"))
    with pytest.raises(FileNotFoundError, match="GRM checkpoint not found"):
        run(RLConfig(task="reach-v3", out=str(tmp_path), grm_checkpoint=str(tmp_path / "none.pt")))

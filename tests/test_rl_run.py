"""grm-rl end to end on tiny budgets: real MuJoCo, real SB3, every file a user looks at."""

import json

import numpy as np
import pytest

from configs.typed import ConfigError
from policies.demo_buffer import DemoMixReplayBuffer
from policies.rl_run import compose_rl, demo_transitions, run

TINY = ["episodes=4", "max_steps=40", "eval.every_episodes=2", "eval.episodes=1", "eval.final_episodes=2",
        "checkpoint_every_episodes=2", "progress=false", "task=reach-v3"]
TINY_SAC = ["sac.learning_starts=50", "sac.batch_size=32", "sac.buffer_size=5000", "sac.net_arch=[32,32]",
            "sac.compile=false", "demo.pretrain_updates=10"]
SB3 = ["sac.compile=false", "demo.pretrain_updates=0", "demo.bc_weight=0"]  # what algo=sb3_sac needs


def test_sac_oracle_run_writes_report_video_and_resumes(tmp_path, caplog):
    warm_start = ["demo.pretrain_updates=10", "demo.bc_weight=1.0", "demo.bc_anneal_updates=50"]
    tiny = [*TINY, *TINY_SAC, *warm_start, f"out={tmp_path}", "reward=oracle_pbrs", "sac.n_steps=3"]
    caplog.set_level("INFO", logger="grm-rl")
    report = run(compose_rl(*tiny))
    assert report["episodes"] == 4 and report["final_success_rate"] in (0.0, 0.5, 1.0)  # 2 final episodes
    assert [c["episodes"] for c in report["curve"]] == [2, 4]
    for name in ("report.json", "report.md", "learning_curve.png", "eval.mp4", "checkpoints/model.zip",
                 "checkpoints/replay_buffer.npz", "settings.json"):
        assert (tmp_path / name).is_file(), name
    assert (tmp_path / "eval.mp4").stat().st_size > 1000
    # a longer budget resumes from the checkpoint instead of starting over; wall time adds up
    report2 = run(compose_rl(*tiny, "episodes=6", "eval.video=false"))
    assert report2["episodes"] == 6 and report2["env_steps"] > report["env_steps"]
    assert [c["episodes"] for c in report2["curve"]] == [2, 4, 6]
    # the kept policy: the best evaluation, the later one on ties, judged over the resumed run's whole curve
    best = max(report2["curve"], key=lambda c: (c["success_rate"], c["episodes"]))
    assert report2["best"]["episodes"] == best["episodes"] and report2["best"]["success_rate"] == best["success_rate"]
    assert report2["best"]["final_success_rate"] in (0.0, 0.5, 1.0) and (tmp_path / "checkpoints/best_model.zip").is_file()
    assert "kept policy" in (tmp_path / "report.md").read_text()
    assert json.loads((tmp_path / "checkpoints/best_model.json").read_text()) == {k: best[k] for k in ("episodes",
                                                                                                  "success_rate")}
    assert report2["wall_s"] > report["wall_s"]
    assert caplog.text.count("pretraining on the demo: 10 updates") == 1  # once, not again on resume
    # other learning settings in the same folder: refused by name, nothing touched
    with pytest.raises(ConfigError, match=r"out=.*sac.learning_rate=0.0003 -> 0.001.*resume=false"):
        run(compose_rl(*tiny, "episodes=6", "sac.learning_rate=1e-3"))
    # ... unless asked to start over
    report3 = run(compose_rl(*tiny, "sac.learning_rate=1e-3", "resume=false", "eval.video=false"))
    assert report3["episodes"] == 4 and [c["episodes"] for c in report3["curve"]] == [2, 4]


def test_keep_best_saves_on_a_new_best_or_a_later_tie():
    from policies.run_callbacks import KeepBest

    state, saved = {"episodes": 0, "curve": []}, []
    keep = KeepBest(state, 10, lambda model, best: saved.append(best["episodes"]))
    keep.model = None  # set by SB3 when the callback starts
    for episode, rate in zip((10, 20, 30, 40, 50), (0.5, 0.9, 0.2, 0.9, 0.1)):
        state["curve"].append({"episodes": episode, "success_rate": rate})
        keep.act(episode)
    assert saved == [10, 20, 40] and state["best"] == {"episodes": 40, "success_rate": 0.9}


def test_ppo_sparse_run(tmp_path):
    cfg = compose_rl(*TINY, f"out={tmp_path}", "reward=sparse", "algo=ppo", "eval.video=false", "ppo.n_steps=64",
                     "ppo.batch_size=32", "ppo.n_epochs=2", "ppo.net_arch=[32,32]")
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


def test_demo_buffer_n_step_returns():
    """sac.n_steps: online and demo rows alike sum up to n rewards and bootstrap with gamma^k from
    the state k steps on, k cut short by a termination or the demo's end; n=1 samples exactly
    what SB3's ReplayBuffer does."""
    import gymnasium as gym
    from stable_baselines3.common.buffers import ReplayBuffer

    from policies.demo_buffer import n_step_transitions

    obs = np.arange(6, dtype=np.float32)[:, None]
    demo = {"obs": obs[:5], "next_obs": obs[1:], "actions": np.zeros((5, 1), np.float32),
            "rewards": np.array([1, 2, 3, 4, 5], np.float32), "dones": np.array([0, 0, 1, 0, 0], np.float32)}
    d = n_step_transitions(demo, 3, 0.5)
    np.testing.assert_allclose(d["rewards"], [1 + 1 + 0.75, 2 + 1.5, 3, 4 + 2.5, 5])  # no sum crosses the termination
    np.testing.assert_allclose(d["discounts"], [0.125, 0.25, 0.5, 0.25, 0.5])
    np.testing.assert_array_equal(d["next_obs"][:, 0], [3, 3, 3, 5, 5])
    np.testing.assert_array_equal(d["dones"], [1, 1, 1, 0, 0])

    space = gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)
    buffers = {n: DemoMixReplayBuffer(50, space, space, demo=demo, demo_ratio=0.5, n_steps=n, gamma=0.5) for n in (1, 3)}
    plain = ReplayBuffer(50, space, space)
    for t in range(20):  # online: reward t, an episode end (time limit) every 10 steps
        for buf in (*buffers.values(), plain):
            buf.add(np.array([[t]]), np.array([[t + 1]]), np.zeros((1, 1)), np.array([t]), np.array([t % 10 == 9]),
                    [{"TimeLimit.truncated": t % 10 == 9}])
    np.random.seed(0)
    one = buffers[1].sample(8)
    np.random.seed(0)
    reference = plain.sample(4)
    for a, b in zip(one[:5], reference[:5]):
        np.testing.assert_array_equal(a[:4].numpy(), b.numpy())
    batch = buffers[3].sample(64)
    t, r, disc = batch.observations[:32, 0].numpy(), batch.rewards[:32, 0].numpy(), batch.discounts[:32, 0].numpy()
    k = np.minimum(3, 10 - t % 10)  # steps summed before the episode's time limit
    np.testing.assert_allclose(r, sum(np.where(j < k, 0.5 ** j * (t + j), 0) for j in range(3)))
    np.testing.assert_allclose(disc, 0.5 ** k)
    np.testing.assert_allclose(batch.next_observations[:32, 0].numpy(), t + k)
    assert set(batch.discounts[32:, 0].tolist()) <= {0.125, 0.25, 0.5}  # the demo rows, n-step too


def test_bad_rl_inputs_fail_clearly(tmp_path):
    with pytest.raises(ConfigError, match=r"task='reach-v9': must be one of .*reach-v3"):
        compose_rl("task=reach-v9", f"out={tmp_path}")
    with pytest.raises(ConfigError, match=r"reward='dense': must be one of sparse, env_dense"):
        compose_rl(f"out={tmp_path}", "reward=dense")
    with pytest.raises(ConfigError, match=r"grm.checkpoint=.*none.pt.*no such file"):
        compose_rl(f"out={tmp_path}", f"grm.checkpoint={tmp_path / 'none.pt'}")
    with pytest.raises(ConfigError, match=r"horizons.boxclose=3: not a task; tasks are assembly-v3"):
        compose_rl(f"out={tmp_path}", "+horizons.boxclose=3")
    assert compose_rl(f"out={tmp_path}", "task=box-close-v3").horizon > compose_rl(f"out={tmp_path}").horizon
    assert compose_rl(f"out={tmp_path}", "task=box-close-v3", "max_steps=40").horizon == 40
    with pytest.raises(ConfigError, match=r"sac.compile=True: is for the fused learner \(algo=sac\); with algo=sb3_sac "
                                          r"pass sac.compile=false demo.pretrain_updates=0 demo.bc_weight=0$"):
        compose_rl(f"out={tmp_path}", "algo=sb3_sac")
    with pytest.raises(ConfigError, match=r"sac.policy_delay=2: is for the fused learner .* pass .*sac.policy_delay=1$"):
        compose_rl(f"out={tmp_path}", "algo=sb3_sac", *SB3, "sac.policy_delay=2")
    with pytest.raises(ConfigError, match=r"sac.bf16=True: is for the fused learner"):
        compose_rl(f"out={tmp_path}", "algo=sb3_sac", *SB3, "sac.bf16=true")
    with pytest.raises(ConfigError, match=r"demo.pretrain_updates=5: is for the fused learner .* pass "
                                          r"demo.pretrain_updates=0$"):
        compose_rl(f"out={tmp_path}", "algo=sb3_sac", *SB3, "demo.pretrain_updates=5")
    assert compose_rl(f"out={tmp_path}", "algo=sb3_sac", *SB3).algo == "sb3_sac"
    with pytest.raises(ConfigError, match=r"demo.clone_proposes=True: clones the actor warm-started on the demo: it "
                                          r"needs demo.seed_buffer=true and demo.pretrain_updates > 0$"):
        compose_rl(f"out={tmp_path}", "demo.clone_proposes=true", "demo.pretrain_updates=0")
    with pytest.raises(ConfigError, match=r"demo.residual_scale=0.1: clones the actor warm-started on the demo"):
        compose_rl(f"out={tmp_path}", "demo.residual_scale=0.1", "demo.seed_buffer=false")
    with pytest.raises(ConfigError, match=r"demo.residual_scale=0.1: is another use of the clone than "
                                          r"demo.clone_proposes=true: pass one of them$"):
        compose_rl(f"out={tmp_path}", "demo.residual_scale=0.1", "demo.clone_proposes=true")
    with pytest.raises(ConfigError, match=r"demo.residual_final_scale=0.3: is where the residual's bound is released "
                                          r"to: it needs 0 < demo.residual_scale <= 0.3 \(got demo.residual_scale=0.5\)$"):
        compose_rl(f"out={tmp_path}", "demo.residual_scale=0.5", "demo.residual_final_scale=0.3")
    for key in "demo.residual_hold_updates", "demo.residual_release_updates":
        with pytest.raises(ConfigError, match=rf"{key}=100: schedules the bound's release to "
                                              r"demo.residual_final_scale: set that too$"):
            compose_rl(f"out={tmp_path}", "demo.residual_scale=0.5", f"{key}=100")
    with pytest.raises(ConfigError, match=r"demo.residual_final_scale=2.0: is for the fused learner .* "
                                          r"demo.residual_final_scale=null"):
        compose_rl(f"out={tmp_path}", "algo=sb3_sac", *SB3, "demo.residual_final_scale=2.0")
    released = compose_rl(f"out={tmp_path}", "demo.residual_scale=0.5", "demo.residual_final_scale=2.0",
                          "demo.residual_release_updates=100").demo
    assert (released.residual_final_scale, released.residual_release_updates) == (2.0, 100)
    with pytest.raises(ConfigError, match=r"grm.guard=True: smooths the mean of the perspectives: pass grm.fusion=mean"):
        compose_rl(f"out={tmp_path}", "grm.guard=true")
    assert compose_rl(f"out={tmp_path}", "grm.guard=true", "grm.fusion=mean").grm.guard
    assert not any(tmp_path.iterdir())  # refused before anything was written


def test_grm_rl_command_runs_grm_pbrs_end_to_end(tiny_grm, tmp_path):
    """The main job's path through the command itself, on a tiny GRM: collect the demo, adapt,
    shape with GRM progress, evaluate, report."""
    import json
    import subprocess
    import sys

    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "policies.cli_rl", "task=reach-v3", "reward=grm_pbrs", f"grm.checkpoint={tiny_grm}",
         "grm.adaptation.steps=2", "grm.adaptation.batch_size=2", *TINY, *TINY_SAC, "eval.video=false", f"out={out}"],
        capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "SUCCESS RATE:" in proc.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["reward"] == "grm_pbrs" and report["episodes"] == 4 and report["grm"].endswith("grm_adapt/grm.pt")
    assert (out / "grm_adapt" / "grm.pt").is_file() and (out / "demo").is_dir()
    assert json.loads((out / "settings.json").read_text())["grm.adaptation.steps"] == 2

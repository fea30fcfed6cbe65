"""One RL run: (demo -> one-shot GRM adaptation ->) SAC/PPO with a reward mode -> report.

Everything lands in the run folder and the run resumes where it stopped:
    demo/                 the scripted demo (if none was given)
    grm_adapt/grm.pt      the GRM adapted from that demo (GRM modes)
    checkpoints/          SB3 model + replay buffer + curve (atomic, every few episodes)
    tb/                   TensorBoard
    curve.json            success rate vs training episodes
    report.json/.md, learning_curve.png, eval.mp4
"""
from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv
from tqdm import tqdm

from envs.metaworld_env import DEFAULT_CAMERAS
from envs.rl_task import RLTask
from envs.tasks import check_task
from grm.shaping import MODES, GRMPotential, OraclePotential, ShapedRewardVecEnv, grm_success_reward, mode_reward
from policies.atomic_io import atomic_write
from policies.demo_buffer import DemoMixReplayBuffer
from policies.policy_file import load_policy_file, load_replay_buffer, save_policy_file, save_replay_buffer

log = logging.getLogger("grm-rl")
GRM_MODES = ("grm_pbrs", "grm_naive")


def rl_defaults():
    """configs/rl.yaml as grm-rl reads its defaults (an OmegaConf node), for benchmarks that must
    run or record the same recipe."""
    from omegaconf import OmegaConf

    return OmegaConf.load(Path(__file__).parents[1] / "configs" / "rl.yaml")


@dataclass
class RLConfig:
    task: str
    out: str
    algo: str = "sac"
    reward: str = "grm_pbrs"
    seed: int = 0
    episodes: int = 80  # training budget (configs/rl.yaml)
    max_steps: int = 150
    n_envs: int = 1
    vec_env: str = "dummy"  # dummy | subproc
    mesh_keep: float = 0.2  # see configs/rl.yaml
    threads: int = 1
    grm_checkpoint: str = "grm/pretrained/grm_mt40.pt"
    adapt: bool = True
    adapt_steps: int = 150
    perspective: str = "fused"
    guard: bool = False
    shaping_scale: float = 1.0
    reward_scale: float = 10.0
    terminate_on_success: bool = False  # see configs/rl.yaml
    task_reward: str = "env"  # env | grm (r_task = the GRM's own success, Phi >= 1 - delta)
    success_delta: float = 0.05
    demo_path: str | None = None
    demo_seed: int = 12345
    seed_buffer: bool = True
    demo_ratio: float = 0.25
    eval_every_episodes: int = 10
    eval_episodes: int = 10
    final_eval_episodes: int = 20
    video: bool = True
    checkpoint_every_episodes: int = 10
    progress: bool = True
    sac: dict = field(default_factory=dict)
    ppo: dict = field(default_factory=dict)


def validate(cfg: RLConfig) -> None:
    check_task(cfg.task)
    if cfg.reward not in MODES:
        raise ValueError(f"unknown reward mode {cfg.reward!r}; valid: {', '.join(MODES)}")
    if cfg.algo not in ("sac", "ppo"):
        raise ValueError(f"algo must be sac or ppo, got {cfg.algo!r}")
    if cfg.vec_env not in ("dummy", "subproc"):
        raise ValueError(f"vec_env must be dummy or subproc, got {cfg.vec_env!r}")
    if cfg.task_reward not in ("env", "grm"):
        raise ValueError(f"task_reward must be env or grm, got {cfg.task_reward!r}")
    if cfg.task_reward == "grm" and cfg.reward not in GRM_MODES:
        raise ValueError(f"task_reward=grm needs a GRM reward mode ({', '.join(GRM_MODES)}), got {cfg.reward}")
    if cfg.reward in GRM_MODES and not Path(cfg.grm_checkpoint).is_file():
        raise FileNotFoundError(f"GRM checkpoint not found: {cfg.grm_checkpoint}")


# ---------------------------------------------------------------- demo and GRM
def ensure_demo(cfg: RLConfig, cameras: list[str], image_size: int) -> Path:
    """The one demonstration: the given file, or one scripted expert episode collected here."""
    if cfg.demo_path:
        if not Path(cfg.demo_path).is_file():
            raise FileNotFoundError(f"demo episode not found: {cfg.demo_path}")
        return Path(cfg.demo_path)
    from grm.dataset.collect import EnvSettings, collect
    from grm.dataset.episode_io import episode_path

    root = Path(cfg.out) / "demo"
    settings = EnvSettings(tuple(cameras), image_size, 300, mesh_keep=cfg.mesh_keep)  # rendered as the run renders
    collect([cfg.task], {"expert": 1}, cfg.demo_seed, root, settings, progress=False)
    return episode_path(root, cfg.task, "expert", 0)


def ensure_grm(cfg: RLConfig, demo: Path) -> Path:
    """The GRM the run shapes with: one-shot adapted from the demo (cached in the run folder)."""
    if not cfg.adapt:
        return Path(cfg.grm_checkpoint)
    from grm.one_shot import one_shot_config
    from grm.train import train

    out = Path(cfg.out) / "grm_adapt"
    if (out / "grm.pt").is_file():
        return out / "grm.pt"
    return train(one_shot_config(demo, out, cfg.grm_checkpoint, steps=cfg.adapt_steps, seed=cfg.seed, ckpt_every=50,
                                 log_every=10, progress=cfg.progress))


def demo_transitions(demo: Path, mode: str, gamma: float, rm=None, perspective="fused", guard=False,
                     scale: float = 1.0, reward_scale: float = 1.0,
                     terminate_on_success: bool = True, task_reward: str = "env",
                     success_delta: float = 0.05) -> dict[str, np.ndarray]:
    """The demo as (s, a, r, s', done), rewarded like the online data: up to its first success
    (a termination) or, when success does not terminate, every recorded step with r_task = the
    step's success (the frames kept after the first success show staying there pays)."""
    from grm.dataset import open_episode
    from grm.inference import episode_progress

    with open_episode(demo) as ep:
        if not ep.success:
            raise ValueError(f"demo {demo} does not reach success; it cannot seed the buffer")
        T = int(ep.keyframes[-1]) if terminate_on_success else ep.num_steps  # first success = transitions
        state = ep.array("obs/state")[: T + 1].astype(np.float32)
        actions = ep.array("actions")[:T]
        r_task = ep.array("success")[:T].astype(np.float32)
        terminated = np.zeros(T, dtype=bool)
        terminated[-1] = terminate_on_success
        phi = None
        if mode in ("grm_pbrs", "grm_naive", "oracle_pbrs"):
            phi = ep.progress[: T + 1] if mode == "oracle_pbrs" else episode_progress(
                rm, ep.frames(slice(0, T + 1), rm.cameras), perspective, guard)
        if task_reward == "grm":
            r_task = grm_success_reward(phi[1:], success_delta)
        rewards = mode_reward(mode, r_task, ep.array("rewards")[:T], None if phi is None else phi[:-1],
                              None if phi is None else phi[1:], terminated, gamma, scale, reward_scale)
    return {"obs": state[:-1], "next_obs": state[1:], "actions": actions, "rewards": rewards,
            "dones": terminated.astype(np.float32)}


# ---------------------------------------------------------------- envs
def make_env(cfg: RLConfig, cameras: list[str], image_size: int, seed: int):
    oracle = cfg.reward == "oracle_pbrs"

    def thunk():
        env = RLTask(cfg.task, cameras, image_size, cfg.max_steps, terminate_on_success=cfg.terminate_on_success,
                     oracle=oracle, mesh_keep=cfg.mesh_keep)
        env.reset(seed=seed)
        return env

    return thunk


def make_vec_env(cfg: RLConfig, cameras: list[str], image_size: int):
    thunks = [make_env(cfg, cameras, image_size, cfg.seed * 1000 + i) for i in range(cfg.n_envs)]
    venv = SubprocVecEnv(thunks, start_method="spawn") if cfg.vec_env == "subproc" and cfg.n_envs > 1 else DummyVecEnv(thunks)
    venv.seed(cfg.seed)
    return venv


def run_episodes(act, task: str, max_steps: int, episodes: int, seed: int) -> list[dict]:
    """Roll `act(state) -> action` out on fresh placements drawn from `seed` (state only, no
    rendering): each episode's placement seed, success and length."""
    env = RLTask(task, (), 64, max_steps)
    env.reset(seed=seed)
    rows = []
    for _ in range(episodes):
        obs, info = env.reset()
        episode_seed = info["episode_seed"]
        for t in range(max_steps):
            obs, _, terminated, truncated, info = env.step(act(obs))
            if terminated or truncated:
                break
        rows.append({"seed": episode_seed, "success": bool(info["success"]), "steps": t + 1})
    env.close()
    return rows


def evaluate_policy(model, task: str, max_steps: int, episodes: int, seed: int) -> float:
    """Success rate of the deterministic policy on fresh placements."""
    rows = run_episodes(lambda obs: model.predict(obs, deterministic=True)[0], task, max_steps, episodes, seed)
    return sum(r["success"] for r in rows) / episodes


# ---------------------------------------------------------------- training loop glue
class RunCallback(BaseCallback):
    """Counts episodes, evaluates, checkpoints atomically, stops at the episode budget."""

    def __init__(self, cfg: RLConfig, state: dict, ckpt_dir: Path, bar: tqdm):
        super().__init__()
        self.cfg, self.state, self.ckpt_dir, self.bar = cfg, state, ckpt_dir, bar

    def _on_step(self) -> bool:
        dones = self.locals["dones"]
        infos = self.locals["infos"]
        for done, info in zip(dones, infos):
            if not done:
                continue
            self.state["episodes"] += 1
            self.state["train_successes"].append(bool(info.get("success", False)))
            self.bar.update(1)
            ep = self.state["episodes"]
            if ep % self.cfg.eval_every_episodes == 0:
                rate = evaluate_policy(self.model, self.cfg.task, self.cfg.max_steps, self.cfg.eval_episodes,
                                       seed=10_000 + ep)
                self.state["curve"].append({"episodes": ep, "env_steps": int(self.num_timesteps), "success_rate": rate})
                self.logger.record("eval/success_rate", rate)
                recent = self.state["train_successes"][-self.cfg.eval_every_episodes:]
                self.logger.record("train/success_rate", sum(recent) / len(recent))
                self.logger.record("train/episodes", ep)
                self.bar.set_postfix(success=f"{rate:.2f}")
            if ep % self.cfg.checkpoint_every_episodes == 0:
                save_run_checkpoint(self.model, self.state, self.ckpt_dir)
        return self.state["episodes"] < self.cfg.episodes


def save_run_checkpoint(model, state: dict, ckpt_dir: Path) -> None:
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    save_policy_file(model, ckpt_dir / "model.zip")
    if getattr(model, "replay_buffer", None) is not None:
        save_replay_buffer(model.replay_buffer, ckpt_dir / "replay_buffer.npz")
    state = {**state, "num_timesteps": int(model.num_timesteps)}
    atomic_write(ckpt_dir / "state.json", lambda p: p.write_text(json.dumps(state)))


def build_model(cfg: RLConfig, venv, demo: dict | None, tb: Path):
    if cfg.algo == "sac":
        params = dict(cfg.sac)
        net_arch = params.pop("net_arch", [256, 256])
        kwargs = {}
        if demo is not None:
            kwargs = {"replay_buffer_class": DemoMixReplayBuffer,
                      "replay_buffer_kwargs": {"demo": demo, "demo_ratio": cfg.demo_ratio}}
        policy = "MlpPolicy"
        if params.pop("critic_layer_norm", False):
            from policies.layer_norm_sac import LayerNormSACPolicy

            policy = LayerNormSACPolicy
        return SAC(policy, venv, seed=cfg.seed, device="cpu", tensorboard_log=str(tb),
                   policy_kwargs={"net_arch": list(net_arch)}, **params, **kwargs)
    params = dict(cfg.ppo)
    net_arch = params.pop("net_arch", [256, 256])
    return PPO("MlpPolicy", venv, seed=cfg.seed, device="cpu", tensorboard_log=str(tb),
               policy_kwargs={"net_arch": list(net_arch)}, **params)


def run(cfg: RLConfig) -> dict:
    validate(cfg)
    torch.set_num_threads(cfg.threads)
    # the software rasterizer (llvmpipe) starts a thread per core unless told: `threads` bounds both,
    # so runs sharing a machine (benchmarks/rl_curves.py --jobs 2) do not oversubscribe it
    os.environ.setdefault("LP_NUM_THREADS", str(cfg.threads))
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    rm, grm_path, cameras, image_size = None, None, [], 64
    if cfg.reward in GRM_MODES:  # the env renders exactly what the GRM was trained on
        from grm.checkpoint import load_model

        base, cameras, _ = load_model(cfg.grm_checkpoint)
        image_size = base.cfg.image_size
    demo = None
    if cfg.reward in GRM_MODES or (cfg.algo == "sac" and cfg.seed_buffer):  # references / buffer seed
        demo = ensure_demo(cfg, cameras or list(DEFAULT_CAMERAS), image_size)
    if cfg.reward in GRM_MODES:
        from grm.inference import RewardModel

        grm_path = ensure_grm(cfg, demo)
        rm = RewardModel.load(grm_path)
        rm.set_reference_from_episode(demo)
    gamma = float((cfg.sac if cfg.algo == "sac" else cfg.ppo).get("gamma", 0.99))
    venv = make_vec_env(cfg, cameras, image_size)
    potential = (GRMPotential(rm, cfg.n_envs, cfg.perspective, cfg.guard) if rm is not None
                 else OraclePotential() if cfg.reward == "oracle_pbrs" else None)
    env = ShapedRewardVecEnv(venv, cfg.reward, gamma, potential, cfg.shaping_scale, cfg.reward_scale, cfg.task_reward,
                             cfg.success_delta)
    demo_data = (demo_transitions(demo, cfg.reward, gamma, rm, cfg.perspective, cfg.guard, cfg.shaping_scale,
                                  cfg.reward_scale, cfg.terminate_on_success, cfg.task_reward, cfg.success_delta) if cfg.algo == "sac" and cfg.seed_buffer else None)

    ckpt_dir = out / "checkpoints"
    state = {"episodes": 0, "curve": [], "train_successes": []}
    if (ckpt_dir / "model.zip").is_file() and (ckpt_dir / "state.json").is_file():
        state = json.loads((ckpt_dir / "state.json").read_text())
        state.pop("num_timesteps", None)
        rebuilt = {} if demo_data is None else {"replay_buffer_class": DemoMixReplayBuffer,
                                                "replay_buffer_kwargs": {"demo": demo_data, "demo_ratio": cfg.demo_ratio}}
        model = load_policy_file(ckpt_dir / "model.zip", env=env, custom_objects=rebuilt)
        if cfg.algo == "sac" and (ckpt_dir / "replay_buffer.npz").is_file():
            load_replay_buffer(model.replay_buffer, ckpt_dir / "replay_buffer.npz")
        log.info("resumed at episode %d", state["episodes"])
    else:
        model = build_model(cfg, env, demo_data, out / "tb")
    if model.gamma != gamma:
        raise RuntimeError(f"shaping gamma {gamma} differs from the learner's gamma {model.gamma}")
    bar = tqdm(total=cfg.episodes, initial=state["episodes"], desc=f"{cfg.reward} {cfg.task}", unit="ep",
               disable=not cfg.progress)
    if state["episodes"] < cfg.episodes:
        model.learn(total_timesteps=cfg.episodes * cfg.max_steps * 2, callback=RunCallback(cfg, state, ckpt_dir, bar),
                    reset_num_timesteps=state["episodes"] == 0, tb_log_name="run")
        save_run_checkpoint(model, state, ckpt_dir)
    bar.close()
    final = evaluate_policy(model, cfg.task, cfg.max_steps, cfg.final_eval_episodes, seed=99_999)
    report = {
        "task": cfg.task, "reward": cfg.reward, "algo": cfg.algo, "seed": cfg.seed, "episodes": state["episodes"],
        "env_steps": int(model.num_timesteps), "final_success_rate": final, "curve": state["curve"],
        "episodes_to_80": next((c["episodes"] for c in state["curve"] if c["success_rate"] >= 0.8), None),
        "grm": str(grm_path) if grm_path else None, "wall_s": round(time.perf_counter() - t_start, 1),
    }
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    write_report(out, report)
    if cfg.video:
        record_video(model, cfg, rm, cameras or list(DEFAULT_CAMERAS), image_size, out / "eval.mp4")
    env.close()
    return report


def write_report(out: Path, report: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = report["curve"]
    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=100)
    ax.plot([c["episodes"] for c in curve], [c["success_rate"] for c in curve], marker="o")
    ax.set(title=f"{report['task']} ({report['reward']}, {report['algo']})", xlabel="training episodes",
           ylabel="eval success rate", ylim=(-0.02, 1.02))
    fig.tight_layout()
    fig.savefig(out / "learning_curve.png")
    plt.close(fig)
    lines = [f"# {report['task']}: {report['reward']} with {report['algo'].upper()}", "",
             f"- final success rate: **{report['final_success_rate']:.2f}** over {report['episodes']} training episodes "
             f"({report['env_steps']} env steps, {report['wall_s']} s)",
             f"- episodes to 80% eval success: {report['episodes_to_80']}", f"- GRM: {report['grm']}", "",
             "![learning curve](learning_curve.png)", ""]
    (out / "report.md").write_text("\n".join(lines))


def record_video(model, cfg: RLConfig, rm, cameras: list[str], image_size: int, path: Path) -> None:
    """One deterministic evaluation episode, views side by side, GRM progress (or oracle) drawn."""
    from grm.inference import ProgressTracker
    from grm.video import tile_views, write_progress_video

    env = RLTask(cfg.task, cameras, image_size, cfg.max_steps, oracle=rm is None)
    obs, info = env.reset(seed=424242)
    frames, phis = [info["pixels"]], [0.0 if rm else info["oracle_progress"]]
    tracker = ProgressTracker(rm, 1, cfg.perspective, cfg.guard) if rm else None
    if tracker:
        tracker.reset(info["pixels"][None])
    for _ in range(cfg.max_steps):
        obs, _, terminated, truncated, info = env.step(model.predict(obs, deterministic=True)[0])
        frames.append(info["pixels"])
        phis.append(float(tracker.step(info["pixels"][None]).phi[0]) if tracker else info["oracle_progress"])
        if terminated or truncated:
            break
    write_progress_video(tile_views(np.stack(frames)), np.array(phis), path, label="GRM" if rm else "oracle")
    env.close()

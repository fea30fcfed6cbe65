"""One RL run: (demo -> one-shot GRM adaptation ->) SAC/PPO with a reward mode -> report.

Everything lands in the run folder and the run resumes where it stopped:
    demo/                 the scripted demo (if none was given)
    grm_adapt/grm.pt      the GRM adapted from that demo (GRM modes)
    checkpoints/          SB3 model + replay buffer + curve (atomic, every few episodes), and
                          best_model.zip/.json: the policy of the best periodic evaluation (latest on ties)
    tb/                   TensorBoard
    curve.json            success rate vs training episodes
    report.json/.md, learning_curve.png, eval.mp4
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.callbacks import CallbackList
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv
from tqdm import tqdm

from configs.files import write_text
from configs.typed import ConfigError, check, claim_run_folder, compose, setting
from envs.metaworld_env import DEFAULT_CAMERAS
from envs.rl_task import RLTask
from envs.tasks import MT50
from grm.backends import RewardModelSettings, load_reward_model
from grm.inference import FUSIONS, PERSPECTIVES
from grm.one_shot import AdaptationSettings, one_shot_config
from grm.success import SUCCESS_DELTA, SUCCESS_HOLD
from grm.view_slots import inputs
from policies.demo_buffer import DemoMixReplayBuffer
from policies.fused_sac import EnsembleSACPolicy, FusedSAC
from policies.grm_progress import GRMProgress
from policies.hand_relative import HandRelative
from policies.layer_norm_sac import LayerNormSACPolicy
from policies.oracle_progress import OracleProgress
from policies.policy_file import load_policy_file, load_replay_buffer, save_policy_file, save_replay_buffer
from policies.run_callbacks import EpisodeBudget, EpisodeProgress, KeepBest, PeriodicCheckpoint, PeriodicEvaluation
from policies.shaping import (GRM_MODES, MODES, REWARD_MODES, GRMPotential, InfoPotential, ShapedRewardVecEnv,
                              grm_success_rewards, mode_reward)

log = logging.getLogger("grm-rl")
# algo=sac: the fused learner (policies/fused_sac.py); sb3_sac and ppo: SB3's own, as baselines
ALGOS = {"sac": FusedSAC, "sb3_sac": SAC, "ppo": PPO}
SAC_ALGOS = ("sac", "sb3_sac")
POLICY_INPUTS = {"state": {}, "hand_relative": {"features_extractor_class": HandRelative}}  # policy_kwargs of each


@dataclass
class GRMSettings:
    checkpoint: str = setting(file="file (a GRM checkpoint: grm.pt)")
    adapt: bool = setting()
    adaptation: AdaptationSettings = setting()
    perspective: str = setting(choices=PERSPECTIVES)
    fusion: str = setting(choices=FUSIONS, absent="mean")  # how `fused` joins the three perspectives
    guard: bool = setting()
    scale: float = setting(gt=0)


@dataclass
class DemoSettings:
    path: Optional[str] = setting(file="episode file")
    seed: int = setting(ge=0)
    seed_buffer: bool = setting()
    ratio: float = setting(ge=0, lt=1)
    pretrain_updates: int = setting(ge=0)  # algo=sac only
    bc_weight: float = setting(ge=0)  # algo=sac only
    bc_anneal_updates: int = setting(ge=0)  # algo=sac only
    bc_final_weight: float = setting(ge=0, absent=0.0)  # algo=sac only: the BC weight after the anneal
    clone_proposes: bool = setting(absent=False)  # algo=sac only: the warm-started actor, frozen, proposes actions (IBRL)
    residual_scale: float = setting(ge=0, le=2, absent=0.0)  # algo=sac only: > 0: the actor is a residual of at most this on the frozen warm start
    residual_final_scale: Optional[float] = setting(ge=0, le=2, absent=None)  # algo=sac only: the bound released linearly to this
    residual_hold_updates: int = setting(ge=0, absent=0)  # algo=sac only: the bound stays residual_scale this many online updates, then
    residual_release_updates: int = setting(ge=0, absent=0)  # algo=sac only: grows over this many


@dataclass
class EvalSettings:
    every_episodes: int = setting(ge=1, resumable=True)
    episodes: int = setting(ge=1, resumable=True)
    final_episodes: int = setting(ge=1, resumable=True)
    video: bool = setting(resumable=True)


@dataclass
class SACSettings:
    learning_rate: float = setting(gt=0)
    buffer_size: int = setting(ge=1)
    batch_size: int = setting(ge=1)
    gamma: float = setting(gt=0, le=1)
    tau: float = setting(gt=0, le=1)
    learning_starts: int = setting(ge=0)
    train_freq: int = setting(ge=1)
    gradient_steps: int = setting(ge=1)
    net_arch: list[int] = setting()
    critic_layer_norm: bool = setting()
    n_critics: int = setting(ge=1)
    bf16: bool = setting()  # algo=sac only
    compile: bool = setting()  # algo=sac only
    policy_delay: int = setting(ge=1, absent=1)  # algo=sac only: the actor steps on every n-th update (TD3)
    n_steps: int = setting(ge=1, absent=1)  # n-step returns (1: one-step TD targets)


@dataclass
class PPOSettings:
    learning_rate: float = setting(gt=0)
    n_steps: int = setting(ge=2)
    batch_size: int = setting(ge=2)
    n_epochs: int = setting(ge=1)
    gamma: float = setting(gt=0, le=1)
    gae_lambda: float = setting(ge=0, le=1)
    net_arch: list[int] = setting()


@dataclass
class RLConfig:
    """grm-rl's settings (values: configs/rl.yaml; `compose_rl` for code that runs it)."""
    task: str = setting(choices=MT50)
    algo: str = setting(choices=tuple(ALGOS))
    reward: str = setting(choices=MODES)
    seed: int = setting(ge=0)
    episodes: int = setting(ge=1, resumable=True)  # a resumed run may extend its budget
    max_steps: Optional[int] = setting(ge=1)  # None: the task's entry in `horizons`
    horizons: dict[str, int] = setting()
    task_reward: str = setting(choices=("env", "grm"))
    success_delta: float = setting(gt=0, lt=1)
    success_hold: int = setting(ge=1)
    terminate_on_success: bool = setting()
    reward_scale: float = setting(gt=0)
    policy_input: str = setting(choices=tuple(POLICY_INPUTS), absent="state")
    n_envs: int = setting(ge=1)
    vec_env: str = setting(choices=("dummy", "subproc"))
    mesh_keep: float = setting(gt=0, le=1)
    threads: int = setting(ge=1, resumable=True)
    out: str = setting(resumable=True)
    resume: bool = setting(resumable=True)
    grm: GRMSettings = setting()
    reward_model: RewardModelSettings = setting()  # grm (grm.checkpoint, adapted) or robodopamine (zero-shot)
    demo: DemoSettings = setting()
    eval: EvalSettings = setting()
    checkpoint_every_episodes: int = setting(ge=1, resumable=True)
    progress: bool = setting(resumable=True)
    sac: SACSettings = setting()
    ppo: PPOSettings = setting()

    def check(self) -> None:
        if "default" not in self.horizons:
            raise ConfigError("horizons", self.horizons, "needs a `default` entry (the horizon of tasks not listed)")
        for task, steps in self.horizons.items():
            if task != "default" and task not in MT50:
                raise ConfigError(f"horizons.{task}", steps, f"not a task; tasks are {', '.join(MT50)}")
            if steps < 1:
                raise ConfigError(f"horizons.{task}", steps, "must be >= 1")
        fused_only = {  # setting: (its value, the value that leaves it off)
            "sac.bf16": (self.sac.bf16, False), "sac.compile": (self.sac.compile, False),
            "sac.policy_delay": (self.sac.policy_delay, 1), "demo.pretrain_updates": (self.demo.pretrain_updates, 0),
            "demo.bc_weight": (self.demo.bc_weight, 0), "demo.bc_final_weight": (self.demo.bc_final_weight, 0),
            "demo.clone_proposes": (self.demo.clone_proposes, False), "demo.residual_scale": (self.demo.residual_scale, 0),
            "demo.residual_final_scale": (self.demo.residual_final_scale, None),
            "demo.residual_hold_updates": (self.demo.residual_hold_updates, 0),
            "demo.residual_release_updates": (self.demo.residual_release_updates, 0)}
        on = {key: value for key, (value, off) in fused_only.items() if value != off}
        if self.algo == "sb3_sac" and on:
            offs = " ".join(f"{key}={'null' if fused_only[key][1] is None else str(fused_only[key][1]).lower()}"
                            for key in on)
            key = next(iter(on))
            raise ConfigError(key, on[key], f"is for the fused learner (algo=sac); with algo={self.algo} pass {offs}")
        for key, value in (("demo.clone_proposes", self.demo.clone_proposes),
                           ("demo.residual_scale", self.demo.residual_scale)):
            if value and not (self.demo.seed_buffer and self.demo.pretrain_updates):
                raise ConfigError(key, value, "clones the actor warm-started on the demo: it needs "
                                              "demo.seed_buffer=true and demo.pretrain_updates > 0")
        if self.demo.residual_final_scale is not None and not (
                self.demo.residual_scale and self.demo.residual_final_scale >= self.demo.residual_scale):
            raise ConfigError("demo.residual_final_scale", self.demo.residual_final_scale,
                              f"is where the residual's bound is released to: it needs 0 < demo.residual_scale <= "
                              f"{self.demo.residual_final_scale} (got demo.residual_scale={self.demo.residual_scale})")
        for key, value in (("demo.residual_hold_updates", self.demo.residual_hold_updates),
                           ("demo.residual_release_updates", self.demo.residual_release_updates)):
            if value and self.demo.residual_final_scale is None:
                raise ConfigError(key, value, "schedules the bound's release to demo.residual_final_scale: set that too")
        if self.demo.clone_proposes and self.demo.residual_scale:
            raise ConfigError("demo.residual_scale", self.demo.residual_scale,
                              "is another use of the clone than demo.clone_proposes=true: pass one of them")
        if self.grm.guard and self.grm.fusion != "mean":
            raise ConfigError("grm.guard", True, "smooths the mean of the perspectives: pass grm.fusion=mean with it")
        if self.task_reward == "grm" and self.reward not in GRM_MODES:
            raise ConfigError("task_reward", "grm", f"needs a GRM reward mode ({', '.join(GRM_MODES)}), "
                                                    f"not reward={self.reward}")

    @property
    def horizon(self) -> int:
        """Steps per episode: `max_steps` if given, else the task's entry in `horizons`."""
        return self.max_steps or self.horizons.get(self.task, self.horizons["default"])

    @property
    def gamma(self) -> float:
        return (self.sac if self.algo in SAC_ALGOS else self.ppo).gamma


def compose_rl(*overrides: str) -> RLConfig:
    """grm-rl's settings with command-line style overrides, e.g. compose_rl("task=reach-v3")."""
    return compose("rl", RLConfig, overrides)


# ---------------------------------------------------------------- demo and GRM
def ensure_demo(cfg: RLConfig, cameras: list[str], image_size: int) -> Path:
    """The one demonstration: the given file, or one scripted expert episode collected here."""
    if cfg.demo.path:  # checked to exist with the other settings
        return Path(cfg.demo.path)
    from grm.dataset.collect import EnvSettings, collect
    from grm.dataset.episode_io import episode_path

    root = Path(cfg.out) / "demo"
    settings = EnvSettings(tuple(cameras), image_size, 300, mesh_keep=cfg.mesh_keep)  # rendered as the run renders
    collect([cfg.task], {"expert": 1}, cfg.demo.seed, root, settings, progress=False)
    return episode_path(root, cfg.task, "expert", 0)


def ensure_grm(cfg: RLConfig, demo: Path) -> Path:
    """The GRM the run shapes with: one-shot adapted from the demo (cached in the run folder)."""
    if not cfg.grm.adapt:
        return Path(cfg.grm.checkpoint)
    from grm.train import RunBookkeeping, train

    out = Path(cfg.out) / "grm_adapt"
    if (out / "grm.pt").is_file():
        return out / "grm.pt"
    bookkeeping = RunBookkeeping(log_every=10, ckpt_every=50, resume=True, threads=None, progress=cfg.progress)
    return train(one_shot_config(demo, out, cfg.grm.checkpoint, cfg.grm.adaptation, cfg.seed, None, bookkeeping))


def demo_transitions(demo: Path, mode: str, gamma: float, rm=None, perspective="fused", guard=False, fusion="median",
                     scale: float = 1.0, reward_scale: float = 1.0,
                     terminate_on_success: bool = True, task_reward: str = "env",
                     success_delta: float = SUCCESS_DELTA, success_hold: int = SUCCESS_HOLD) -> dict[str, np.ndarray]:
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
        source = REWARD_MODES[mode].potential
        if source == "oracle":
            phi = ep.progress[: T + 1]
        elif source == "grm":
            phi = episode_progress(rm, ep.frames(slice(0, T + 1), rm.inputs), perspective, guard, fusion)
        if task_reward == "grm":
            r_task = grm_success_rewards(phi[1:], success_delta, success_hold)
        rewards = mode_reward(mode, r_task, ep.array("rewards")[:T], None if phi is None else phi[:-1],
                              None if phi is None else phi[1:], terminated, gamma, scale, reward_scale)
    return {"obs": state[:-1], "next_obs": state[1:], "actions": actions, "rewards": rewards,
            "dones": terminated.astype(np.float32)}


# ---------------------------------------------------------------- envs
def make_env(cfg: RLConfig, cameras: list[str], image_size: int, seed: int, rm=None):
    """One training env; its progress (ground truth, or the GRM's from `rm`) is computed inside it,
    so with a SubprocVecEnv in the worker process, beside physics and rendering."""
    oracle = REWARD_MODES[cfg.reward].potential == "oracle"

    def thunk():
        torch.set_num_threads(cfg.threads)  # a spawned worker would take every core for the GRM
        env = RLTask(cfg.task, cameras, image_size, cfg.horizon, terminate_on_success=cfg.terminate_on_success,
                     mesh_keep=cfg.mesh_keep)
        if oracle:
            env = OracleProgress(env, cfg.task)
        elif rm is not None:
            env = GRMProgress(env, rm, cfg.grm.perspective, cfg.grm.guard, cfg.grm.fusion)
        env.reset(seed=seed)
        return env

    return thunk


def make_vec_env(cfg: RLConfig, cameras: list[str], image_size: int, rm=None):
    thunks = [make_env(cfg, cameras, image_size, cfg.seed * 1000 + i, rm) for i in range(cfg.n_envs)]
    venv = SubprocVecEnv(thunks, start_method="spawn") if cfg.vec_env == "subproc" else DummyVecEnv(thunks)
    venv.seed(cfg.seed)
    return venv


def shaped_vec_env(cfg: RLConfig, rm, cameras: list[str], image_size: int) -> ShapedRewardVecEnv:
    """The training envs with the run's reward mode. Our GRM scores inside each env (in its worker
    process); another backend (the official VLM, held once) scores all envs in one batched call here."""
    in_env = rm is not None and cfg.reward_model.name == "grm"
    venv = make_vec_env(cfg, cameras, image_size, rm if in_env else None)
    source = REWARD_MODES[cfg.reward].potential
    potential = (None if source is None else InfoPotential(source) if source == "oracle" or in_env
                 else GRMPotential(rm, cfg.n_envs, cfg.grm.perspective, cfg.grm.guard, cfg.grm.fusion))
    return ShapedRewardVecEnv(venv, cfg.reward, cfg.gamma, potential, cfg.grm.scale, cfg.reward_scale, cfg.task_reward,
                              cfg.success_delta, cfg.success_hold)


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
        rows.append({"seed": episode_seed, "success": bool(info["is_success"]), "steps": t + 1})
    env.close()
    return rows


def evaluate_policy(model, task: str, max_steps: int, episodes: int, seed: int) -> float:
    """Success rate of the deterministic policy on fresh placements."""
    rows = run_episodes(lambda obs: model.predict(obs, deterministic=True)[0], task, max_steps, episodes, seed)
    return sum(r["success"] for r in rows) / episodes


# ---------------------------------------------------------------- training loop glue
def save_run_checkpoint(model, state: dict, ckpt_dir: Path, wall_s: float) -> None:
    """Model, replay buffer and bookkeeping; `wall_s`: the run's time so far, all segments."""
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    save_policy_file(model, ckpt_dir / "model.zip")
    if getattr(model, "replay_buffer", None) is not None:
        save_replay_buffer(model.replay_buffer, ckpt_dir / "replay_buffer.npz")
    state.update(num_timesteps=int(model.num_timesteps), wall_s=round(wall_s, 1))
    write_text(ckpt_dir / "state.json", json.dumps(state))


def demo_buffer(cfg: RLConfig, demo: dict) -> dict:
    """The replay buffer settings of a SAC run whose batches mix in the demo."""
    return {"replay_buffer_class": DemoMixReplayBuffer,
            "replay_buffer_kwargs": {"demo": demo, "demo_ratio": cfg.demo.ratio, "n_steps": cfg.sac.n_steps,
                                     "gamma": cfg.gamma}}


def build_model(cfg: RLConfig, venv, demo: dict | None, tb: Path):
    if cfg.algo in SAC_ALGOS:
        params = asdict(cfg.sac)
        policy_kwargs = {"net_arch": list(params.pop("net_arch")), "n_critics": params.pop("n_critics"),
                         **POLICY_INPUTS[cfg.policy_input]}
        layer_norm, bf16, compile = params.pop("critic_layer_norm"), params.pop("bf16"), params.pop("compile")
        delay = params.pop("policy_delay")
        if demo is not None:  # the buffer takes the n-step setting (SAC's own `n_steps` is for SB3's buffer)
            params.pop("n_steps")
            params.update(demo_buffer(cfg, demo))
        common = {"seed": cfg.seed, "device": "cpu", "tensorboard_log": str(tb), **params}
        if cfg.algo == "sac":
            warm_start = ({"bc_weight": cfg.demo.bc_weight, "bc_anneal_updates": cfg.demo.bc_anneal_updates,
                           "bc_final_weight": cfg.demo.bc_final_weight,
                           "residual_final_scale": cfg.demo.residual_final_scale,
                           "residual_hold_updates": cfg.demo.residual_hold_updates,
                           "residual_release_updates": cfg.demo.residual_release_updates} if demo is not None else {})
            model = FusedSAC(EnsembleSACPolicy, venv, bf16=bf16, compile=compile, policy_delay=delay, **warm_start, policy_kwargs={
                **policy_kwargs, "critic_layer_norm": layer_norm, "optimizer_kwargs": {"fused": True},
                "clone_proposes": demo is not None and cfg.demo.clone_proposes,
                "residual_scale": cfg.demo.residual_scale if demo is not None else 0.0}, **common)
            if demo is not None and cfg.demo.pretrain_updates:
                log.info("pretraining on the demo: %d updates", cfg.demo.pretrain_updates)
                model.pretrain(cfg.demo.pretrain_updates)
            return model
        return SAC(LayerNormSACPolicy if layer_norm else "MlpPolicy", venv, policy_kwargs=policy_kwargs, **common)
    params = asdict(cfg.ppo)
    net_arch = params.pop("net_arch", [256, 256])
    return PPO("MlpPolicy", venv, seed=cfg.seed, device="cpu", tensorboard_log=str(tb),
               policy_kwargs={"net_arch": list(net_arch), **POLICY_INPUTS[cfg.policy_input]}, **params)


def run(cfg: RLConfig) -> dict:
    check(cfg)  # a config built in code gets the command line's checks
    if not claim_run_folder(cfg.out, cfg, cfg.resume):
        for stale in ("checkpoints", "grm_adapt", "demo", "tb"):  # a fresh start: nothing of an earlier run
            shutil.rmtree(Path(cfg.out) / stale, ignore_errors=True)
    torch.set_num_threads(cfg.threads)
    # the software rasterizer (llvmpipe) starts a thread per core unless told: `threads` bounds both,
    # so runs sharing a machine (a sweep with several jobs at once) do not oversubscribe it
    os.environ.setdefault("LP_NUM_THREADS", str(cfg.threads))
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    rm, grm_path, cameras, image_size = None, None, [], 64
    if cfg.reward in GRM_MODES and cfg.reward_model.name == "grm":  # the env renders what the GRM was trained on
        from grm.checkpoint import load_model

        base, slots, _ = load_model(cfg.grm.checkpoint)
        cameras = inputs(slots)
        image_size = base.cfg.image_size
    elif cfg.reward in GRM_MODES:  # another backend, zero-shot: it reads the task's cameras through its views
        rm = load_reward_model(cfg.reward_model, cfg.grm.checkpoint, {}, list(DEFAULT_CAMERAS))
        cameras = list(rm.inputs)
    demo = None
    if cfg.reward in GRM_MODES or (cfg.algo in SAC_ALGOS and cfg.demo.seed_buffer):  # references / buffer seed
        demo = ensure_demo(cfg, cameras or list(DEFAULT_CAMERAS), image_size)
    if cfg.reward in GRM_MODES:
        if rm is None:
            from grm.inference import RewardModel

            grm_path = ensure_grm(cfg, demo)
            rm = RewardModel.load(grm_path)
        rm.set_reference_from_episode(demo)
    gamma = cfg.gamma
    env = shaped_vec_env(cfg, rm, cameras, image_size)
    demo_data = (demo_transitions(demo, cfg.reward, gamma, rm, cfg.grm.perspective, cfg.grm.guard, cfg.grm.fusion, cfg.grm.scale,
                                  cfg.reward_scale, cfg.terminate_on_success, cfg.task_reward, cfg.success_delta, cfg.success_hold) if cfg.algo in SAC_ALGOS and cfg.demo.seed_buffer else None)

    ckpt_dir = out / "checkpoints"
    state = {"episodes": 0, "curve": [], "train_successes": [], "wall_s": 0.0}
    if (ckpt_dir / "model.zip").is_file() and (ckpt_dir / "state.json").is_file():
        state = json.loads((ckpt_dir / "state.json").read_text())
        rebuilt = {} if demo_data is None else demo_buffer(cfg, demo_data)
        model = load_policy_file(ckpt_dir / "model.zip", env=env, custom_objects=rebuilt, algo=ALGOS[cfg.algo])
        if cfg.algo in SAC_ALGOS and (ckpt_dir / "replay_buffer.npz").is_file():
            load_replay_buffer(model.replay_buffer, ckpt_dir / "replay_buffer.npz")
        if (ckpt_dir / "best_model.json").is_file():  # written after the checkpoint, perhaps: it is the file's
            state["best"] = json.loads((ckpt_dir / "best_model.json").read_text())
        log.info("resumed at episode %d", state["episodes"])
    else:
        model = build_model(cfg, env, demo_data, out / "tb")
    prior_wall = state.get("wall_s", 0.0)  # earlier segments of a resumed run

    def wall() -> float:
        return prior_wall + time.perf_counter() - t_start

    if model.gamma != gamma:
        raise RuntimeError(f"shaping gamma {gamma} differs from the learner's gamma {model.gamma}")
    bar = tqdm(total=cfg.episodes, initial=state["episodes"], desc=f"{cfg.reward} {cfg.task}", unit="ep",
               disable=not cfg.progress)
    if state["episodes"] < cfg.episodes:
        def evaluate(m, episode: int) -> float:
            return evaluate_policy(m, cfg.task, cfg.horizon, cfg.eval.episodes, seed=10_000 + episode)

        def save(m) -> None:
            save_run_checkpoint(m, state, ckpt_dir, wall())

        def save_best(m, best: dict) -> None:  # the label beside the file: a crash cannot part them
            save_policy_file(m, ckpt_dir / "best_model.zip")
            write_text(ckpt_dir / "best_model.json", json.dumps(best))

        callbacks = CallbackList([EpisodeBudget(state, cfg.episodes),
                                  PeriodicEvaluation(state, cfg.eval.every_episodes, evaluate),
                                  KeepBest(state, cfg.eval.every_episodes, save_best),
                                  PeriodicCheckpoint(state, cfg.checkpoint_every_episodes, save),
                                  EpisodeProgress(state, bar)])
        model.learn(total_timesteps=cfg.episodes * cfg.horizon * 2, callback=callbacks,
                    reset_num_timesteps=state["episodes"] == 0, tb_log_name="run")
        save_run_checkpoint(model, state, ckpt_dir, wall())
    bar.close()
    final = evaluate_policy(model, cfg.task, cfg.horizon, cfg.eval.final_episodes, seed=99_999)
    best = state.get("best")
    if best is not None:  # the kept policy, on the same fresh placements as the last one
        kept = load_policy_file(ckpt_dir / "best_model.zip", for_acting=True, algo=ALGOS[cfg.algo])
        best = {**best, "final_success_rate": evaluate_policy(kept, cfg.task, cfg.horizon, cfg.eval.final_episodes,
                                                              seed=99_999)}
    report = {
        "task": cfg.task, "reward": cfg.reward, "algo": cfg.algo, "seed": cfg.seed, "episodes": state["episodes"],
        "env_steps": int(model.num_timesteps), "final_success_rate": final, "best": best, "curve": state["curve"],
        "episodes_to_80": next((c["episodes"] for c in state["curve"] if c["success_rate"] >= 0.8), None),
        "grm": str(grm_path) if grm_path else (cfg.reward_model.path if rm is not None else None),
        "reward_model": cfg.reward_model.name if rm is not None else None, "wall_s": round(wall(), 1),
    }
    write_text(out / "report.json", json.dumps(report, indent=2) + "\n")
    write_report(out, report)
    if cfg.eval.video:
        record_video(model, cfg, rm, cameras or list(DEFAULT_CAMERAS), image_size, out / "eval.mp4")
    env.close()
    return report


def best_lines(best: dict | None) -> list[str]:
    if best is None:
        return []
    return [f"- kept policy (`checkpoints/best_model.zip`, the best periodic evaluation: {best['success_rate']:.2f} "
            f"after {best['episodes']} episodes): final success rate **{best['final_success_rate']:.2f}**"]


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
             f"- episodes to 80% eval success: {report['episodes_to_80']}", *best_lines(report.get("best")),
             f"- GRM: {report['grm']}", "",
             "![learning curve](learning_curve.png)", ""]
    write_text(out / "report.md", "\n".join(lines))


def record_video(model, cfg: RLConfig, rm, cameras: list[str], image_size: int, path: Path) -> None:
    """One deterministic evaluation episode, views side by side, GRM progress (or oracle) drawn."""
    from grm.video import tile_views, write_progress_video

    env = RLTask(cfg.task, cameras, image_size, cfg.horizon)
    env = (GRMProgress(env, rm, cfg.grm.perspective, cfg.grm.guard, cfg.grm.fusion, keep_pixels=True) if rm
           else OracleProgress(env, cfg.task))
    key = "grm_progress" if rm else "oracle_progress"
    obs, info = env.reset(seed=424242)
    frames, phis = [info["pixels"]], [info[key]]
    for _ in range(cfg.horizon):
        obs, _, terminated, truncated, info = env.step(model.predict(obs, deterministic=True)[0])
        frames.append(info["pixels"])
        phis.append(info[key])
        if terminated or truncated:
            break
    write_progress_video(tile_views(np.stack(frames)), np.array(phis), path, label="GRM" if rm else "oracle")
    env.close()

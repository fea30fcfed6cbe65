"""The high level of the tweezer hierarchy: SAC on the pick task, its replay buffer seeded with
the privileged heuristic's episodes (which read simulator state the learned policy may not),
its actor first cloned from them and then kept near them by a BC term in its loss
(`DemoRegularizedSAC`), with the frozen clone proposing actions beside the actor
(`clone_proposes`, IBRL) or with the actor as a bounded residual on top of the frozen clone
(`residual_scale`). Online SAC has not yet beaten the clone (docs/tweezers.md).
Seeding alone is not enough: with a sparse lift reward, 6000 steps of plain SAC on a seeded
buffer picked nothing (0.00 on every split).

The learned policy sees only the pick task's observation: proprioception, tool tips, the
object's centre/top from the depth clouds, the affordance encoder's estimate, and the tips
relative to the object. `flat=true` trains the flat baseline the same way.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from configs.files import atomic_write, write_text
from configs.typed import ConfigError, setting
from envs.tweezers.flat_pick_env import FlatPickHeuristic, FlatTweezerPickEnv
from envs.tweezers.pick_env import TASK_VERSION, ObjectDistribution, PickHeuristic, TweezerPickEnv
from policies.demo_regularized_sac import DemoRegularizedSAC
from policies.fixed_normalizer import normalizer_kwargs
from policies.policy_file import save_policy_file
from policies.replay_seeding import add_transitions, demo_transitions_from
from policies.tool_low_level import load_low_level


def load_affordance(path: str | None):
    """The trained encoder as points -> (approach opening, contact opening, extent); None without a path."""
    if not path:
        return None
    if not Path(path).is_file():
        raise FileNotFoundError(f"affordance encoder {path} not found: train it with `tool-train-affordance "
                                f"out={Path(path).parent}`, or pass an empty path for no estimate")
    from envs.tweezers.scene import OPEN_ANGLE
    from envs.tweezers.tool_geometry import openings_for
    from policies.affordance import PointNet

    net = PointNet()
    net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    net.eval()

    def estimate(points: np.ndarray) -> tuple[float, float, float]:
        from envs.tweezers.point_cloud import sample

        pts = sample(points, 256, np.random.default_rng(0)).astype(np.float32)
        with torch.no_grad():
            extent = float(net(torch.from_numpy(pts)[None])[0])
        approach, contact = openings_for(extent)
        # wider than the calibrated range: open fully, squeeze fully (what the heuristic does)
        return float(np.nan_to_num(approach, nan=OPEN_ANGLE)), float(np.nan_to_num(contact, nan=0.0)), extent
    return estimate


@dataclass
class HighLevelConfig:
    """tool-train-high's settings (values: configs/tool_high.yaml)."""
    out: str = setting()
    steps: int = setting(ge=0)
    seed: int = setting(ge=0)
    seed_episodes: int = setting(ge=1)
    bc_steps: int = setting(ge=0)
    dagger_rounds: int = setting(ge=0)
    demonstrator: str = setting(choices=("perceived", "privileged"))  # the heuristic on what the robot perceives / on simulator state
    dagger_episodes: int = setting(ge=1)
    dagger_bc_steps: int = setting(ge=0)
    critic_steps: int = setting(ge=0)
    select_episodes: int = setting(ge=0)  # validation episodes: model.zip is SAC's actor where it did better, else the clone
    initial_std: float = setting(gt=0)
    hold_std: bool = setting(absent=False)  # the exploration std stays at initial_std (TD3/IBRL-style) instead of SAC tuning it
    bc_weight: float = setting(ge=0)
    q_filter: bool = setting()  # BC only where the critic prefers the demo's action; false: everywhere
    clone_proposes: bool = setting(absent=False)  # the finished clone, frozen, proposes actions the critic may pick (IBRL)
    residual_scale: float = setting(ge=0, le=2, absent=0.0)  # > 0: SAC learns a residual of at most this on the frozen clone
    critic_layer_norm: bool = setting()  # LayerNorm critics (RLPD)
    n_critics: int = setting(ge=1, absent=2)  # the ensemble the critic's min is taken over
    affordance: Optional[str] = setting()
    low_level: Optional[str] = setting()  # tool-train-low's model.zip; None = the P controller
    flat: bool = setting()  # the flat baseline: arm + finger targets directly, no low level
    learning_rate: float = setting(gt=0)
    ent_coef: str = setting()
    batch_size: int = setting(ge=1)
    gamma: float = setting(gt=0, le=1)
    net_arch: list[int] = setting()
    threads: int = setting(ge=1)
    progress: bool = setting()

    def check(self) -> None:
        if self.clone_proposes and self.residual_scale:
            raise ConfigError("residual_scale", self.residual_scale, "is another use of the clone than "
                                                                      "clone_proposes=true: pass residual_scale=0 with it")


def train_high_level(cfg: HighLevelConfig) -> Path:
    """Heuristic episodes -> replay buffer and BC clone; `dagger_rounds` of the clone's own
    episodes labelled by the heuristic (into the buffer and the BC set: the clone learns to
    recover from its own mistakes) -> bc_model.zip; critics fitted; SAC with the BC term
    (and, with `clone_proposes`, the frozen clone proposing actions) -> sac_model.zip;
    model.zip is that if it does better than the clone on `select_episodes` validation
    episodes, else the clone (train.json says which).
    A finished model.zip is returned as is."""
    from stable_baselines3.common.logger import configure

    if cfg.demonstrator not in ("perceived", "privileged"):
        raise ValueError(f"demonstrator must be perceived or privileged, got {cfg.demonstrator!r}")
    torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    ckpt = out / "model.zip"
    if ckpt.is_file():
        return ckpt
    env = make_pick_env(ObjectDistribution(), cfg.flat, load_affordance(cfg.affordance), load_low_level(cfg.low_level))
    privileged = cfg.demonstrator == "privileged"
    expert = FlatPickHeuristic(env, privileged) if cfg.flat else PickHeuristic(env, privileged)
    demos, heuristic_rate = _heuristic_demos(out / "demos.npz", env, expert, cfg.seed_episodes, 50_000 + cfg.seed,
                                             cfg.demonstrator)
    model = DemoRegularizedSAC(
        "MlpPolicy", env, demo=demos, bc_weight=cfg.bc_weight, q_filter=cfg.q_filter, learning_rate=cfg.learning_rate,
        ent_coef=cfg.ent_coef, batch_size=cfg.batch_size, gamma=cfg.gamma, learning_starts=0, seed=cfg.seed,
        device="cpu", policy_kwargs={"net_arch": list(cfg.net_arch), "critic_layer_norm": cfg.critic_layer_norm,
                                     "n_critics": cfg.n_critics,
                                     "clone_proposes": cfg.clone_proposes, "residual_scale": cfg.residual_scale,
                                     **normalizer_kwargs(demos["obs"])})
    add_transitions(model.replay_buffer, demos)
    model.set_logger(configure(str(out / "tb"), ["tensorboard"]))
    log = {"heuristic_success": heuristic_rate, "heuristic_transitions": len(demos["actions"]),
           "bc_error": [model.clone(cfg.bc_steps)], "clone_success": []}
    for r in range(cfg.dagger_rounds):
        labels: list[np.ndarray] = []

        def act(obs):
            labels.append(expert(obs))  # the privileged state before the learner's action
            return model.predict(obs, deterministic=True)[0]

        visited, rate = demo_transitions_from(env, act, cfg.dagger_episodes, 60_000 + 1000 * r + cfg.seed,
                                              successful_only=False)
        add_transitions(model.replay_buffer, visited)
        model.add_demos(visited["obs"], np.asarray(labels, dtype=np.float32))
        log["clone_success"].append(rate)
        log["bc_error"].append(model.clone(cfg.dagger_bc_steps))
    model.set_exploration_std(cfg.initial_std, hold=cfg.hold_std)
    save_policy_file(model, out / "bc_model.zip")
    clone_rate = _validate(env, model, cfg.select_episodes)
    model.freeze_clone()  # the clone proposes actions, or is what the residual adds to, from the critic's fit on
    model.fit_critic(cfg.critic_steps, cfg.batch_size)
    model.learn(cfg.steps, progress_bar=cfg.progress, reset_num_timesteps=False)
    save_policy_file(model, out / "sac_model.zip")
    log.update(bc_error_after_sac=model.clone(0),  # how far SAC moved the actor from the demos
               env_steps=model.replay_buffer.size(), sac_steps=cfg.steps,
               labelled_states=len(model.demo_actions))
    sac_rate = _validate(env, model, cfg.select_episodes)
    log["validation_success"] = {"clone": clone_rate, "sac": sac_rate}
    if cfg.select_episodes and sac_rate <= clone_rate:  # SAC did no better: keep the clone (ties included)
        log["selected"] = "clone"
        atomic_write(ckpt, lambda tmp: shutil.copyfile(out / "bc_model.zip", tmp))
    else:
        log["selected"] = "sac"
        atomic_write(ckpt, lambda tmp: shutil.copyfile(out / "sac_model.zip", tmp))
    env.close()
    write_text(out / "train.json", json.dumps(log, indent=2))
    return ckpt


def _validate(env, model, episodes: int) -> float:
    """Success of the deterministic actor on training-distribution episodes (seeds of their own,
    apart from the demos', DAgger's and every benchmark split's); 0 episodes = no selection."""
    if not episodes:
        return float("nan")
    _, rate = demo_transitions_from(env, lambda o: model.predict(o, deterministic=True)[0], episodes, 70_000,
                                    successful_only=False)
    return rate


def make_pick_env(objects: ObjectDistribution, flat: bool = False, affordance=None, low_level=None) -> TweezerPickEnv:
    """The hierarchical pick task (goal opening -> `low_level`, default the P controller), or its
    flat baseline (no low level)."""
    if flat:
        return FlatTweezerPickEnv(objects, affordance=affordance)
    return TweezerPickEnv(objects, affordance=affordance, low_level=low_level)


def _heuristic_demos(path: Path, env, expert, episodes: int, seed: int, demonstrator: str) -> tuple[dict, float]:
    """The heuristic's episodes, kept in the run folder (a rerun with the same settings reuses them)."""
    if path.is_file():
        with np.load(path) as f:
            saved = {k: f[k] for k in f.files}
        meta = {k: saved.pop(k, -1) for k in ("success_rate", "episodes", "seed", "task_version", "demonstrator")}
        if int(meta["episodes"]) == episodes and int(meta["seed"]) == seed and str(meta["demonstrator"]) == demonstrator \
                and int(meta["task_version"]) == TASK_VERSION and saved["obs"].shape[1:] == env.observation_space.shape:
            return saved, float(meta["success_rate"])
    arrays, rate = demo_transitions_from(env, expert, episodes, seed)
    if not len(arrays["actions"]):
        raise RuntimeError(f"the {demonstrator} heuristic picked in none of its {episodes} episodes (seed {seed}): "
                           "nothing to clone; check the affordance encoder (affordance=) or raise seed_episodes")
    atomic_write(path, lambda p: np.savez(p, **arrays, success_rate=rate, episodes=episodes, seed=seed,
                                          task_version=TASK_VERSION, demonstrator=demonstrator))
    return arrays, rate

"""Scoring progress: a reward model backend, and the tracker that fuses its hops into progress.

A backend (`RewardBackend`) turns observations into what it compares (`encode`), holds a task's
START/END references (`set_reference`) and answers hops H(before -> after) in [-1, 1] for batches
(`hop`). Fusion, the consistency guard, success detection and shaping are written once, over
that interface. Two backends: this project's GRM (`RewardModel`, below) and the official
Robo-Dopamine GRM through transformers (grm/robodopamine.py); `load_reward_model` picks one.

    rm = RewardModel.load("grm/pretrained/grm_multi_embodiment.pt")
    rm.set_reference(demo_start_views, demo_goal_views)   # (V, H, W, 3) each, from one demo
    tracker = ProgressTracker(rm, num_envs=8)
    phi0 = tracker.reset(first_views)                      # (8, V, H, W, 3) -> zeros
    out = tracker.step(next_views)                          # out.phi: fused progress, (8,)

Per step the tracker encodes each environment's views once and evaluates the hop head
three times (incremental from the previous step, forward from the episode's first
observation, backward from the demo's goal), then fuses them (docs/method.md): by default the
median of the three, so one perspective that collapses is outvoted by the other two.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from grm.checkpoint import load_model
from grm.model import GRM
from grm.view_slots import inputs, map_views, present, to_slots

PERSPECTIVES = ("fused", "incremental", "forward", "backward")
# how "fused" joins the three: median (default) or mean (the paper's average; runs recorded before
# the setting existed used it)
FUSIONS = ("median", "mean")


class RewardBackend(Protocol):
    """What the progress tracker, evaluation, shaping and the ROS monitor need of a reward model."""
    inputs: list[str]  # the cameras it reads, in the order `encode` takes them
    model: object  # the network (identifies the backend in caches)

    def encode(self, views: np.ndarray) -> torch.Tensor:
        """(B, len(inputs), H, W, 3) uint8 -> (B, ...): what `hop` compares, one row per observation."""

    def set_reference(self, start_views: np.ndarray, goal_views: np.ndarray, instruction: str = "") -> None:
        """The task's START and END observations (V, H, W, 3), e.g. from the one demo."""

    def set_reference_from_episode(self, path: str | Path) -> None:
        """The references (and instruction) from an episode file's first and success frames."""

    @property
    def z_goal(self) -> torch.Tensor:
        """The encoded END reference, (1, ...)."""

    def hop(self, z_before: torch.Tensor, z_after: torch.Tensor) -> torch.Tensor:
        """H(before -> after) in [-1, 1], (B,), for encoded observations."""


def reference_frames(path: str | Path, cameras: list[str], mapping: str) -> tuple[np.ndarray, np.ndarray, str]:
    """An episode file's first frame and first-success frame from `cameras`, and its instruction:
    the references a backend takes from a demo. `mapping` names the setting that maps cameras."""
    from grm.dataset import open_episode

    with open_episode(path) as ep:
        if not ep.success:
            raise ValueError(f"{path} is not a successful episode; its last frame is no goal")
        missing = [c for c in cameras if c not in ep.cameras]
        if missing:
            raise ValueError(f"{path} lacks camera(s) {missing} the reward model reads ({cameras}); it has "
                             f"{ep.cameras}: map them with {mapping}")
        return ep.frames(0, cameras), ep.frames(int(ep.keyframes[-1]), cameras), ep.instruction


class RewardModel:
    """A frozen GRM with its reference demo frames; deterministic (eval mode, no grad)."""

    def __init__(self, model: GRM, cameras: list[str | None], device: str | torch.device = "cpu"):
        """`cameras`: the camera feeding each of the model's view slots (None: masked)."""
        self.model = model.eval().to(device)
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.cameras = list(cameras)
        self.inputs = inputs(self.cameras)  # what callers pass, in this order
        self.device = torch.device(device)
        self.image_size = model.cfg.image_size
        self._present = torch.from_numpy(present(self.cameras)).to(self.device)
        self._z_start: torch.Tensor | None = None
        self._z_goal: torch.Tensor | None = None

    @classmethod
    def load(cls, path: str | Path, device: str | torch.device = "cpu", available: list[str] | None = None,
             views: dict | None = None) -> "RewardModel":
        """`available`: the data's cameras, laid onto the checkpoint's views by name or by the
        `views` mapping (grm/view_slots.py)."""
        model, cameras, _ = load_model(path)
        if available is not None:
            cameras = map_views(cameras, available, views)
        return cls(model, cameras, device)

    def _check(self, views: np.ndarray) -> None:
        V = len(self.inputs)
        if views.ndim != 5 or views.shape[1] != V or views.shape[4] != 3:
            raise ValueError(f"expected views of shape (B, {V}, H, W, 3) for cameras {self.inputs}, got {views.shape}")

    @torch.no_grad()
    def encode(self, views: np.ndarray, chunk: int = 256) -> torch.Tensor:
        """(B, len(inputs), H, W, 3) uint8 -> (B, D) embeddings, in chunks to bound memory."""
        views = np.asarray(views)
        self._check(views)
        mask = None if bool(self._present.all()) else self._present
        out = []
        for i in range(0, len(views), chunk):
            x = torch.from_numpy(np.ascontiguousarray(to_slots(views[i:i + chunk], self.cameras))).to(self.device)
            out.append(self.model.encode(x, None if mask is None else mask.expand(len(x), -1)))
        return torch.cat(out)

    def set_reference(self, start_views: np.ndarray, goal_views: np.ndarray, instruction: str = "") -> None:
        """The task's START and END (goal) observations, e.g. from the one adaptation demo (the
        references carry the task: this model reads no instruction)."""
        z = self.encode(np.stack([start_views, goal_views]))
        self._z_start, self._z_goal = z[0:1], z[1:2]

    def set_reference_from_episode(self, path: str | Path) -> None:
        """Use an episode file's first frame and first-success frame as the references."""
        self.set_reference(*reference_frames(path, self.inputs, "views= (grm/view_slots.py)"))

    @property
    def z_goal(self) -> torch.Tensor:
        if self._z_goal is None:
            raise RuntimeError("call set_reference(start_views, goal_views) first")
        return self._z_goal

    @torch.no_grad()
    def hop(self, z_before: torch.Tensor, z_after: torch.Tensor) -> torch.Tensor:
        """H(before -> after) in [-1, 1] for batches of embeddings."""
        if self._z_start is None:
            raise RuntimeError("call set_reference(start_views, goal_views) first")
        return self.model.hop(self._z_start, self.z_goal, z_before, z_after)


@dataclass
class StepProgress:
    phi: np.ndarray  # the chosen perspective's progress (fused by default), (B,)
    incremental: np.ndarray
    forward: np.ndarray
    backward: np.ndarray


def incremental_update(prev: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """Phi_I = G + H (1 - G) for H >= 0, G (1 + H) otherwise, with G the previous progress."""
    return torch.where(h >= 0, prev + h * (1 - prev), prev * (1 + h))


def fuse(phi_i: torch.Tensor, phi_f: torch.Tensor, phi_b: torch.Tensor, rule: str = "median") -> torch.Tensor:
    """The fused progress of the three perspectives.

    `median` survives one perspective failing. When the goal looks like the start (return home;
    open, use and close again) the two anchors collapse to opposite ends, forward reading ~0 and
    backward ~1 at success, so their mean tops out near 2/3 however right the incremental estimate
    is; the median is then the incremental estimate. `mean` is the paper's average."""
    if rule == "median":
        return torch.stack([phi_i, phi_f, phi_b]).median(0).values
    if rule == "mean":
        return (phi_i + phi_f + phi_b) / 3
    raise ValueError(f"fusion must be one of {FUSIONS}, got {rule!r}")


def consistency_guard(prev: torch.Tensor, phi_i: torch.Tensor, phi_f: torch.Tensor, phi_b: torch.Tensor,
                      alpha: float = 20.0, eps: float = 1e-3) -> torch.Tensor:
    """Move toward the anchored estimate only as far as forward and backward agree."""
    m = (phi_f + phi_b) / 2
    d = (phi_b - phi_f).abs() / (m + eps)
    w = torch.exp(-alpha * d**2)
    return prev + (w / 2) * (m - prev + (phi_i - prev))


class ProgressTracker:
    """Progress of `num_envs` parallel episodes, updated one batched step at a time."""

    def __init__(self, rm: RewardBackend, num_envs: int, perspective: str = "fused", guard: bool = False,
                 alpha: float = 20.0, fusion: str = "median"):
        if perspective not in PERSPECTIVES:
            raise ValueError(f"perspective must be one of {PERSPECTIVES}, got {perspective!r}")
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, got {fusion!r}")
        if guard and fusion != "mean":
            raise ValueError("guard=true smooths the mean of the perspectives: set fusion=mean with it")
        self.rm, self.n, self.perspective, self.guard, self.alpha = rm, num_envs, perspective, guard, alpha
        self.fusion = fusion
        self.z_init: torch.Tensor | None = None  # (num_envs, ...) as the backend encodes: made at the first reset
        self.z_prev: torch.Tensor | None = None
        self.phi = torch.zeros(num_envs)

    def reset(self, views: np.ndarray, env_ids: np.ndarray | None = None) -> np.ndarray:
        """Start episodes in `env_ids` (all by default) from these first observations; Phi = 0."""
        ids = torch.arange(self.n) if env_ids is None else torch.as_tensor(env_ids, dtype=torch.long)
        return self.reset_embeddings(self.rm.encode(views), ids)

    def reset_embeddings(self, z: torch.Tensor, ids: torch.Tensor) -> np.ndarray:
        if self.z_init is None:
            self.z_init = torch.zeros((self.n, *z.shape[1:]), dtype=z.dtype)
            self.z_prev = torch.zeros_like(self.z_init)
        self.z_init[ids] = z
        self.z_prev[ids] = z
        self.phi[ids] = 0.0
        return self.phi[ids].numpy().copy()

    def step(self, views: np.ndarray) -> StepProgress:
        return self.step_embeddings(self.rm.encode(views))

    @torch.no_grad()
    def step_embeddings(self, z: torch.Tensor) -> StepProgress:
        rm = self.rm
        z_goal = rm.z_goal.expand_as(z)
        # one batched head call for the three perspectives
        h = rm.hop(torch.cat([self.z_prev, self.z_init, z_goal]), torch.cat([z, z, z])).reshape(3, -1)
        phi_i = incremental_update(self.phi, h[0])
        phi_f = h[1].clamp(0, 1)
        phi_b = (1 + h[2]).clamp(0, 1)
        if self.perspective == "fused":
            new = (consistency_guard(self.phi, phi_i, phi_f, phi_b, self.alpha) if self.guard
                   else fuse(phi_i, phi_f, phi_b, self.fusion))
        else:
            new = {"incremental": phi_i, "forward": phi_f, "backward": phi_b}[self.perspective]
        self.phi = new.clamp(0, 1)
        self.z_prev = z
        return StepProgress(self.phi.numpy().copy(), phi_i.numpy(), phi_f.numpy(), phi_b.numpy())


def episode_progress(rm: RewardBackend, views: np.ndarray, perspective: str = "fused", guard: bool = False,
                     fusion: str = "median") -> np.ndarray:
    """Progress of every frame of one episode (T+1, V, H, W, 3), frame 0 at Phi = 0."""
    return progress_from_embeddings(rm, rm.encode(views), perspective, guard, fusion)


def progress_from_embeddings(rm: RewardBackend, z: torch.Tensor, perspective: str = "fused", guard: bool = False,
                             fusion: str = "median") -> np.ndarray:
    """The same from precomputed frame embeddings (T+1, D): evaluations reuse one encoding."""
    tracker = ProgressTracker(rm, 1, perspective, guard, fusion=fusion)
    out = [tracker.reset_embeddings(z[:1], torch.tensor([0]))[0]]
    for t in range(1, len(z)):
        out.append(tracker.step_embeddings(z[t:t + 1]).phi[0])
    return np.asarray(out, dtype=np.float32)

"""The affordance encoder: from a point cloud of the object, which tool states grasp it.

For the downward-pointing tweezers the tips close along the world y axis, so an object is
grasped by opening wider than its y-extent (plus clearance) to straddle it, then closing to the
opening where the tips touch it. Labels come from the scene's own calibration of tip gap vs
opening (`envs.tweezers.tool_geometry.tool_calibration`), never from the encoder's input. The encoder is a small PointNet
(shared per-point MLP, max pool, head) on object points centred on their footprint; it predicts
the contact opening, from which the approach opening follows. Held-out shapes and sizes measure
whether it learned geometry rather than a lookup of the training objects.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import envs  # noqa: F401  (sets MUJOCO_GL for headless rendering before mujoco loads)
import mujoco
import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from configs.files import write_text
from configs.typed import setting
from envs.tweezers.point_cloud import centre_footprint, object_points, sample
from envs.tweezers.scene import OPEN_ANGLE, ObjectSpec, build_model, place_tool_in_hand
from envs.tweezers.tool_geometry import openings_for

def object_cloud(obj: ObjectSpec, n_points: int, rng: np.random.Generator,
                 cameras: tuple[str, ...] = ("depth_top", "depth_front")) -> np.ndarray:
    """Object points (n_points, 3) from the scene's depth cameras, centred on the footprint."""
    m = build_model(obj)
    d = mujoco.MjData(m)
    d.qpos[m.jnt_qposadr[m.joint("ARTy").id]] = d.ctrl[m.actuator("A_ARTy").id] = 0.15
    place_tool_in_hand(m, d)
    for _ in range(50):
        mujoco.mj_step(m, d)
    return sample(centre_footprint(object_points(m, d, cameras)), n_points, rng).astype(np.float32)


def random_objects(n: int, shapes: list[str], width_range: tuple[float, float], rng: np.random.Generator) -> list[ObjectSpec]:
    return [ObjectSpec(str(rng.choice(shapes)), float(rng.uniform(*width_range)), float(rng.uniform(1.0, 1.6)),
                       float(rng.uniform(0, np.pi))) for _ in range(n)]


def make_set(objects: list[ObjectSpec], n_points: int, seed: int, progress: bool = False) -> dict:
    rng = np.random.default_rng(seed)
    clouds = np.stack([object_cloud(o, n_points, rng) for o in tqdm(objects, disable=not progress, desc="clouds")])
    extent = np.array([o.extent_y() for o in objects])
    approach, contact = openings_for(extent)
    return {"points": clouds, "extent": extent, "approach": approach, "contact": contact,
            "shapes": np.array([o.shape for o in objects])}


class PointNet(nn.Module):
    def __init__(self, width: int = 64):
        super().__init__()
        self.point = nn.Sequential(nn.Linear(3, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                                   nn.Linear(width, 2 * width))
        self.head = nn.Sequential(nn.Linear(2 * width, width), nn.ReLU(), nn.Linear(width, 1))

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        """(B, N, 3) metres -> (B,) predicted object extent along y (metres)."""
        return self.head(self.point(points * 20.0).max(dim=1).values).squeeze(-1) / 20.0


@dataclass
class AffordanceConfig:
    """tool-train-affordance's settings (values: configs/tool_affordance.yaml)."""
    out: str = setting()
    train_shapes: list[str] = setting()
    test_shapes: list[str] = setting()
    train_widths: list[float] = setting()  # m: [low, high]
    test_widths: list[float] = setting()  # larger than any training object
    n_train: int = setting(ge=1)
    n_test: int = setting(ge=1)
    n_points: int = setting(ge=8)
    epochs: int = setting(ge=1)
    seed: int = setting(ge=0)
    tolerance: float = setting(gt=0)  # rad: a contact opening this close grasps
    progress: bool = setting()


def accuracy(model: PointNet, data: dict, tolerance: float) -> dict:
    with torch.no_grad():
        pred_extent = model(torch.from_numpy(data["points"])).numpy()
    _, pred_contact = openings_for(pred_extent)
    ok = np.isfinite(data["contact"])
    err = np.abs(np.nan_to_num(pred_contact, nan=OPEN_ANGLE) - data["contact"])[ok]
    return {"n": int(ok.sum()), "extent_mae_mm": float(np.mean(np.abs(pred_extent - data["extent"])) * 1e3),
            "contact_opening_mae_rad": float(err.mean()), "within_tolerance": float((err < tolerance).mean())}


def train_affordance(cfg: AffordanceConfig) -> dict:
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(cfg.seed)
    sets = {
        "train": random_objects(cfg.n_train, cfg.train_shapes, cfg.train_widths, rng),
        "val": random_objects(cfg.n_test, cfg.train_shapes, cfg.train_widths, rng),  # same distribution
        "held_out_shapes": random_objects(cfg.n_test, cfg.test_shapes, cfg.train_widths, rng),
        "held_out_sizes": random_objects(cfg.n_test, cfg.train_shapes, cfg.test_widths, rng),
    }
    data = {k: make_set(v, cfg.n_points, cfg.seed + i, cfg.progress) for i, (k, v) in enumerate(sets.items())}
    torch.manual_seed(cfg.seed)
    model = PointNet()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.from_numpy(data["train"]["points"]), torch.from_numpy(data["train"]["extent"]).float()
    for _ in tqdm(range(cfg.epochs), disable=not cfg.progress, desc="epochs"):
        for idx in torch.randperm(len(x)).split(32):
            loss = nn.functional.smooth_l1_loss(model(x[idx]) * 100, y[idx] * 100)  # centimetres
            opt.zero_grad()
            loss.backward()
            opt.step()
    report = {name: accuracy(model, d, cfg.tolerance) for name, d in data.items()}
    report["config"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.__dict__.items()}
    torch.save(model.state_dict(), out / "affordance.pt")
    write_text(out / "report.json", json.dumps(report, indent=2))
    return report

"""Point clouds from MuJoCo depth cameras, labelled by what each point belongs to.

One depth render and one segmentation render per camera; pixels are unprojected with the
camera's intrinsics (fovy, image size) and extrinsics into world coordinates. The affordance
encoder sees sampled points of the tool and the object; the robot's own links can be dropped.
"""
from __future__ import annotations

import mujoco
import numpy as np


class DepthCamera:
    """Renders (points (N, 3) world, body ids (N,)) for one camera of a model."""

    def __init__(self, model: mujoco.MjModel, camera: str, width: int = 96, height: int = 96):
        if mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, camera) < 0:
            names = [model.camera(i).name for i in range(model.ncam)]
            raise ValueError(f"no camera {camera!r}; the model has {names}")
        self.model, self.camera = model, camera
        self.renderer = mujoco.Renderer(model, height, width)
        self.w, self.h = width, height
        fovy = np.deg2rad(model.cam_fovy[model.camera(camera).id])
        self.f = 0.5 * height / np.tan(fovy / 2)

    def capture(self, data: mujoco.MjData) -> tuple[np.ndarray, np.ndarray]:
        r = self.renderer
        r.update_scene(data, self.camera)
        r.enable_depth_rendering()
        depth = r.render().copy()
        r.disable_depth_rendering()
        r.enable_segmentation_rendering()
        seg = r.render()[..., :2].copy()  # (object id, object type)
        r.disable_segmentation_rendering()
        u, v = np.meshgrid(np.arange(self.w) + 0.5, np.arange(self.h) + 0.5)
        valid = (seg[..., 1] == mujoco.mjtObj.mjOBJ_GEOM) & (depth < self.model.stat.extent * 10)
        z = depth[valid]
        # camera frame: x right, y up, looking down -z
        x = (u[valid] - self.w / 2) / self.f * z
        y = -(v[valid] - self.h / 2) / self.f * z
        pts_cam = np.stack([x, y, -z], axis=1)
        cam = self.model.camera(self.camera).id
        pos, mat = data.cam_xpos[cam], data.cam_xmat[cam].reshape(3, 3)
        points = pts_cam @ mat.T + pos
        bodies = self.model.geom_bodyid[seg[..., 0][valid]]
        return points, bodies

    def close(self) -> None:
        self.renderer.close()


def sample(points: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Exactly n points (with repetition when fewer exist); zeros when there are none."""
    if len(points) == 0:
        return np.zeros((n, 3))
    return points[rng.choice(len(points), n, replace=len(points) < n)]


class ObjectCameras:
    """The depth cameras of one model, kept open: a robot sees the object at every step, and
    opening a renderer costs far more (~1.3 s) than a capture (~17 ms)."""

    def __init__(self, model: mujoco.MjModel, cameras: tuple[str, ...] = ("depth_top", "depth_front")):
        self.model = model
        self.cams = [DepthCamera(model, name, 96, 96) for name in cameras]

    def points(self, data: mujoco.MjData) -> np.ndarray:
        """World-frame points of the scene's `object` body, (N, 3); none when it is hidden."""
        obj = self.model.body("object").id
        return np.concatenate([p[bodies == obj] for p, bodies in (c.capture(data) for c in self.cams)])

    def near_face_y(self, points: np.ndarray) -> float:
        """Where the object's near face (smallest y) is. The outermost pixel centres that hit an
        object lie on average half a pixel inside its silhouette (at 96 px the top camera's pixel is
        ~5 mm on the table: the nearest point sat 2.5 mm inside the face on average, up to 5 mm),
        so the face is taken half a top-camera pixel, at the nearest point's depth, beyond them."""
        i = int(points[:, 1].argmin())
        top = next(c for c in self.cams if c.camera == "depth_top")
        cam = self.model.camera("depth_top")
        distance = float(cam.pos[2] - points[i, 2])  # looks straight down from a fixed mount
        return float(points[i, 1]) - 0.5 * distance / top.f

    def close(self) -> None:
        for c in self.cams:
            c.close()
        self.cams = []


def object_points(model: mujoco.MjModel, data: mujoco.MjData,
                  cameras: tuple[str, ...] = ("depth_top", "depth_front")) -> np.ndarray:
    """World-frame points of the scene's `object` body seen by the depth cameras, (N, 3) (one look)."""
    cams = ObjectCameras(model, cameras)
    try:
        return cams.points(data)
    finally:
        cams.close()


def centre_footprint(points: np.ndarray) -> np.ndarray:
    """Points shifted so their horizontal centroid is the origin (heights kept)."""
    return points - np.array([*points[:, :2].mean(0), 0.0]) if len(points) else points

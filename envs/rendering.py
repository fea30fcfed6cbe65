"""Headless multi-view rendering with the flags that make software rendering fast.

MuJoCo's defaults (4x multisampling, shadows, reflections, skybox) cost ~10x on the
llvmpipe software rasterizer that CPU-only machines use, and buy nothing a reward model or
policy needs at 96x96. `fast=True` turns them off; keep `fast=False` for pretty videos.
"""
from __future__ import annotations

import atexit
import os
import weakref
from dataclasses import dataclass

os.environ.setdefault("MUJOCO_GL", "egl")

import mujoco  # noqa: E402
import numpy as np  # noqa: E402

# Meta-World's corner cameras have their up axis pointing at the floor: the image is rolled 180°.
ROLLED_CAMERAS = frozenset({"corner", "corner2", "corner3", "corner4"})
_SLOW_FLAGS = (mujoco.mjtRndFlag.mjRND_SHADOW, mujoco.mjtRndFlag.mjRND_REFLECTION, mujoco.mjtRndFlag.mjRND_SKYBOX)


_LIVE: "weakref.WeakSet[MultiViewRenderer]" = weakref.WeakSet()


def _close_all() -> None:
    """Free GL contexts while EGL is still initialised; at interpreter teardown it may be gone."""
    for r in list(_LIVE):
        r.close()


def camera_names(model: mujoco.MjModel) -> list[str]:
    return [model.camera(i).name for i in range(model.ncam)]


@dataclass(frozen=True)
class FreeCamera:
    """A camera the model does not define: it looks at `lookat` from `distance` metres, at
    `azimuth` and `elevation` degrees (MuJoCo's free camera), so any MuJoCo scene can be framed."""
    name: str
    lookat: tuple[float, float, float]
    distance: float
    azimuth: float = 90.0
    elevation: float = -45.0

    def mjv(self) -> mujoco.MjvCamera:
        cam = mujoco.MjvCamera()
        cam.type = mujoco.mjtCamera.mjCAMERA_FREE
        cam.lookat[:] = self.lookat
        cam.distance, cam.azimuth, cam.elevation = self.distance, self.azimuth, self.elevation
        return cam


class MultiViewRenderer:
    """Renders a fixed list of cameras of one model (its named cameras, or `FreeCamera`s) into
    a (V, H, W, 3) uint8 array."""

    def __init__(self, model: mujoco.MjModel, cameras: list[str | FreeCamera], height: int, width: int,
                 fast: bool = True, upright: bool = True, mesh_keep: float = 1.0):
        """mesh_keep < 1 draws a copy of the model whose dense meshes keep that share of their
        faces (`envs.mesh_detail`; only with `fast`): the data given to `render` still comes from
        the simulated model."""
        valid = camera_names(model)
        unknown = [c for c in cameras if isinstance(c, str) and c not in valid]
        if unknown:
            raise ValueError(f"unknown camera(s) {unknown}; this model has: {', '.join(valid) or 'none'} "
                             f"(envs.rendering.FreeCamera frames a scene without named cameras)")
        self.cameras = [c if isinstance(c, str) else c.name for c in cameras]
        if len(set(self.cameras)) != len(self.cameras):
            raise ValueError(f"camera list has duplicates: {self.cameras}")
        if height <= 0 or width <= 0:
            raise ValueError(f"image size must be positive, got {height}x{width}")
        self._views = [c if isinstance(c, str) else c.mjv() for c in cameras]
        self.fast = fast
        self._rolled = [upright and isinstance(c, str) and c in ROLLED_CAMERAS for c in cameras]
        if fast:
            from envs.mesh_detail import decimated_render_model

            model = decimated_render_model(model, mesh_keep)
            model.vis.quality.offsamples = 0
        self._renderer = mujoco.Renderer(model, height, width)
        self._out = np.empty((len(cameras), height, width, 3), dtype=np.uint8)
        if not _LIVE:  # registered after MuJoCo's own EGL atexit hook, so it runs before it
            atexit.unregister(_close_all)
            atexit.register(_close_all)
        _LIVE.add(self)

    def render(self, data: mujoco.MjData) -> np.ndarray:
        """Return a fresh (V, H, W, 3) array of the current state seen from every camera."""
        for i, cam in enumerate(self._views):
            self._renderer.update_scene(data, camera=cam)
            if self.fast:
                for flag in _SLOW_FLAGS:
                    self._renderer.scene.flags[flag] = 0
            img = self._renderer.render()
            self._out[i] = img[::-1, ::-1] if self._rolled[i] else img
        return self._out.copy()

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

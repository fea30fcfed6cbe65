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
class ViewRandomization:
    """Render-only changes drawn once per episode (`MultiViewRenderer.randomize`): the physics and the
    state never see them; a reward model trained on them meets another camera pose, lighting and
    colouring every episode, so it cannot key on one scene's pixels. All zero: no change."""
    camera_deg: float = 0.0  # each view turns by up to this many degrees about its vertical and side axes
    camera_m: float = 0.0  # and moves by up to this many metres along each axis
    light: float = 0.0  # each light's intensity scales by a factor in [1 - light, 1 + light]
    color: float = 0.0  # each geom's colour scales per channel by a factor in [1 - color, 1 + color]

    def __post_init__(self):
        bad = {k: v for k, v in vars(self).items() if not 0 <= v or (k in ("light", "color") and v >= 1)}
        if bad:
            raise ValueError(f"view randomization out of range: {bad} (all >= 0; light and color < 1)")

    @property
    def active(self) -> bool:
        return any(vars(self).values())


def randomization_rng(seed: int | None, fallback: np.random.Generator) -> np.random.Generator:
    """The stream an episode's view randomization is drawn from: its own seed's, apart from the
    placement's (so switching randomization on leaves every placement as it was)."""
    return np.random.default_rng([int(seed), 0x5EED]) if seed is not None else fallback


def _turn(axis: np.ndarray, degrees: float) -> np.ndarray:
    """Rotation matrix about a unit `axis` (Rodrigues)."""
    a = np.deg2rad(degrees)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(a) * k + (1 - np.cos(a)) * k @ k


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
                 fast: bool = True, upright: bool = True, mesh_keep: float = 1.0, hidden_groups: tuple[int, ...] = (),
                 sites: bool = True, randomization: ViewRandomization = ViewRandomization()):
        """mesh_keep < 1 draws a copy of the model whose dense meshes keep that share of their
        faces (`envs.mesh_detail`; only with `fast`): the data given to `render` still comes from
        the simulated model. hidden_groups: geom groups not drawn (robosuite keeps its plain
        collision shapes in group 0 and the textured visual meshes in group 1). sites=False draws
        no sites (robosuite's are debugging markers, recoloured as the gripper nears the cube).
        randomization: what `randomize` draws; changes are made to the drawn scene, never the model."""
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
        self._option = mujoco.MjvOption()
        for group in hidden_groups:
            self._option.geomgroup[group] = 0
        if not sites:
            self._option.sitegroup[:] = 0
        self._out = np.empty((len(cameras), height, width, 3), dtype=np.uint8)
        self.randomization = randomization
        self._draw: dict | None = None  # this episode's draw; None: the scene as the model has it
        self._ngeom = model.ngeom
        if not _LIVE:  # registered after MuJoCo's own EGL atexit hook, so it runs before it
            atexit.unregister(_close_all)
            atexit.register(_close_all)
        _LIVE.add(self)

    def render(self, data: mujoco.MjData) -> np.ndarray:
        """Return a fresh (V, H, W, 3) array of the current state seen from every camera."""
        for i, cam in enumerate(self._views):
            self._renderer.update_scene(data, camera=cam, scene_option=self._option)
            if self.fast:
                for flag in _SLOW_FLAGS:
                    self._renderer.scene.flags[flag] = 0
            if self._draw is not None:
                self._apply(i)
            img = self._renderer.render()
            self._out[i] = img[::-1, ::-1] if self._rolled[i] else img
        return self._out.copy()

    def randomize(self, rng: np.random.Generator) -> None:
        """Draw this episode's camera poses, light and colours (nothing when the randomization is all zero)."""
        r = self.randomization
        if not r.active:
            return
        V = len(self._views)
        self._draw = {
            "turn": rng.uniform(-r.camera_deg, r.camera_deg, size=(V, 2)),
            "move": rng.uniform(-r.camera_m, r.camera_m, size=(V, 3)),
            "light": rng.uniform(1 - r.light, 1 + r.light, size=64),
            "color": rng.uniform(1 - r.color, 1 + r.color, size=(self._ngeom, 3)),
        }

    def _apply(self, view: int) -> None:
        """Change the scene `update_scene` built for `view`: the camera turns and moves, lights and
        geom colours scale. Geom colours multiply their textures, so textured surfaces change too."""
        scene, draw = self._renderer.scene, self._draw
        yaw, pitch = draw["turn"][view]
        for cam in scene.camera:
            forward, up = np.array(cam.forward), np.array(cam.up)
            side = np.cross(forward, up)
            rot = _turn(up, yaw) @ _turn(side / max(np.linalg.norm(side), 1e-9), pitch)
            cam.forward[:], cam.up[:] = rot @ forward, rot @ up
            cam.pos[:] = np.array(cam.pos) + draw["move"][view]
        for j in range(min(scene.nlight, len(draw["light"]))):
            light = scene.lights[j]
            for part in (light.diffuse, light.ambient, light.specular):
                part[:] = np.minimum(np.array(part) * draw["light"][j], 1.0)
        gains = draw["color"]
        for j in range(scene.ngeom):
            geom = scene.geoms[j]
            if geom.objtype == mujoco.mjtObj.mjOBJ_GEOM:
                geom.rgba[:3] = np.minimum(np.array(geom.rgba[:3]) * gains[geom.objid], 1.0)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

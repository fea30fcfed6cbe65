"""Decimated render meshes: fewer faces, nearly the same picture, physics model untouched."""
import numpy as np
import pytest

from envs.mesh_detail import decimated_render_model
from envs.metaworld_env import MetaWorldTask
from envs.rendering import MultiViewRenderer


def test_decimated_copy_renders_nearly_the_same_frame_and_leaves_physics_alone():
    env = MetaWorldTask("drawer-close-v3", cameras=(), max_steps=50)
    env.reset(seed=0)
    m = env.model
    faces, verts = m.mesh_facenum.copy(), m.mesh_vert.copy()
    light = decimated_render_model(m, 0.2)
    assert light is not m and light.mesh_facenum.sum() < 0.3 * faces.sum()
    np.testing.assert_array_equal(m.mesh_facenum, faces)  # the simulated model keeps its meshes
    np.testing.assert_array_equal(m.mesh_vert, verts)
    full = MultiViewRenderer(m, ["corner", "topview"], 48, 48).render(env.data).astype(float)
    fast = MultiViewRenderer(m, ["corner", "topview"], 48, 48, mesh_keep=0.2).render(env.data).astype(float)
    assert 0.0 < np.abs(fast - full).mean() < 3.0  # a few grey levels on average
    assert decimated_render_model(m, 1.0) is m
    with pytest.raises(ValueError, match="keep fraction"):
        decimated_render_model(m, 0.0)
    env.close()


def test_grm_rl_environments_render_the_decimated_copy_by_default(tmp_path):
    from policies.rl_run import compose_rl, make_env

    cfg = compose_rl("task=drawer-close-v3", f"out={tmp_path}")
    env = make_env(cfg, ["corner"], 32, 0)()
    drawn = env.unwrapped._renderer._renderer.model
    assert cfg.mesh_keep < 1.0 and drawn is not env.unwrapped.model
    assert drawn.mesh_facenum.sum() < 0.3 * env.unwrapped.model.mesh_facenum.sum()
    env.close()

"""A render-only copy of a model whose dense visual meshes are decimated.

On CPU-only machines MuJoCo renders through llvmpipe, where triangle count is the cost: the
Sawyer arm's visual meshes (~68k faces) take ~85% of a Meta-World frame. At the 64-96 px a
reward model or a policy sees, a mesh with a tenth of the faces (quadric decimation) renders
the same picture to within a few grey levels, several times faster. The physics model is
left untouched (some visual meshes also collide, and their convex hulls index the original
vertices); the renderer draws the copy from the simulation's MjData, which has the same layout.
"""
from __future__ import annotations

import copy

import mujoco
import numpy as np


def nearest_normals(new_verts: np.ndarray, verts: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """Each new vertex takes the normal of the nearest original vertex: decimation can leave a
    few faces wound the other way, and normals recomputed from winding then turn dark."""
    from scipy.spatial import cKDTree

    return normals[cKDTree(verts).query(new_verts)[1]]


def decimated_render_model(model: mujoco.MjModel, keep: float, min_faces: int = 500) -> mujoco.MjModel:
    """Copy of `model` in which every untextured mesh with more than `min_faces` faces keeps about
    `keep` of them; `keep >= 1` returns the model itself."""
    if not 0.0 < keep:
        raise ValueError(f"mesh keep fraction must be > 0, got {keep}")
    if keep >= 1.0:
        return model
    import fast_simplification

    out = copy.deepcopy(model)
    for i in range(out.nmesh):
        nf, nv = int(out.mesh_facenum[i]), int(out.mesh_vertnum[i])
        if nf <= min_faces or out.mesh_texcoordnum[i] > 0:
            continue
        fa, va, na = out.mesh_faceadr[i], out.mesh_vertadr[i], out.mesh_normaladr[i]
        verts = out.mesh_vert[va:va + nv].astype(np.float64)
        faces = out.mesh_face[fa:fa + nf].astype(np.int64)
        v2, f2 = fast_simplification.simplify(verts, faces, target_reduction=1.0 - keep)
        if len(f2) == 0 or len(v2) > nv or len(f2) > nf or len(v2) > out.mesh_normalnum[i]:
            continue
        out.mesh_vert[va:va + len(v2)] = v2
        out.mesh_vertnum[i] = len(v2)
        out.mesh_normal[na:na + len(v2)] = nearest_normals(v2, verts, out.mesh_normal[na:na + nv])
        out.mesh_normalnum[i] = len(v2)
        out.mesh_face[fa:fa + len(f2)] = f2
        out.mesh_facenormal[fa:fa + len(f2)] = f2
        out.mesh_facenum[i] = len(f2)
    return out

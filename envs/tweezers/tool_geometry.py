"""The tweezers' geometry: which hinge opening leaves which gap between the prongs, and so which
openings straddle (approach) and grasp (contact) an object of a given extent. Measured once from
the scene itself, so the pick task, its heuristic and the affordance encoder agree."""
from __future__ import annotations

from functools import lru_cache

import mujoco
import numpy as np

from envs.tweezers.scene import OPEN_ANGLE, ObjectSpec, build_model, place_tool_in_hand, tip_gap

CLEARANCE = 0.003  # m each side when straddling
PRONG_THICKNESS = 0.0015


@lru_cache(maxsize=1)
def tool_calibration() -> tuple[np.ndarray, np.ndarray]:
    """(openings, free gap between the prongs' inner faces) over the hinge's range, from the scene."""
    m = build_model(ObjectSpec("box", 0.02))
    d = mujoco.MjData(m)
    place_tool_in_hand(m, d)
    adr = m.jnt_qposadr[m.joint("tweezers_hinge").id]
    angles = np.linspace(0.0, OPEN_ANGLE, 61)
    gaps = []
    for a in angles:
        d.qpos[adr] = a
        mujoco.mj_kinematics(m, d)
        gaps.append(tip_gap(d) - PRONG_THICKNESS)
    return angles, np.array(gaps)


def openings_for(extent: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(approach opening, contact opening) for an object extent; NaN where it does not fit."""
    angles, gaps = tool_calibration()
    extent = np.asarray(extent, dtype=np.float64)
    contact = np.interp(extent, gaps, angles, left=0.0, right=np.nan)
    approach = np.interp(extent + 2 * CLEARANCE, gaps, angles, left=0.0, right=np.nan)
    return approach, contact

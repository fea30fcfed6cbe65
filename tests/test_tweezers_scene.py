"""The tweezer scene: the tool is held, fingers close it, the grip can give way, clouds are right."""
import mujoco
import numpy as np
import pytest

from envs.tweezers.point_cloud import DepthCamera
from envs.tweezers.scene import (OPEN_ANGLE, SHAPES, ObjectSpec, build_model, grip_force, opening,
                                 place_tool_in_hand, tip_gap, update_grip)

FINGERS = ["A_FFJ2", "A_FFJ1", "A_FFJ0", "A_MFJ2", "A_MFJ1", "A_MFJ0"]


def settle(m, d, steps=300):
    held = True
    for _ in range(steps):
        mujoco.mj_step(m, d)
        held = update_grip(m, d)
    return held


def hover(m):
    d = mujoco.MjData(m)
    d.qpos[m.joint("ARTy").qposadr[0]] = d.ctrl[m.actuator("A_ARTy").id] = 0.1
    place_tool_in_hand(m, d)
    return d


@pytest.mark.parametrize("width", [0.006, 0.025])
@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_rests_on_the_table_and_the_tool_is_held_open(shape, width):
    obj = ObjectSpec(shape, width, 1.4)
    m = build_model(obj)
    d = hover(m)
    assert settle(m, d)
    # resting on the table, not sunk into it (single-point convex collision sank an upright
    # cylinder by 2-5 mm) nor flying
    assert abs(d.body("object").xpos[2] - obj.height()) < 0.001
    assert OPEN_ANGLE - 0.02 < opening(d) <= OPEN_ANGLE + 0.005  # the spring holds it open
    assert 0.03 < tip_gap(d) < 0.045
    rows = d.efc_type == mujoco.mjtConstraint.mjCNSTR_EQUALITY
    assert np.abs(d.efc_pos[rows]).max() < 1e-3 and grip_force(m, d) < 1.0


def test_finger_flexion_closes_the_tweezers_against_the_spring():
    m = build_model(ObjectSpec("box", 0.02))
    d = hover(m)
    settle(m, d)
    ids = [m.actuator(n).id for n in FINGERS]
    openings = []
    for k in range(15):  # flex gradually, as a hand would
        flex = 0.1 * k
        d.ctrl[ids] = [flex, 0.6 * flex, 0.4 * flex] * 2
        assert settle(m, d, 200)
        if k >= 10:
            openings.append(opening(d))
    assert all(b < a - 0.02 for a, b in zip(openings, openings[1:])), openings
    assert openings[0] > 0.26 and openings[-1] < 0.02  # from open to closed


def test_an_overloaded_grip_drops_the_tool():
    m = build_model(ObjectSpec("box", 0.02))
    d = hover(m)
    assert settle(m, d, 50)
    z0 = d.body("tweezers").xpos[2]
    mujoco.mj_step(m, d)
    assert not update_grip(m, d, limit=0.01)  # a grip weaker than the tool's own weight
    settle(m, d, 300)
    assert d.body("tweezers").xpos[2] < z0 - 0.05  # it fell
    place_tool_in_hand(m, d)  # and a reset puts it back
    assert settle(m, d, 50)


def test_depth_point_cloud_of_the_object_matches_its_size_and_place():
    obj = ObjectSpec("box", 0.03)
    m = build_model(obj)
    d = hover(m)
    settle(m, d, 100)
    cam = DepthCamera(m, "depth_top", 96, 96)
    points, bodies = cam.capture(d)
    cam.close()
    mine = points[bodies == m.body("object").id]
    assert len(mine) > 20
    extent = mine.max(0) - mine.min(0)
    assert np.all(np.abs(extent[:2] - obj.width) < 0.012), extent
    np.testing.assert_allclose(mine[:, :2].mean(0), d.body("object").xpos[:2], atol=0.005)
    np.testing.assert_allclose(mine[:, 2].max(), obj.height() * 2, atol=0.004)  # the top face
    with pytest.raises(ValueError, match="no camera"):
        DepthCamera(m, "nope")


def test_bad_objects_are_refused():
    with pytest.raises(ValueError, match="unknown shape"):
        build_model(ObjectSpec("torus", 0.02))
    with pytest.raises(ValueError, match="width"):
        build_model(ObjectSpec("box", 0.5))

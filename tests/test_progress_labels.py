"""Hop labels follow docs/method.md's formula; progress is uniform per sub-task."""
import numpy as np
import pytest

from grm.progress_labels import (hop_label, keyframe_progress, matched_progress, path_progress, step_samples,
                                 unfinished_cap)


@pytest.mark.parametrize(
    "p, q, h",
    [
        (0.0, 0.5, 0.5),  # half of all the work
        (0.5, 0.75, 0.5),  # half of the remaining half
        (0.5, 1.0, 1.0),  # all of the remaining work
        (0.8, 0.4, -0.5),  # half of the achieved work undone
        (0.5, 0.0, -1.0),  # everything undone
        (0.3, 0.3, 0.0),
        (1.0, 1.0, 0.0),  # nothing left to do: zero, not 0/0
        (1.0, 0.25, -0.75),
    ],
)
def test_hop_formula_hand_cases(p, q, h):
    assert hop_label(p, q) == pytest.approx(h)


def test_progress_is_uniform_per_subtask_not_per_time():
    # two sub-tasks: a short one (10 frames) and a long one (30 frames); each is worth one half
    prog = keyframe_progress(np.array([0, 10, 40]), 46)
    assert prog[10] == pytest.approx(0.5) and prog[5] == pytest.approx(0.25) and prog[25] == pytest.approx(0.75)
    assert prog[40] == 1.0 and np.all(prog[40:] == 1.0) and np.all(np.diff(prog) >= 0)
    with pytest.raises(ValueError):
        keyframe_progress(np.array([3, 10]), 20)


def test_step_samples_follow_the_design_count():
    # L=40 frames, chunk C=2, N=2 sub-tasks: m = floor(floor(40/2)/2) = 10 states each, M = 20
    frames, phi = step_samples(np.array([0, 10, 39]), 40, chunk=2)
    assert len(frames) == 21 and phi[0] == 0 and phi[-1] == 1 and frames[-1] == 39
    assert frames[10] == 10 and phi[10] == pytest.approx(0.5)  # the sub-task boundary sits at i = m
    assert np.all(np.diff(frames) > 0)


def test_matched_progress_copies_nearest_expert_state():
    ref = np.zeros((3, 39))
    ref[:, 4] = [0.0, 0.1, 0.2]  # the object moves along x
    states = np.zeros((2, 39))
    states[:, 4] = [0.19, 0.04]
    assert matched_progress(states, ref, np.array([0.0, 0.5, 1.0])).tolist() == [1.0, 0.0]


def test_path_progress_fades_away_from_the_expert_path():
    ref = np.zeros((3, 39))
    ref[:, 4] = [0.0, 0.1, 0.2]  # the object moves along x; the hand stays at the origin
    states = np.zeros((3, 39))
    states[:, 4] = 0.2  # the object where the expert left it
    states[:, 2] = [0.0, 0.1, 0.4]  # the hand on the path, 10 cm and 40 cm above it
    assert matched_progress(states, ref, np.array([0.0, 0.5, 1.0])).tolist() == [1.0, 1.0, 1.0]
    np.testing.assert_allclose(path_progress(states, ref, np.array([0.0, 0.5, 1.0]), width=0.1),
                               [1.0, np.exp(-0.5), np.exp(-8.0)], rtol=1e-5)


def test_unfinished_cap_is_the_start_of_the_last_subtask():
    assert unfinished_cap(4) == 0.75 and unfinished_cap(2) == 0.5
    assert unfinished_cap(1) == 0.5, "one sub-task: an unfinished run is credited with half of it at most"

"""Keyframes come from expert phase changes, gripper flips and the first success."""
import numpy as np

from envs.scripted_expert import KeyframeRule, derive_keyframes


def targets_with_jumps(T, jumps):
    tg = np.zeros((T, 3))
    for t in jumps:
        tg[t:] += np.array([0.1, 0.0, 0.0])
    return tg


def test_phase_changes_gripper_flips_and_success():
    T = 60
    grip = -np.ones(T)
    grip[30:] = 1.0  # close the gripper at step 30
    kf = derive_keyframes(targets_with_jumps(T, [12, 45]), grip, first_success=55, n_frames=T + 1)
    assert kf.tolist() == [0, 12, 30, 45, 55]


def test_close_events_merge_and_nothing_after_success():
    T = 60
    kf = derive_keyframes(targets_with_jumps(T, [10, 12, 50, 58]), np.ones(T), first_success=52, n_frames=T + 1,
                          rule=KeyframeRule(min_gap=5))
    # 12 merges into 10; 50 is within min_gap of the success frame; 58 is after it
    assert kf.tolist() == [0, 10, 52]


def test_failed_episode_ends_at_last_frame_and_small_target_drift_is_not_a_phase():
    T = 40
    drift = np.cumsum(np.full((T, 3), 0.005), axis=0)  # a moving target, no jumps
    kf = derive_keyframes(drift, np.ones(T), first_success=None, n_frames=T + 1)
    assert kf.tolist() == [0, T]


def test_direction_turns_stand_in_for_targets():
    T = 40
    d = np.zeros((T, 3))
    d[:20, 2] = 1.0  # up, then sideways: one phase change at step 20
    d[20:, 0] = 1.0
    kf = derive_keyframes(None, np.ones(T), first_success=35, n_frames=T + 1, directions=d)
    assert kf.tolist() == [0, 20, 35]

"""benchmarks/state_visibility.py: the task's own change is measured with the robot held where it ended."""
import numpy as np


def test_robot_mask_and_changed_share(load_benchmark):
    vis = load_benchmark("state_visibility")
    from envs.metaworld_env import MetaWorldTask

    env = MetaWorldTask("door-lock-v3", (), max_steps=10)
    mask = vis.robot_qpos_mask(env.model)
    assert mask.sum() == 9 and not mask[9:].any()  # 7 arm joints + 2 fingers first; the lock's hinge is the task's
    env.close()
    a = np.zeros((2, 4, 4, 3), np.uint8)
    b = a.copy()
    b[1, 0, :2, 0] = 200  # two pixels of view 1, one channel
    b[0, 0, 0] = 10  # below the threshold
    np.testing.assert_allclose(vis.changed_share(a, b, threshold=20), [0.0, 2 / 16])


def test_drawer_close_changes_more_of_the_view_than_nothing(load_benchmark):
    vis = load_benchmark("state_visibility")
    row = vis.measure("drawer-close-v3", episodes=1, size=32, threshold=20, after=0)
    for camera in vis.CAMERAS:
        assert 0 < row["task_change"][camera] < 1
    # the drawer's travel is part of the whole episode's change, which also holds the arm's
    assert row["episode_change"]["corner"] > row["task_change"]["corner"]

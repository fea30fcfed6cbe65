"""Episode files round-trip exactly, are written atomically and read lazily."""
import json

import h5py
import numpy as np
import pytest

from envs import MetaWorldTask
from grm.dataset import list_episodes, open_episode, write_episode
from grm.dataset.collect import EnvSettings, collect, plan_jobs
from grm.dataset.rollout import RolloutSettings, expert_reference, record_episode, reverse_episode
from grm.progress_labels import matched_progress, unfinished_cap


@pytest.fixture(scope="module")
def expert_episode():
    env = MetaWorldTask("drawer-close-v3", cameras=("corner", "topview", "gripperPOV"), image_size=48)
    state_env = MetaWorldTask("drawer-close-v3", cameras=())
    return record_episode(env, state_env, "expert", seed=7, max_steps=200)


def test_expert_episode_has_views_keyframes_and_success(expert_episode):
    ep = expert_episode
    assert ep.success and ep.first_success > 0
    assert ep.images.shape[1:] == (3, 48, 48, 3)
    assert all(ep.images[:, v].std() > 5 for v in range(3)), "each camera stream must be non-constant"
    assert ep.keyframes[0] == 0 and ep.keyframes[-1] == ep.first_success and len(ep.keyframes) >= 3
    assert np.all(np.diff(ep.keyframes) > 0)


def test_write_read_roundtrip_is_exact(tmp_path, expert_episode):
    path = write_episode(tmp_path / "t" / "expert_0000.hdf5", expert_episode)
    assert [p.name for p in tmp_path.glob("t/*")] == ["expert_0000.hdf5"], "no temp files left behind"
    with open_episode(path) as ep:
        back = ep.load()
        for key in ("images", "state", "physics", "actions", "rewards", "step_success", "keyframes"):
            np.testing.assert_array_equal(getattr(back, key), getattr(expert_episode, key), err_msg=key)
        assert (back.task, back.instruction, back.cameras) == (expert_episode.task, expert_episode.instruction, expert_episode.cameras)
        # lazy access: a slice of one camera reads just those frames
        np.testing.assert_array_equal(ep.images("topview")[5:8], expert_episode.images[5:8, 1])
        np.testing.assert_array_equal(ep.frames(4), expert_episode.images[4])
        with pytest.raises(KeyError, match="not in episode"):
            ep.images("behindGripper")
    with h5py.File(path) as f:  # robomimic layout and chunked compression
        demo = f["data/demo_0"]
        assert demo.attrs["num_samples"] == len(expert_episode.actions)
        assert demo["obs/corner_image"].compression == "gzip" and demo["obs/corner_image"].chunks[0] <= 16


def test_physics_state_restores_the_scene(expert_episode):
    import mujoco

    env = MetaWorldTask("drawer-close-v3", cameras=("corner", "topview", "gripperPOV"), image_size=48)
    env.reset(seed=7)  # the seed places bodies/sites in the model; the state then restores the motion
    t = int(expert_episode.keyframes[1])
    mujoco.mj_setState(env.model, env.data, expert_episode.physics[t], mujoco.mjtState.mjSTATE_FULLPHYSICS)
    mujoco.mj_forward(env.model, env.data)
    np.testing.assert_array_equal(env.render(), expert_episode.images[t])


def test_reversed_episode_plays_backwards(expert_episode):
    rev = reverse_episode(expert_episode)
    np.testing.assert_array_equal(rev.images[0], expert_episode.images[-1])
    assert not rev.success and rev.meta["source_first_success"] == expert_episode.first_success


def test_failure_kinds_do_not_finish(tmp_path):
    env = EnvSettings(("corner", "gripperPOV"), 32, 200)
    collect(["door-lock-v3"], {"expert": 0, "early_stop": 2, "reversed": 1}, 3, tmp_path, env, progress=False)
    for p in list_episodes(tmp_path):
        with open_episode(p) as ep:
            assert not ep.success, p.name


def test_bad_inputs_give_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="dataset folder not found"):
        list_episodes(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="episode file not found"):
        open_episode(tmp_path / "nope.hdf5")
    (tmp_path / "junk.hdf5").write_bytes(b"not hdf5")
    with pytest.raises(ValueError, match="not a readable episode file"):
        open_episode(tmp_path / "junk.hdf5")
    with pytest.raises(ValueError, match="unknown episode kind"):
        plan_jobs(["reach-v3"], {"expret": 2}, 0)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(NotADirectoryError):
        collect(["reach-v3"], {"expert": 1}, 0, tmp_path / "afile", EnvSettings(("corner",), 32, 50), progress=False)


def test_mixing_env_settings_in_one_folder_is_refused(tmp_path):
    collect(["reach-v3"], {"expert": 1}, 0, tmp_path, EnvSettings(("corner",), 32, 100), progress=False)
    with pytest.raises(ValueError, match="already holds episodes"):
        collect(["reach-v3"], {"expert": 1}, 0, tmp_path, EnvSettings(("corner",), 64, 100), progress=False)


def test_an_unfinished_near_miss_is_labelled_a_subtask_short():
    """A `wrong` run that follows the expert 90% of the way and never succeeds must not be labelled done."""
    env, state_env = MetaWorldTask("reach-v3", cameras=("corner",), image_size=32), MetaWorldTask("reach-v3", cameras=())
    settings = RolloutSettings(wrong_after_range=(0.9, 0.9), cap_unfinished=True)
    ep = record_episode(env, state_env, "wrong", seed=7, max_steps=200, settings=settings)
    uncapped = record_episode(env, state_env, "wrong", seed=7, max_steps=200,
                              settings=RolloutSettings(wrong_after_range=(0.9, 0.9)))
    ref = expert_reference(state_env, 7, 200, settings)
    assert not ep.step_success.any()
    nearest = matched_progress(ep.state, ref.states, ref.progress)
    cap = unfinished_cap(ref.subtasks)
    assert nearest.max() > cap + 0.2, "the nearest expert state is nearly done: the case the cap exists for"
    np.testing.assert_allclose(ep.progress, np.minimum(nearest, cap))
    np.testing.assert_array_equal(uncapped.progress, nearest)  # the option off: nearest-state labels as before
    # early_stop frames are the expert's own, so they keep the expert's labels
    early = record_episode(env, state_env, "early_stop", seed=7, max_steps=200,
                           settings=RolloutSettings(early_stop_range=(0.8, 0.8), cap_unfinished=True))
    np.testing.assert_array_equal(early.progress, ref.progress[: early.num_steps + 1])


def test_episodes_labelled_by_another_rule_are_not_mixed_in(tmp_path):
    env, capped = EnvSettings(("corner",), 32, 100), RolloutSettings(cap_unfinished=True)
    collect(["reach-v3"], {"expert": 1, "wrong": 1}, 0, tmp_path / "mixed", env, progress=False)
    with pytest.raises(ValueError, match="another rule.*wrong_0000"):
        collect(["reach-v3"], {"expert": 2}, 0, tmp_path / "mixed", env, capped, progress=False)
    # experts only (an RL run's demo folder): labelled the same under both rules, so it is carried on
    collect(["reach-v3"], {"expert": 1}, 0, tmp_path / "experts", env, progress=False)
    collect(["reach-v3"], {"expert": 2}, 0, tmp_path / "experts", env, capped, progress=False)
    assert "capped" in json.loads((tmp_path / "experts" / "dataset.json").read_text())["labels"]


def test_retract_returns_the_hand_home_with_the_task_still_done():
    """door-lock: after the lever is down the hand goes back to its start; the pre-success part is the expert's own."""
    env, state_env = MetaWorldTask("door-lock-v3", cameras=("corner",), image_size=32), MetaWorldTask("door-lock-v3", cameras=())
    plain = record_episode(env, state_env, "expert", seed=3, max_steps=200)
    ep = record_episode(env, state_env, "expert", seed=3, max_steps=200,
                        settings=RolloutSettings(post_success="retract", post_success_steps=40))
    fs = ep.first_success
    assert fs == plain.first_success
    np.testing.assert_array_equal(ep.actions[:fs], plain.actions[:fs])
    np.testing.assert_array_equal(ep.keyframes, plain.keyframes)
    assert ep.step_success[fs - 1:].all(), "every kept post-success frame is one where the task is done"
    assert np.linalg.norm(ep.state[-1, :3] - ep.state[0, :3]) < 0.03 < np.linalg.norm(plain.state[-1, :3] - plain.state[0, :3])
    np.testing.assert_array_equal(ep.progress[fs:], 1.0)


def test_a_retract_that_undoes_the_task_ends_at_the_last_done_frame():
    """pick-place: the retract carries the held puck off the goal; the episode stops before that frame."""
    env, state_env = MetaWorldTask("pick-place-v3", cameras=("corner",), image_size=32), MetaWorldTask("pick-place-v3", cameras=())
    ep = record_episode(env, state_env, "expert", seed=0, max_steps=200,
                        settings=RolloutSettings(post_success="retract", post_success_steps=40))
    assert ep.success and ep.step_success[ep.first_success - 1:].all()
    assert ep.num_steps < ep.first_success + 40, "the retract must have been cut short"
    with pytest.raises(ValueError, match="post_success must be one of"):
        RolloutSettings(post_success="home")


def test_post_success_behaviours_are_not_mixed_in_one_folder(tmp_path):
    env = EnvSettings(("corner",), 32, 100)
    collect(["reach-v3"], {"expert": 1}, 0, tmp_path, env, progress=False)
    with pytest.raises(ValueError, match="post_success='expert'.*post_success='retract'"):
        collect(["reach-v3"], {"expert": 2}, 0, tmp_path, env, RolloutSettings(post_success="retract"), progress=False)

"""The robosuite arms (envs/robosuite_env.py): the held-out embodiment and the other arms build, seed
reproducibly, render the role-named views, their expert finishes, and the newcomer path collects
them with defaults and a Meta-World GRM scores them with no mapping."""
import json

import numpy as np
import pytest

from envs.task_env import make_expert, make_task
from envs.tasks import HELD_OUT_ARM, ROBOSUITE_HELD_OUT, ROBOSUITE_PRETRAIN, ROBOSUITE_TASKS, resolve_tasks


def run_expert(env, seed: int) -> int | None:
    """Steps the expert needs from `seed`, None if it never finishes."""
    expert, (obs, _) = make_expert(env.task), env.reset(seed=seed)
    for t in range(env.max_steps):
        obs, _, terminated, truncated, info = env.step(expert.act(obs["state"])[0])
        assert not terminated, "the time limit is truncation, as in Meta-World"
        if info["is_success"]:
            return t + 1
        if truncated:
            return None
    return None


@pytest.fixture(scope="module")
def stack():
    env = make_task("rs-stack-panda", ("corner", "gripperPOV"), image_size=32, max_steps=150)
    yield env
    env.close()


def test_the_held_out_arm_is_in_no_pretraining_group():
    assert ROBOSUITE_HELD_OUT and all(ROBOSUITE_TASKS[t][1] == HELD_OUT_ARM for t in ROBOSUITE_HELD_OUT)
    assert not set(ROBOSUITE_HELD_OUT) & set(resolve_tasks(["pretrain", "robosuite"]))
    assert resolve_tasks("robosuite_held_out") == list(ROBOSUITE_HELD_OUT)


def test_stack_expert_finishes_and_the_state_follows_metaworlds_layout(stack):
    assert run_expert(stack, 1) is not None
    state = stack.reset(seed=1)[0]["state"]
    assert state.shape == (18,)
    # hand at 0:3, cube A at 4:7, cube B at 11:14: the slices progress matching reads (grm/progress_labels.py)
    assert np.allclose(state[0:3], stack._rs._observables["robot0_eef_pos"].obs)
    assert np.allclose(state[4:7], stack.data.body("cubeA_main").xpos) and np.allclose(state[11:14], stack.data.body("cubeB_main").xpos)


def test_seed_alone_sets_the_placement_and_physics_state_restores_a_frame(stack):
    import mujoco

    a = stack.reset(seed=3)[0]
    b = stack.reset(seed=4)[0]
    c = stack.reset(seed=3)[0]
    assert np.array_equal(a["state"], c["state"]) and not np.allclose(a["state"][4:7], b["state"][4:7])
    for _ in range(5):
        obs = stack.step(np.array([0.5, 0.0, -0.5, 1.0]))[0]
    saved = stack.physics_state()
    stack.reset(seed=3)
    mujoco.mj_setState(stack.model, stack.data, saved, mujoco.mjtState.mjSTATE_FULLPHYSICS)
    mujoco.mj_forward(stack.model, stack.data)
    assert np.array_equal(stack.render(), obs["pixels"])


def test_every_instance_of_a_task_is_the_same_model(stack):
    """robosuite draws cube sizes when it builds a model: two instances (a collection's state-only twin
    and its rendering env) must replay a seed identically, whatever either ran before."""
    other = make_task("rs-stack-panda", (), max_steps=150)
    run_expert(other, 5)
    assert np.array_equal(other.model.geom_size, stack.model.geom_size)
    assert np.array_equal(other.reset(seed=3)[0]["state"], stack.reset(seed=3)[0]["state"])
    other.close()


def test_unknown_view_names_the_ones_there_are():
    with pytest.raises(ValueError, match="unknown camera.*'behindGripper'.*robot0_eye_in_hand.*views \\['corner', 'front', "
                                         "'topview', 'gripperPOV'\\]"):
        make_task("rs-lift-panda", ("corner", "behindGripper"), image_size=32)


def test_newcomer_path_collects_the_held_out_arm_with_defaults_and_the_shipped_grm_scores_it(tmp_path):
    """grm-collect's default views are role names both families have, so a Meta-World GRM reads robosuite
    episodes by name: no views= mapping."""
    from configs.typed import compose
    from grm.cli.collect import CollectConfig, job
    from grm.dataset import list_episodes, open_episode
    from grm.inference import RewardModel, episode_progress

    out = tmp_path / "d"
    job(compose("collect", CollectConfig, ["task=rs-lift-iiwa", "episodes=1", "failures.wrong=1", f"out={out}",
                                           "env.image_size=64", "workers=0"]))
    assert json.loads((out / "dataset.json").read_text())["env"]["cameras"] == ["corner", "topview", "gripperPOV"]
    episodes = {p.stem: p for p in list_episodes(out)}
    with open_episode(episodes["expert_0000"]) as ep:  # the held-out arm's expert lifts the cube
        assert ep.success and len(ep.keyframes) >= 3  # reach, descend, grasp, lift: phases of the expert's targets
        assert np.all(np.diff(ep.progress) >= 0) and ep.progress[-1] == 1.0
    with open_episode(episodes["wrong_0000"]) as ep:
        assert not ep.success and ep.progress.max() < 1.0
    rm = RewardModel.load("grm/pretrained/grm_multi_embodiment.pt", available=["corner", "topview", "gripperPOV"])
    rm.set_reference_from_episode(episodes["expert_0000"])
    with open_episode(episodes["expert_0000"]) as ep:
        phi = episode_progress(rm, ep.frames(slice(None), rm.inputs))
    assert phi.shape == (ep.num_steps + 1,) and np.all((phi >= 0) & (phi <= 1))

"""Robot profiles, input checks, command limiters and observation assembly (no ROS needed)."""
import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from hardware.policy_io import (JointCommand, JointStateObservation, MetaWorldObservation, TwistCommand,
                                joint_action_from_targets, pose_vector)
from hardware.profile import PROFILE_DIR, ProfileError, load_profile, profile_from_dict
from hardware.safety import InputRejected, check_joint_state

SAWYER = load_profile("sawyer_metaworld")
HAND = load_profile("adroit_hand")
anything = st.floats(allow_nan=True, allow_infinity=True, width=64)


def raw(name):
    return yaml.safe_load((PROFILE_DIR / f"{name}.yaml").read_text())


def test_shipped_profiles_load_and_hand_order_is_explicit():
    assert len(SAWYER.joints) == 7 and SAWYER.command.type == "cartesian_twist"
    perm = HAND.command_permutation()
    assert sorted(perm) == list(range(24)) and list(perm) != list(range(24))  # a real reordering
    assert [HAND.joint_names[i] for i in perm] == list(HAND.command.command_order)
    assert HAND.joints[0].sim == "WRJ1" and HAND.joints[0].name == "rh_WRJ2"


@pytest.mark.parametrize("edit, message", [
    (lambda r: r.update(bogus=1), "unknown key"),
    (lambda r: r.pop("command"), "missing key 'command'"),
    (lambda r: r["joints"][0].update(lower=5.0), "must be below upper"),
    (lambda r: r["joints"][1].update(name=r["joints"][0]["name"]), "duplicate joint names"),
    (lambda r: r["command"].update(type="torque"), "command.type"),
    (lambda r: r["command"].update(gripper_max_change=-2.0), r"gripper_max_change = -2.0; must be a finite number > 0"),
    (lambda r: r["joints"][2].update(upper=float("inf")), r"joints\[2\] \(right_j2\).upper = inf"),
    (lambda r: r.update(state_tolerance=-1), r"state_tolerance = -1; must be a finite number >= 0"),
    (lambda r: r["joints"][0].update(max_velocity="fast"), r"max_velocity = 'fast'"),
    (lambda r: r["command"].update(gripper_min=1.0), "gripper_min 1.0 must be below gripper_max"),
    (lambda r: r["command"].update(workspace_lower=[0, 0]), "workspace"),
    (lambda r: r["observation"].update(object_topics=["/a"]), "object_topics"),
])
def test_bad_sawyer_profiles_are_refused(edit, message):
    r = raw("sawyer_metaworld")
    edit(r)
    with pytest.raises(ProfileError, match=message):
        profile_from_dict(r, "edited")


def test_bad_hand_profiles_are_refused():
    r = raw("adroit_hand")
    r["command"]["command_order"] = r["command"]["command_order"][:-1] + ["rh_XXJ9"]
    with pytest.raises(ProfileError, match="command_order"):
        profile_from_dict(r)
    r = raw("adroit_hand")
    r["start_pose"] = [9.0] * 24
    with pytest.raises(ProfileError, match="start_pose"):
        profile_from_dict(r)
    with pytest.raises(ProfileError, match="known profiles"):
        load_profile("no_such_robot")


def test_joint_state_is_reordered_by_name_and_bad_ones_refused():
    names = list(HAND.command.command_order)
    q_policy = (HAND.lower + HAND.upper) / 2
    by_name = dict(zip(HAND.joint_names, q_policy))
    q, qd, _ = check_joint_state(HAND, names, [by_name[n] for n in names])
    np.testing.assert_array_equal(q, q_policy)
    good = [by_name[n] for n in names]
    cases = [
        (names, good[:-1], "names but"),
        (names[:-1] + [names[0]], good, "repeats"),
        (names[:-1] + ["rh_other"], good, "lacks"),
        (names, [np.nan] + good[1:], "non-finite"),
        (names, [HAND.upper[HAND.joint_names.index(names[0])] + 1.0] + good[1:], "outside"),
    ]
    for n, p, msg in cases:
        with pytest.raises(InputRejected, match=msg):
            check_joint_state(HAND, n, p)


@settings(max_examples=300, deadline=None)
@given(st.lists(arrays(np.float64, 24, elements=anything), min_size=1, max_size=8),
       arrays(np.float64, 24, elements=st.floats(-4, 4)))
def test_joint_commands_never_exceed_the_profile_limits(actions, q0):
    """Property: whatever the policy outputs, every command is finite, inside the joint range
    and within one step's velocity limit of the previous command."""
    cmd = JointCommand(HAND)
    prev = cmd.reset(q0)
    assert np.all((prev >= HAND.lower) & (prev <= HAND.upper))
    step = HAND.max_velocity * HAND.period
    for a in actions:
        out = cmd(a)
        assert np.all(np.isfinite(out))
        assert np.all(out >= HAND.lower) and np.all(out <= HAND.upper)
        assert np.all(np.abs(out - prev) <= step + 1e-12)
        prev = out


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(arrays(np.float64, 4, elements=anything),
                          arrays(np.float64, 3, elements=st.floats(-1.0, 1.5))), min_size=1, max_size=8))
def test_twist_commands_never_exceed_the_profile_limits(steps):
    """Property: velocity within +-max per axis, gripper in range, the EE never carried further
    outside the workspace, and the velocity change limit holds whenever the workspace allows it."""
    c = SAWYER.command
    lo, hi = np.array(c.workspace_lower), np.array(c.workspace_upper)
    cmd = TwistCommand(SAWYER)
    cmd.reset(0.0)
    prev_v, prev_g = np.zeros(3), 0.0
    for action, ee in steps:
        v, g = cmd(action, ee)
        assert np.all(np.isfinite(v)) and np.isfinite(g)
        assert np.all(np.abs(v) <= c.max_linear_velocity + 1e-12)
        assert c.gripper_min <= g <= c.gripper_max and abs(g - prev_g) <= c.gripper_max_change + 1e-12
        nxt = ee + v * SAWYER.period
        assert np.all((nxt >= lo - 1e-9) | (v >= 0)) and np.all((nxt <= hi + 1e-9) | (v <= 0))
        ws_lo, ws_hi = cmd.limiter.safe_interval(ee)
        compatible = (prev_v + c.max_linear_change >= ws_lo) & (prev_v - c.max_linear_change <= ws_hi)
        assert np.all(~compatible | (np.abs(v - prev_v) <= c.max_linear_change + 1e-12))
        prev_v, prev_g = v, g


def test_nan_action_holds_and_absolute_mapping_inverts():
    cmd = JointCommand(HAND)
    q0 = cmd.reset(np.zeros(24))
    np.testing.assert_array_equal(cmd(np.full(24, np.nan)), q0)
    target = HAND.lower + 0.3 * (HAND.upper - HAND.lower)
    np.testing.assert_allclose(cmd.target(joint_action_from_targets(HAND, target)), target)
    twist = TwistCommand(SAWYER)
    twist.reset(0.5)
    v, g = twist(np.array([np.nan, 0, 0, np.inf]), np.array([0.0, 0.6, 0.2]))
    assert np.all(v == 0) and g == 0.5  # no motion, the gripper keeps holding


def test_metaworld_observation_is_rebuilt_exactly_from_topic_values():
    """The 39-d vector assembled from EE/gripper/object/goal 'topics' equals Meta-World's own."""
    from envs.rl_task import RLTask
    from envs.scripted_expert import ScriptedExpert

    env = RLTask("drawer-close-v3", (), 64, 30)
    obs, _ = env.reset(seed=3)
    expert = ScriptedExpert("drawer-close-v3")
    assembler = MetaWorldObservation(SAWYER)
    for t in range(20):
        s = obs.astype(np.float64)
        cur = assembler.current(s[0:3], s[3], pose_vector(s[4:7], s[7:11]), pose_vector(s[11:14], s[14:18]))
        np.testing.assert_allclose(assembler.build(cur, s[36:39]), s, atol=1e-6)  # obs is float32
        obs, *_ = env.step(expert.act(obs)[0])
    env.close()


@pytest.mark.parametrize("algo", ["SAC", "PPO"])
def test_sb3_policies_load_with_the_same_actions_as_predict(algo, tmp_path):
    import stable_baselines3

    from envs.rl_task import RLTask
    from hardware.policy_loader import load_policy
    from policies.policy_file import save_policy_file

    env = RLTask("drawer-close-v3", (), 64, 20)
    cls = getattr(stable_baselines3, algo)
    model = cls("MlpPolicy", env, policy_kwargs={"net_arch": [32, 32]}, device="cpu", seed=0)
    save_policy_file(model, tmp_path / "m.zip")
    policy = load_policy(str(tmp_path / "m.zip"), SAWYER, MetaWorldObservation(SAWYER))
    obs = np.random.default_rng(0).normal(size=(5, 39))
    for o in obs:
        np.testing.assert_allclose(policy(o), model.predict(o.astype(np.float32), deterministic=True)[0], atol=1e-6)
    with pytest.raises(ValueError, match="observations of shape"):
        load_policy(str(tmp_path / "m.zip"), HAND, JointStateObservation(HAND))
    (tmp_path / "bad.zip").write_text("not a zip")
    with pytest.raises(ValueError, match="not a zip archive"):
        load_policy(str(tmp_path / "bad.zip"), SAWYER, MetaWorldObservation(SAWYER))
    with pytest.raises(FileNotFoundError):
        load_policy(str(tmp_path / "missing.zip"), SAWYER, MetaWorldObservation(SAWYER))
    env.close()


def test_tweezer_profile_rebuilds_the_low_levels_goal_observation_and_delta_step():
    """adroit_tweezers: the layout assembles exactly ToolOpeningEnv's observation dict from
    JointState (fingers + hinge), the last targets and the goal; one delta step of the profile
    is the training action's bound."""
    import mujoco

    from envs.tweezers.tool_env import MAX_DELTA, ToolOpeningEnv

    prof = load_profile("adroit_tweezers")
    layout = JointStateObservation(prof)
    env = ToolOpeningEnv()
    want, _ = env.reset(seed=3, options={"goal": 0.12})
    env.step(np.full(6, 0.5))
    want = env._obs()
    d, m = env.data, env.model
    q = d.qpos[env.hand.qpos_ids]
    hinge = m.joint("tweezers_hinge")
    vec = layout.build(q, np.zeros(6), [0.12], targets=d.ctrl[env.hand.act_ids],
                       tool_q=[d.qpos[m.jnt_qposadr[hinge.id]]], tool_qd=[d.qvel[m.jnt_dofadr[hinge.id]]])
    got = layout.goal_dict(vec)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], atol=1e-12)
    np.testing.assert_allclose(prof.max_velocity * prof.period, MAX_DELTA)
    cmd = JointCommand(prof)
    cmd.reset(np.full(6, 0.5))
    np.testing.assert_allclose(cmd(np.ones(6)), 0.5 + MAX_DELTA)
    assert [j.sim for j in prof.joints] == [mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_JOINT, m.jnt_qposadr.tolist().index(a))
                                             for a in env.hand.qpos_ids]
    with pytest.raises(ValueError, match="tool_joints"):
        JointStateObservation(HAND).goal_dict(np.zeros(JointStateObservation(HAND).size))
    bad = raw("adroit_tweezers")
    bad["observation"]["tool_joints"] = ["rh_FFJ1"]
    with pytest.raises(ProfileError, match="tool_joints"):
        profile_from_dict(bad)

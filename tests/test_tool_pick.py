"""The pick task: perception at reset and after each step, the low level inside each step, the heuristics."""
import numpy as np
import pytest

from configs.typed import compose
from envs.tweezers.pick_env import ObjectDistribution, PickHeuristic, TweezerPickEnv
from envs.tweezers.scene import ObjectSpec


def test_privileged_heuristic_picks_a_box_and_the_observation_is_what_a_robot_sees():
    env = TweezerPickEnv(ObjectDistribution(("box",), (0.015, 0.016)))
    obs, info = env.reset(seed=3)
    assert env.observation_space.contains(obs)
    obj_xy = env.data.body("object").xpos[:2]
    np.testing.assert_allclose(env.seen[:2], obj_xy, atol=0.004)  # centroid from the depth clouds
    np.testing.assert_allclose(env.seen[2], env.data.body("object").xpos[2], atol=0.002)  # centre: top and table
    np.testing.assert_allclose(obs[7], env.seen[3] - env.seen[2], atol=1e-6)  # its half-height
    policy = PickHeuristic(env, privileged=True)
    for _ in range(env.max_steps):
        obs, reward, terminated, truncated, info = env.step(policy(obs))
        if info["is_success"] or terminated or truncated:
            break
    assert info["is_success"] and reward == 1.0 and info["lifted"] > 0.04
    assert abs(obs[-1] - info["lifted"]) < 0.005  # the cameras, looking again each step, see it rise
    env.close()


def test_perceived_heuristic_picks_from_what_the_robot_sees(tmp_path):
    """The demonstrator the learners copy reads only the anchor, the affordance estimate and the
    tracked rise; with an encoder that measures the cloud's extent it picks a small cylinder and
    a sphere (a shape it is never trained on)."""
    import torch

    from policies.affordance import PointNet
    from policies.tool_high_level import load_affordance

    path = tmp_path / "extent_pointnet.pt"
    torch.save(_extent_measuring_pointnet(PointNet).state_dict(), path)
    for shape, width in (("cylinder", 0.012), ("sphere", 0.018)):
        env = TweezerPickEnv(ObjectDistribution((shape,), (width, width + 0.001)), affordance=load_affordance(path))
        obs, _ = env.reset(seed=2)
        policy = PickHeuristic(env)
        for _ in range(env.max_steps):
            obs, reward, terminated, truncated, info = env.step(policy(obs))
            if info["is_success"] or terminated or truncated:
                break
        assert info["is_success"], (shape, env.steps)
        env.close()


def test_doing_nothing_lifts_nothing_and_affordance_estimates_enter_the_observation():
    env = TweezerPickEnv(affordance=lambda pts: (0.2, 0.1, 0.015))
    obs, _ = env.reset(seed=0, options={"object": (ObjectSpec("cylinder", 0.015), np.zeros(2))})
    np.testing.assert_allclose(env.afford, [0.2, 0.1, 0.015])
    # tips relative to the anchor: centroid x, the near face in y (where the tips close), centre z
    y = env.data.body("object").xpos[1]
    # (the near face to within the top depth camera's half-pixel, ~2.6 mm on the table)
    np.testing.assert_allclose(env.anchor, [env.seen[0], y - 0.0075, env.seen[2]], atol=0.003)
    rear, front = env.tips()
    np.testing.assert_allclose(obs[1:7], np.concatenate([rear, front]) - np.tile(env.anchor, 2), atol=1e-6)
    from envs.tweezers.pick_env import MARGIN, SQUEEZE, opening_action, opening_command
    from envs.tweezers.scene import opening
    assert opening(env.data) > 0.25  # the spring holds the tool open
    assert obs[0] == np.float32(opening_action(opening(env.data), env.afford))  # in the action's anchored units
    # the opening action is anchored to the estimate: -1 squeezes past contact, +1 straddles
    np.testing.assert_allclose([opening_command(-1, env.afford), opening_command(1, env.afford)],
                               [0.1 - SQUEEZE - MARGIN, 0.2 + MARGIN])
    assert abs(opening_action(opening_command(0.3, env.afford), env.afford) - 0.3) < 1e-12
    assert (opening_command(-1), opening_command(1)) == (0.0, 0.3)  # no encoder: the hinge's range
    for _ in range(5):
        obs, reward, terminated, truncated, info = env.step(np.array([0, 0, 0, 1.0]))
    assert reward == 0.0 and not info["is_success"] and abs(info["lifted"]) < 0.003
    assert np.abs(obs[-3:]).max() < 0.003  # and the object is seen where it was
    env.close()


def _extent_measuring_pointnet(PointNet):
    """A PointNet set by hand to output the y-extent of the points it sees (max y - min y): a
    stand-in for the trained encoder (the pick task anchors its openings to the estimate)."""
    import torch

    net = PointNet()
    with torch.no_grad():
        for layer in [*net.point, *net.head]:
            if isinstance(layer, torch.nn.Linear):
                layer.weight.zero_()
                layer.bias.zero_()
        net.point[0].weight[0, 1], net.point[0].weight[1, 1] = 1.0, -1.0  # relu(y), relu(-y)
        net.point[2].weight[0, 0] = net.point[2].weight[1, 1] = 1.0
        net.point[4].weight[0, 0] = net.point[4].weight[1, 1] = 1.0  # max pool: max y, -min y
        net.head[0].weight[0, 0] = net.head[0].weight[0, 1] = 1.0
        net.head[2].weight[0, 0] = 1.0
    return net


@pytest.mark.slow  # ~2.5 min of tweezer episodes on 2 cores: beyond the CI suite's budget (pytest -m slow runs it)
def test_high_level_training_clones_the_heuristic_runs_dagger_and_sac(tmp_path):
    import json

    import torch

    from policies.affordance import PointNet
    from policies.tool_high_level import HighLevelConfig, load_affordance, train_high_level

    torch.save(_extent_measuring_pointnet(PointNet).state_dict(), tmp_path / "aff.pt")
    estimate = load_affordance(str(tmp_path / "aff.pt"))
    pts = np.random.default_rng(0).uniform(-0.008, 0.008, (100, 3))
    approach, contact, extent = estimate(pts - [0, pts[:, 1].mean(), 0])
    assert abs(extent - np.ptp(pts[:, 1])) < 1e-6 and 0.0 < contact < approach < 0.3
    # seed 1: the heuristic's one demo object is one the hand-set encoder measures well enough
    ckpt = train_high_level(compose("tool_high", HighLevelConfig, [
        f"out={tmp_path / 'high'}", "steps=30", "seed=1", "seed_episodes=1", "bc_steps=20", "dagger_rounds=1",
        "dagger_episodes=1", "dagger_bc_steps=10", "critic_steps=5", "select_episodes=1",
        f"affordance={tmp_path / 'aff.pt'}", "batch_size=16", "net_arch=[16,16]", "progress=false"]))
    assert ckpt.is_file() and (tmp_path / "high" / "bc_model.zip").is_file()
    log = json.loads((tmp_path / "high" / "train.json").read_text())
    assert log["heuristic_success"] == 1.0 and len(log["clone_success"]) == 1 and len(log["bc_error"]) == 2
    # every state the clone visited was labelled by the heuristic and went into the buffer
    assert log["labelled_states"] == log["heuristic_transitions"] + 40
    assert log["env_steps"] == log["heuristic_transitions"] + 40 + 30  # validation episodes stay out
    # model.zip: SAC's actor where it did better on the validation episodes, else the clone
    val = log["validation_success"]
    assert log["selected"] == ("clone" if val["sac"] <= val["clone"] else "sac")
    kept = {"clone": "bc_model.zip", "sac": "sac_model.zip"}[log["selected"]]
    assert ckpt.read_bytes() == (tmp_path / "high" / kept).read_bytes()
    demos = tmp_path / "high" / "demos.npz"
    stamp = demos.stat().st_mtime_ns
    (tmp_path / "high" / "model.zip").unlink()  # an interrupted run: the heuristic's episodes are kept
    train_high_level(compose("tool_high", HighLevelConfig, [
        f"out={tmp_path / 'high'}", "steps=10", "seed=1", "seed_episodes=1", "bc_steps=5", "dagger_rounds=0",
        "critic_steps=1", "clone_proposes=true", "residual_scale=0", f"affordance={tmp_path / 'aff.pt'}", "batch_size=16",
        "net_arch=[16,16]", "progress=false"]))
    assert demos.stat().st_mtime_ns == stamp and (tmp_path / "high" / "model.zip").is_file()
    from policies.policy_file import load_policy_file

    # clone_proposes: SAC's policy file carries the frozen clone, which proposes actions; the clone's file does not
    assert load_policy_file(tmp_path / "high" / "sac_model.zip", for_acting=True).policy.proposer is not None
    assert load_policy_file(tmp_path / "high" / "bc_model.zip", for_acting=True).policy.proposer is None
    # residual_scale: SAC's actor is a residual on the frozen clone, so its actions stay that close to the clone's
    (tmp_path / "high" / "model.zip").unlink()
    train_high_level(compose("tool_high", HighLevelConfig, [
        f"out={tmp_path / 'high'}", "steps=10", "seed=1", "seed_episodes=1", "bc_steps=5", "dagger_rounds=0",
        "critic_steps=1", "clone_proposes=false", "residual_scale=0.1", f"affordance={tmp_path / 'aff.pt'}",
        "batch_size=16", "net_arch=[16,16]", "progress=false"]))
    sac, clone = (load_policy_file(tmp_path / "high" / f, for_acting=True) for f in ("sac_model.zip", "bc_model.zip"))
    assert sac.policy.residual_base is not None and sac.policy.proposer is None
    with np.load(demos) as f:
        obs = f["obs"]
    gap = np.abs(sac.predict(obs, deterministic=True)[0] - clone.predict(obs, deterministic=True)[0])
    assert gap.max() <= 0.1 + 1e-6 and gap.max() > 0, gap.max()


def test_flat_baseline_drives_the_fingers_itself_and_its_heuristic_picks():
    from envs.tweezers.flat_pick_env import FlatPickHeuristic, FlatTweezerPickEnv

    env = FlatTweezerPickEnv(ObjectDistribution(("cylinder",), (0.014, 0.015)))
    obs, _ = env.reset(seed=1)
    assert env.action_space.shape == (9,) and obs.shape == env.observation_space.shape == (20,)
    np.testing.assert_allclose(obs[11:14], env.afford)  # the fingers must know how far to close
    np.testing.assert_allclose(obs[14:], env.data.qpos[env.hand.qpos_ids], atol=1e-6)
    before = env.data.ctrl[env.hand.act_ids].copy()
    env.step(np.array([0, 0, 0, 1, 1, 1, 1, 1, 1], dtype=np.float32))  # flex: targets rise, no low level
    np.testing.assert_allclose(env.data.ctrl[env.hand.act_ids],
                               np.minimum(before + 5 * 0.08, env.hand.hi), atol=1e-9)
    policy = FlatPickHeuristic(env, privileged=True)  # no encoder here: the true size
    obs, _ = env.reset(seed=1)
    for _ in range(env.max_steps):
        obs, reward, terminated, truncated, info = env.step(policy(obs))
        if info["is_success"] or terminated or truncated:
            break
    assert info["is_success"]
    env.close()


def test_pick_video_films_every_low_level_period(tmp_path):
    import cv2

    from policies.tool_video import VideoConfig, record_pick_videos

    rows = record_pick_videos(compose("tool_video", VideoConfig, [f"out={tmp_path}", "policy=privileged", "split=train",
                                                                  "episodes=1", "affordance=null", "size=64"]))
    assert rows[0]["success"] and rows[0]["video"].endswith("-success.mp4")
    cap = cv2.VideoCapture(rows[0]["video"])
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 5 * rows[0]["steps"]
    assert int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) == 2 * 64


def test_unknown_pick_policy_or_missing_model_is_refused(tmp_path):
    from policies.tool_pick_eval import load_pick_policy

    with pytest.raises(ValueError, match="unknown pick policy"):
        load_pick_policy("greedy")
    with pytest.raises(FileNotFoundError, match="tool-train-high"):
        load_pick_policy("flat", flat_dir=str(tmp_path))
    import gymnasium as gym
    from stable_baselines3 import SAC

    from policies.policy_file import save_policy_file

    class OldTask(gym.Env):  # a model of an earlier pick task: another observation size
        observation_space = gym.spaces.Box(-1, 1, (23,), np.float32)
        action_space = gym.spaces.Box(-1, 1, (4,), np.float32)

    save_policy_file(SAC("MlpPolicy", OldTask(), policy_kwargs={"net_arch": [8]}, device="cpu"), tmp_path / "model.zip")
    with pytest.raises(ValueError, match="23-d observation.*now gives 11.*retrain"):
        load_pick_policy("hierarchical", high_dir=str(tmp_path))

    class Task(OldTask):
        observation_space = gym.spaces.Box(-1, 1, (11,), np.float32)

    save_policy_file(SAC("MlpPolicy", Task(), policy_kwargs={"net_arch": [8]}, device="cpu"), tmp_path / "bc_model.zip")
    obs = np.zeros(11, np.float32)
    act = load_pick_policy("hierarchical_bc", high_dir=str(tmp_path))[1](None)
    assert np.array_equal(act(obs), act(obs))
    act = load_pick_policy("hierarchical_bc", high_dir=str(tmp_path), noise_std=0.5)[1](None)  # acting as in training
    assert not np.array_equal(act(obs), act(obs))
    with pytest.raises(ValueError, match="learned policies only"):
        load_pick_policy("heuristic", noise_std=0.1)


def test_object_distributions_draw_only_objects_the_tool_can_straddle():
    """A 2.6 cm box turned corner-on spans over 3.8 cm along the tips, past the open tool's reach:
    such objects are redrawn, and a range with nothing the tool spans is refused."""
    from envs.tweezers.pick_env import straddles

    rng = np.random.default_rng(0)
    wide = ObjectDistribution(("box",), (0.024, 0.026))
    spans = [wide.draw(rng)[0].extent_y() for _ in range(40)]
    assert max(spans) < 0.0325  # the reach less clearance (envs.tweezers.tool_geometry.openings_for)
    assert straddles(ObjectSpec("box", 0.025)) and not straddles(ObjectSpec("box", 0.025, 1.3, np.pi / 4))
    with pytest.raises(ValueError, match="straddle none"):
        ObjectDistribution(("box",), (0.04, 0.05)).draw(rng)


def test_two_uses_of_the_clone_are_refused_before_any_work(tmp_path):
    """The clone proposing (IBRL) and the residual on it are alternatives: asking for both, as
    `clone_proposes=true` over the residual default does, is refused when the settings are
    checked, before any episode runs; the old recipe (residual_scale=0) is accepted."""
    from configs.typed import ConfigError
    from policies.tool_high_level import HighLevelConfig

    with pytest.raises(ConfigError, match=r"^residual_scale=0.03: is another use of the clone than "
                                          r"clone_proposes=true: pass residual_scale=0 with it$"):
        compose("tool_high", HighLevelConfig, [f"out={tmp_path / 'high'}", "clone_proposes=true"])
    old = compose("tool_high", HighLevelConfig, [f"out={tmp_path / 'high'}", "clone_proposes=true", "residual_scale=0"])
    assert old.clone_proposes and old.residual_scale == 0
    assert not (tmp_path / "high").exists()

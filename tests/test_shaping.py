"""Policy invariance, shown: PBRS keeps the optimal policy, naive shaping changes it (the trap),
and an episode's shaped return telescopes, with termination and truncation handled apart."""
import numpy as np
import pytest
from stable_baselines3.common.vec_env import DummyVecEnv

from envs.rl_task import RLTask
from envs.scripted_expert import ScriptedExpert
from policies.oracle_progress import OracleProgress
from policies.shaping import InfoPotential, ShapedRewardVecEnv, naive_reward, pbrs_reward

GAMMA = 0.9


def detour_mdp(dip_length: int = 10):
    """start -> plateau P (Phi 0.9, "good enough"); from P either stay, or walk through a long
    dip (Phi 0.1: e.g. release and re-grasp) to the goal G (terminal, task reward 1)."""
    P, dips, G = 1, list(range(2, 2 + dip_length)), 2 + dip_length
    n = G + 1
    phi = np.zeros(n)
    phi[P], phi[dips], phi[G] = 0.9, 0.1, 1.0
    nxt = np.zeros((n, 2), dtype=int)  # action 0 = stay, 1 = go on
    nxt[0] = [0, P]
    nxt[P] = [P, dips[0]]
    for a, b in zip(dips, dips[1:] + [G]):
        nxt[a] = [a, b]
    nxt[G] = [G, G]
    terminal = np.zeros(n, dtype=bool)
    terminal[G] = True
    r_task = np.zeros((n, 2))
    for s in range(n):
        for a in range(2):
            r_task[s, a] = float(nxt[s, a] == G and s != G)
    return nxt, terminal, r_task, phi, P


def value_iteration(nxt, terminal, reward, gamma=GAMMA, iters=2000):
    q = np.zeros(nxt.shape)
    for _ in range(iters):
        v = q.max(1)
        v_next = np.where(terminal[nxt], 0.0, v[nxt])
        q = reward + gamma * v_next
        q[terminal] = 0.0
    return q


def shaped(kind, nxt, terminal, r_task, phi):
    reward = np.zeros_like(r_task)
    for s in range(len(phi)):
        for a in range(2):
            s2 = nxt[s, a]
            if kind == "pbrs":
                reward[s, a] = pbrs_reward(r_task[s, a], phi[s], phi[s2], terminal[s2], GAMMA)
            else:
                reward[s, a] = naive_reward(r_task[s, a], phi[s], phi[s2])
    return reward


def test_naive_shaping_traps_and_pbrs_does_not():
    nxt, terminal, r_task, phi, P = detour_mdp()
    q_task = value_iteration(nxt, terminal, r_task)
    q_pbrs = value_iteration(nxt, terminal, shaped("pbrs", nxt, terminal, r_task, phi))
    q_naive = value_iteration(nxt, terminal, shaped("naive", nxt, terminal, r_task, phi))
    live = ~terminal
    assert q_task[P].argmax() == 1, "with the task reward alone, finishing is optimal"
    np.testing.assert_array_equal(q_pbrs[live].argmax(1), q_task[live].argmax(1))
    # Ng et al. 1999: Q_pbrs(s, a) = Q(s, a) - Phi(s), exactly
    np.testing.assert_allclose(q_pbrs[live], q_task[live] - phi[live, None], atol=1e-9)
    assert q_naive[P].argmax() == 0, "naive shaping: staying on the plateau beats finishing (the trap)"


def run_episode(venv, policy, steps):
    obs = venv.reset()
    phi0 = float(venv.phi[0])
    rewards, infos = [], []
    for _ in range(steps):
        obs, r, done, info = venv.step(np.array([policy(obs[0])]))
        rewards.append(float(r[0]))
        infos.append(info[0])
        if done[0]:
            break
    return phi0, np.array(rewards), infos


@pytest.mark.parametrize("ending", ["terminated", "truncated"])
def test_shaped_return_telescopes(ending):
    max_steps = 150 if ending == "terminated" else 25
    venv = DummyVecEnv([lambda: OracleProgress(RLTask("reach-v3", max_steps=max_steps), "reach-v3")])
    shaped_env = ShapedRewardVecEnv(venv, "oracle_pbrs", GAMMA, InfoPotential("oracle"))
    shaped_env.seed(3)
    expert = ScriptedExpert("reach-v3")
    phi0, rewards, infos = run_episode(shaped_env, lambda state: expert.act(state)[0], max_steps)
    T = len(rewards)
    last = infos[-1]
    truncated = last.get("TimeLimit.truncated", False)
    assert truncated == (ending == "truncated") and (last["is_success"] == (ending == "terminated"))
    r_task = np.array([float(i["is_success"]) for i in infos])
    assert all(i["oracle_progress"] == 1.0 for i in infos if i["is_success"]), "ground truth: success is progress 1"
    disc = GAMMA ** np.arange(T)
    phi_T = last["phi"]
    tail = 0.0 if ending == "terminated" else GAMMA**T * phi_T  # truncation: Phi(s_T) is NOT zeroed
    assert ending == "terminated" or phi_T > 0.05, "the check needs a non-zero final potential"
    np.testing.assert_allclose((disc * rewards).sum(), (disc * r_task).sum() + tail - phi0, atol=1e-5)


def test_bad_mode_and_gamma_are_refused():
    venv = DummyVecEnv([lambda: RLTask("reach-v3", max_steps=5)])
    with pytest.raises(ValueError, match="unknown reward mode"):
        ShapedRewardVecEnv(venv, "dense", GAMMA)
    with pytest.raises(ValueError, match="needs the grm potential, got None"):
        ShapedRewardVecEnv(venv, "grm_pbrs", GAMMA)
    with pytest.raises(ValueError, match="oracle_pbrs needs the oracle potential"):  # ground truth, not the GRM's
        ShapedRewardVecEnv(venv, "oracle_pbrs", GAMMA, InfoPotential("grm"))
    with pytest.raises(ValueError, match="source must be grm or oracle, got 'env'"):
        InfoPotential("env")
    with pytest.raises(ValueError, match="gamma"):
        ShapedRewardVecEnv(venv, "sparse", 1.5)


def test_training_and_the_robot_call_success_alike():
    """grm-rl's task_reward=grm and the ROS monitor share the detector and its settings."""
    from grm.success import SUCCESS_DELTA, SUCCESS_HOLD
    from hardware.grm_monitor_node import PARAMS
    from policies.rl_run import compose_rl

    cfg = compose_rl()
    assert (cfg.success_delta, cfg.success_hold) == (SUCCESS_DELTA, SUCCESS_HOLD)
    assert (PARAMS["success_delta"], PARAMS["success_hold"]) == (SUCCESS_DELTA, SUCCESS_HOLD)


def test_grm_success_needs_phi_above_one_minus_delta_for_hold_steps():
    from grm.success import SuccessDetector

    det = SuccessDetector(2, delta=0.05, hold=3)
    seq = [[0.96, 0.99], [0.97, 0.90], [0.98, 0.99], [0.94, 0.99]]
    out = [det.update(np.array(p)).tolist() for p in seq]
    assert out == [[False, False], [False, False], [True, False], [False, False]]
    det.reset(np.array([1]))
    with pytest.raises(ValueError):
        SuccessDetector(1, delta=0.0)


@pytest.mark.parametrize("hold", [1, 3])
def test_grm_task_reward_pays_exactly_when_phi_holds_above_one_minus_delta(tiny_dataset, hold):
    """task_reward=grm (no success sensor): r_task = 1 once Phi(s') >= 1 - delta for `hold`
    consecutive steps (the ROS monitor's detector), the rest is PBRS."""
    import torch

    from grm.dataset import list_episodes
    from grm.inference import RewardModel
    from grm.model import GRM, GRMConfig
    from policies.shaping import GRMPotential

    torch.manual_seed(0)
    cams = ["corner", "gripperPOV"]
    rm = RewardModel(GRM(GRMConfig(num_views=2, image_size=32, width=8, embed_dim=32)), cams)
    rm.set_reference_from_episode(next(p for p in list_episodes(tiny_dataset, ["reach-v3"]) if "expert" in p.name))
    def rollout(delta):
        venv = DummyVecEnv([lambda: RLTask("reach-v3", cams, 32, 30, terminate_on_success=False)])
        # the mean fusion: an untrained GRM's median of the three perspectives sits at 0 for the whole episode
        potential = GRMPotential(rm, 1, fusion="mean")
        env = ShapedRewardVecEnv(venv, "grm_pbrs", 0.99, potential, task_reward="grm", success_delta=delta,
                                 success_hold=hold)
        env.seed(0)
        env.reset()
        phi, out = float(env.phi[0]), []
        for _ in range(25):
            _, reward, _, info = env.step(np.array([[0.3, 0.2, -0.1, 0.0]]))
            out.append((phi, info[0]["phi"], float(reward[0])))
            phi = info[0]["phi"]
        return out, venv

    first, venv = rollout(0.05)
    delta = 1 - float(np.median([p for _, p, _ in first]))  # an untrained GRM: a bar that splits the episode
    paid, above = [], 0
    for phi, phi_next, reward in rollout(delta)[0]:
        above = above + 1 if phi_next >= 1 - delta else 0
        r_task = reward - (0.99 * phi_next - phi)
        assert r_task == pytest.approx(float(above >= hold), abs=1e-5)
        paid.append(r_task > 0.5)
    assert any(paid) and not all(paid), "the test should see both outcomes"
    with pytest.raises(ValueError, match="GRM potential"):
        ShapedRewardVecEnv(venv, "env_dense", 0.99, task_reward="grm")


def test_grm_scored_in_the_worker_matches_the_learner_side_potential(tiny_dataset):
    """grm-rl scores our GRM inside each env (`GRMProgress`, in the SubprocVecEnv's worker) and
    reads it from the info: the same rewards as one batched GRMPotential in the learner, and no
    frames cross the pipe."""
    import torch
    from stable_baselines3.common.vec_env import SubprocVecEnv

    from grm.dataset import list_episodes
    from grm.inference import RewardModel
    from grm.model import GRM, GRMConfig
    from policies.grm_progress import GRMProgress
    from policies.shaping import GRMPotential

    torch.manual_seed(0)
    cams = ["corner", "gripperPOV"]
    rm = RewardModel(GRM(GRMConfig(num_views=2, image_size=32, width=8, embed_dim=32)), cams)
    rm.set_reference_from_episode(next(p for p in list_episodes(tiny_dataset, ["reach-v3"]) if "expert" in p.name))
    actions = np.random.default_rng(0).uniform(-1, 1, (12, 1, 4)).astype(np.float32)

    def rewards(venv, potential):
        env = ShapedRewardVecEnv(venv, "grm_pbrs", GAMMA, potential)
        env.seed(3)
        env.reset()
        steps = [env.step(a) for a in actions]
        env.close()
        return np.array([s[1][0] for s in steps]), [s[3][0] for s in steps]

    task = lambda: RLTask("reach-v3", cams, 32, max_steps=8)  # noqa: E731 (one episode end inside the 12 steps)
    learner_side, _ = rewards(DummyVecEnv([task]), GRMPotential(rm, 1, fusion="mean"))
    in_worker, infos = rewards(SubprocVecEnv([lambda: GRMProgress(task(), rm, fusion="mean")], start_method="spawn"),
                               InfoPotential("grm"))
    assert np.abs(learner_side).max() > 1e-4, "an untrained GRM that never moves would make this check empty"
    np.testing.assert_allclose(in_worker, learner_side, atol=1e-5)
    assert all("pixels" not in i and "grm_progress" in i for i in infos)

"""Demo-regularized SAC: the clone fits the demos, the critic fit holds the actor, the Q filter
decides where BC applies; the fixed normalizer standardizes with its saved statistics."""
import gymnasium as gym
import numpy as np
import pytest
import torch

from policies.demo_regularized_sac import DemoRegularizedSAC
from policies.fixed_normalizer import FixedNormalizer, normalizer_kwargs
from policies.replay_seeding import add_transitions


class LineEnv(gym.Env):
    """x in [-1, 1]; the demonstrator's action is -x (move to the origin)."""
    observation_space = gym.spaces.Box(-1, 1, (1,), np.float32)
    action_space = gym.spaces.Box(-1, 1, (1,), np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.x = self.np_random.uniform(-1, 1, 1).astype(np.float32)
        return self.x, {}

    def step(self, a):
        self.x = np.clip(self.x + 0.5 * np.asarray(a, np.float32), -1, 1)
        return self.x, float(-abs(self.x[0])), False, False, {}


def _demo(n=200, scale=100.0):
    x = np.random.default_rng(0).uniform(-1, 1, (n, 1)).astype(np.float32)
    return {"obs": x * scale, "actions": -x, "next_obs": 0.5 * x * scale, "rewards": -np.abs(x[:, 0]),
            "dones": np.zeros(n, np.float32)}


def _model(demo, **kw):
    env = LineEnv()
    env.observation_space = gym.spaces.Box(-1000, 1000, (1,), np.float32)
    return DemoRegularizedSAC("MlpPolicy", env, demo=demo, learning_starts=0, batch_size=32, seed=0, device="cpu",
                              policy_kwargs={"net_arch": [32, 32], **normalizer_kwargs(demo["obs"])}, **kw)


def test_clone_fits_demos_given_in_large_units_whatever_the_online_bc_weight():
    demo = _demo()
    model = _model(demo, bc_weight=0.0)  # no BC term online; the clone still fits
    before = model.clone(0)
    after = model.clone(1500)
    assert after < 0.01 < before
    with torch.no_grad():
        pred = model.actor(torch.tensor([[50.0]]), deterministic=True)
    assert abs(float(pred) + 0.5) < 0.1


def test_fit_critic_changes_the_critic_not_the_actor_and_sets_exploration():
    demo = _demo()
    model = _model(demo)
    add_transitions(model.replay_buffer, demo)
    from stable_baselines3.common.logger import configure

    model.set_logger(configure(None, []))
    model.set_exploration_std(0.1)
    actor = [p.clone() for p in model.actor.parameters()]
    critic = [p.clone() for p in model.critic.parameters()]
    model.fit_critic(20, 32)
    assert all(torch.equal(a, b) for a, b in zip(actor, model.actor.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(critic, model.critic.parameters()))
    _, log_std, _ = model.actor.get_action_dist_params(torch.tensor([[10.0], [-70.0]]))
    np.testing.assert_allclose(log_std.exp().detach().numpy(), 0.1, rtol=1e-5)


def test_q_filter_drops_bc_where_the_critic_prefers_the_actor(monkeypatch):
    model = _model(_demo())

    class PrefersMinusOne:  # Q(s, a) = -(a + 2)^2 for both critics: a = -1 is the best action in range
        @staticmethod
        def q_values(obs, act):
            return (-((act + 2.0) ** 2)).T.expand(2, -1)

    monkeypatch.setattr(model, "critic", PrefersMinusOne())
    with torch.no_grad():
        pi = model.actor(model.demo_obs, deterministic=True)
    demo_better = (model.demo_actions - (-2.0)).abs() < (pi - (-2.0)).abs()
    model.bc_batch_size = len(model.demo_actions)
    monkeypatch.setattr(torch, "randint", lambda lo, hi, size, device=None: torch.arange(hi))
    err, scale = model._demo_bc(q_filter=True)
    expected = float((((pi - model.demo_actions) ** 2).sum(-1) * demo_better[:, 0].float()).mean())
    assert float(err) == pytest.approx(expected, rel=1e-4)
    assert float(scale) == pytest.approx(float(((pi + 2.0) ** 2).mean()), rel=1e-4)  # mean |Q| of the actor's actions
    plain = float(((pi - model.demo_actions) ** 2).sum(-1).mean())  # unfiltered: BC on every labelled state
    assert float(model._demo_bc(q_filter=False)[0]) == pytest.approx(plain, rel=1e-4) and plain > expected


def test_normalizer_standardizes_and_refuses_mismatched_statistics():
    space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)
    norm = FixedNormalizer(space, mean=[1.0, -2.0], std=[0.5, 4.0])
    np.testing.assert_allclose(norm(torch.tensor([[2.0, 2.0]])).numpy(), [[2.0, 1.0]])
    kw = normalizer_kwargs(np.array([[0.0, 5.0], [2.0, 5.0]]))
    assert kw["features_extractor_kwargs"]["std"] == [1.0, 1e-3]  # a constant input is not divided by 0
    with pytest.raises(ValueError, match="observation has 2"):
        FixedNormalizer(space, mean=[0.0], std=[1.0])


def test_held_exploration_std_stays_while_the_actor_learns():
    """hold: SAC updates move the actor's mean, not its std; unheld, the same updates move the std."""
    from stable_baselines3.common.logger import configure

    stds = []
    for hold in (True, False):
        demo = _demo()
        model = _model(demo)
        add_transitions(model.replay_buffer, demo)
        model.set_logger(configure(None, []))
        model.set_exploration_std(0.05, hold=hold)
        mean_before = model.actor(torch.tensor([[10.0]]), deterministic=True).detach().clone()
        model.update(30, 32)
        mean, log_std, _ = model.actor.get_action_dist_params(torch.tensor([[10.0], [-70.0]]))
        assert not torch.equal(mean_before, model.actor(torch.tensor([[10.0]]), deterministic=True))
        stds.append(log_std.exp().detach().numpy())
    np.testing.assert_allclose(stds[0], 0.05, rtol=1e-5)
    assert np.abs(stds[1] - 0.05).max() > 1e-4


def test_bc_term_in_the_actor_loss_holds_the_actor_at_the_demos():
    """The same SAC updates from the same clone drift further from the demos without the BC term."""
    from stable_baselines3.common.logger import configure

    errors = {}
    for weight in (0.0, 10.0):
        demo = _demo()
        model = _model(demo, bc_weight=weight, q_filter=False)
        add_transitions(model.replay_buffer, demo)
        model.set_logger(configure(None, []))
        model.clone(300)
        model.update(150, 32)
        errors[weight] = model.clone(0)
    assert errors[10.0] < 0.5 * errors[0.0]

"""The fused SAC learner: same maths as SB3's SAC, learns, saves files the policy node loads,
and gives the same result whether the env steps in this process or in a worker."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

from policies.demo_buffer import DemoMixReplayBuffer
from policies.fused_sac import EnsembleSACPolicy, FusedSAC
from policies.policy_file import load_policy_file, save_policy_file


class TrackTarget(gym.Env):
    """One-step task: the best action is the first observation coordinate (reward -(a - x)^2)."""
    observation_space = gym.spaces.Box(-1, 1, (2,), np.float32)
    action_space = gym.spaces.Box(-1, 1, (1,), np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.obs = self.np_random.uniform(-0.8, 0.8, 2).astype(np.float32)
        return self.obs, {}

    def step(self, action):
        return self.obs, -float((action[0] - self.obs[0]) ** 2), True, False, {}


def make(venv, **kwargs) -> FusedSAC:
    defaults = dict(learning_starts=64, batch_size=64, gradient_steps=2, seed=3, device="cpu", bf16=False,
                    policy_kwargs={"net_arch": [32, 32], "optimizer_kwargs": {"fused": True}})
    return FusedSAC(EnsembleSACPolicy, venv, **{**defaults, **kwargs})


def tracking_error(model: FusedSAC) -> float:
    xs = np.linspace(-0.7, 0.7, 15, dtype=np.float32)
    obs = np.stack([xs, np.zeros_like(xs)], 1)
    actions, _ = model.predict(obs, deterministic=True)
    return float(np.abs(actions[:, 0] - xs).mean())


def test_ensemble_critic_is_n_independent_networks():
    model = make(DummyVecEnv([TrackTarget]), policy_kwargs={"net_arch": [16], "n_critics": 3})
    critic = model.critic
    obs, act = torch.randn(5, 2), torch.rand(5, 1)
    q = critic.q_values(obs, act)
    assert q.shape == (3, 5)
    x = torch.cat([obs, act], 1)
    for k in range(3):  # member k by hand: linear -> LayerNorm(affine k) -> ReLU -> linear
        layer, norm = critic.hidden[0], critic.norms[0]
        h = x @ layer.weight[k] + layer.bias[k]
        h = torch.relu(torch.nn.functional.layer_norm(h, (16,)) * norm.weight[k] + norm.bias[k])
        torch.testing.assert_close(q[k], (h @ critic.head.weight[k] + critic.head.bias[k]).squeeze(-1))
    assert len(critic(obs, act)) == 3  # SB3's critic interface


def test_sampled_log_probabilities_are_sb3s():
    model = make(DummyVecEnv([TrackTarget]))
    obs = torch.randn(64, 2)
    torch.manual_seed(0)
    actions, log_prob, _ = model._sample_actions(obs)
    mean, log_std, _ = model.actor.get_action_dist_params(obs)
    dist = model.actor.action_dist.proba_distribution(mean, log_std)
    torch.testing.assert_close(log_prob, dist.log_prob(actions), rtol=1e-4, atol=1e-4)


def test_learns_and_bf16_agrees_with_float32():
    errors = {}
    for bf16 in (False, True):
        model = make(DummyVecEnv([TrackTarget]), bf16=bf16)
        before = tracking_error(model)
        model.learn(600)
        errors[bf16] = tracking_error(model)
        assert errors[bf16] < 0.12 < before, (bf16, before, errors[bf16])
    assert model._n_updates == 2 * (600 - 64)  # every queued update ran before learn returned


def test_worker_process_env_gives_the_same_learner():
    """Updates run while the env steps; the data each update sees does not depend on where it steps."""
    params = []
    for venv in (DummyVecEnv([TrackTarget]), SubprocVecEnv([TrackTarget], start_method="spawn")):
        venv.seed(5)
        model = make(venv)
        model.learn(200)
        params.append(torch.nn.utils.parameters_to_vector(model.policy.parameters()))
        venv.close()
    torch.testing.assert_close(params[0], params[1], rtol=0, atol=0)


def test_compiled_update_learns(tmp_path):
    model = make(DummyVecEnv([TrackTarget]), compile=True, bf16=True)
    model.learn(500)
    assert tracking_error(model) < 0.15


def test_policy_file_loads_for_acting(tmp_path):
    model = make(DummyVecEnv([TrackTarget]))
    model.learn(100)
    path = save_policy_file(model, tmp_path / "model.zip")
    loaded = load_policy_file(path, for_acting=True)
    obs = np.random.default_rng(0).uniform(-1, 1, (8, 2)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], model.predict(obs, deterministic=True)[0])
    resumed = load_policy_file(path, env=DummyVecEnv([TrackTarget]), algo=FusedSAC)
    assert isinstance(resumed, FusedSAC) and isinstance(resumed.policy, EnsembleSACPolicy)


def test_gsde_is_refused():
    with pytest.raises(NotImplementedError, match="gSDE"):
        model = make(DummyVecEnv([TrackTarget]), use_sde=True)
        model.learn(100)


def test_bf16_gradients_point_where_float32_ones_do():
    """bf16 hidden layers change the update's numbers a little, not its direction."""
    model = make(DummyVecEnv([TrackTarget]), policy_kwargs={"net_arch": [256, 256]}, gradient_steps=1)
    model.learn(300)
    data = model.replay_buffer.sample(256)
    grads = []
    for bf16 in (False, True):
        model.bf16 = bf16
        torch.manual_seed(0)  # the same sampled actions
        model.policy.zero_grad(set_to_none=True)
        loss = model._losses(data.observations, data.actions, data.next_observations, data.rewards.squeeze(-1),
                             data.dones.squeeze(-1), torch.full((256,), model.gamma), model.log_ent_coef.exp(),
                             torch.zeros(256), torch.tensor(0.0))[0]
        loss.backward()
        grads.append([torch.cat([p.grad.flatten() for p in net.parameters()]) for net in (model.critic, model.actor)])
    for g32, g16 in zip(*grads):
        assert torch.nn.functional.cosine_similarity(g32, g16, 0) > 0.98


def expert_demo(n: int = 200) -> dict[str, np.ndarray]:
    """TrackTarget's optimal transitions: a = x, reward 0, each a one-step episode."""
    obs = np.random.default_rng(1).uniform(-0.8, 0.8, (n, 2)).astype(np.float32)
    return {"obs": obs, "next_obs": obs, "actions": obs[:, :1].copy(), "rewards": np.zeros(n, np.float32),
            "dones": np.ones(n, np.float32)}


def test_delayed_policy_updates_step_the_actor_and_temperature_on_every_nth_update_only():
    """`policy_delay=3` (TD3's): the critic steps on every update, the actor and the entropy
    temperature on every third, counted over the run's updates."""
    model = make(DummyVecEnv([TrackTarget]), policy_delay=3)
    model.learn(70)  # updates from step 64 on
    seen = []
    for _ in range(6):
        n = model._n_updates
        actor = [p.detach().clone() for p in model.actor.parameters()]
        critic = [p.detach().clone() for p in model.critic.parameters()]
        temperature = model.log_ent_coef.detach().clone()
        model.update(1, 64)
        moved = lambda before, now: any(not torch.equal(a, b) for a, b in zip(before, now))  # noqa: E731
        assert moved(critic, model.critic.parameters())
        seen.append((n % 3 == 0, moved(actor, model.actor.parameters()),
                     not torch.equal(temperature, model.log_ent_coef.detach())))
    assert [actor for _, actor, _ in seen] == [due for due, _, _ in seen] == [t for _, _, t in seen]
    assert sum(due for due, _, _ in seen) == 2


def test_demo_pretraining_warm_starts_the_actor_and_bc_anneals_online():
    """Before any env step, pretraining on the demo alone gives an actor that acts like the
    demonstrator; online, the BC weight decays over `bc_anneal_updates` to `bc_final_weight`."""
    demo = expert_demo()
    model = make(DummyVecEnv([TrackTarget]), replay_buffer_class=DemoMixReplayBuffer, learning_starts=8,
                 replay_buffer_kwargs={"demo": demo, "demo_ratio": 0.5}, bc_weight=2.5, bc_anneal_updates=40)
    assert model.replay_buffer.demo_rows(64) == 32
    mask = model._bc_mask(64, demo_only=False)
    assert mask[:32].sum() == 0 and mask[32:].sum() == 32  # the demo rows are the batch's last
    before = tracking_error(model)
    model.pretrain(300)
    assert model.num_timesteps == 0 and model._online_updates == 0
    assert tracking_error(model) < 0.15 < 0.3 < before, (before, tracking_error(model))  # without BC: 0.34
    assert model.current_bc_weight() == 2.5
    model.learn(40)  # 2 updates per step after 8 steps: 64 online updates
    assert model._online_updates == 64 and model.current_bc_weight() == 0.0
    model.bc_final_weight = 0.5  # a floor: linear from bc_weight to it, then kept
    assert model.current_bc_weight() == 0.5
    model._online_updates = 20
    assert model.current_bc_weight() == pytest.approx(1.5)
    with pytest.raises(TypeError, match="DemoMixReplayBuffer"):
        make(DummyVecEnv([TrackTarget])).pretrain(1)


def test_the_clone_proposes_and_the_critic_picks_for_acting_targets_and_the_policy_file(tmp_path):
    """With `clone_proposes`, pretraining freezes the warm-started actor as the clone; from then on
    every action (training, evaluation, a loaded policy file) is the better of actor's and clone's
    by the critic, so a spoiled actor does not spoil the policy; the targets use the same choice."""
    model = make(DummyVecEnv([TrackTarget]), replay_buffer_class=DemoMixReplayBuffer, learning_starts=8,
                 replay_buffer_kwargs={"demo": expert_demo(), "demo_ratio": 0.5}, bc_weight=2.5,
                 policy_kwargs={"net_arch": [32, 32], "optimizer_kwargs": {"fused": True}, "clone_proposes": True})
    policy = model.policy
    assert policy.proposer is None  # nothing to propose before pretraining
    model.pretrain(300)
    assert policy.proposer is policy.clone and not any(p.requires_grad for p in policy.clone.parameters())
    torch.testing.assert_close(torch.nn.utils.parameters_to_vector(policy.clone.parameters()),
                               torch.nn.utils.parameters_to_vector(model.actor.parameters()))
    model.learn(300)  # the critic learns -(a - x)^2 around both proposals
    clone_weights = torch.nn.utils.parameters_to_vector(policy.clone.parameters()).clone()
    with torch.no_grad():  # spoil the actor: it now commands the far end of the range everywhere
        model.actor.mu.weight.zero_()
        model.actor.mu.bias.fill_(3.0)
    obs = torch.as_tensor(np.stack([np.linspace(-0.7, 0.7, 15), np.zeros(15)], 1), dtype=torch.float32)
    with torch.no_grad():
        spoiled = model.actor(obs, deterministic=True)
        chosen = policy._predict(obs, deterministic=True)
        clone = policy.clone(obs, deterministic=True)
    assert (spoiled > 0.99).all()
    torch.testing.assert_close(chosen, clone)  # the critic prefers the clone's action on every row
    assert tracking_error(model) < 0.15
    path = save_policy_file(model, tmp_path / "model.zip")
    loaded = load_policy_file(path, for_acting=True)
    assert loaded.policy.proposer is not None
    np.testing.assert_array_equal(loaded.predict(obs.numpy(), deterministic=True)[0],
                                  model.predict(obs.numpy(), deterministic=True)[0])
    data = model.replay_buffer.sample(64)  # the bootstrap sees the choice: targets differ with it off
    args = (data.observations, data.actions, data.next_observations, data.rewards.squeeze(-1),
            torch.zeros(64), torch.full((64,), model.gamma), model.log_ent_coef.exp().detach(), torch.zeros(64),
            torch.tensor(0.0))
    critic_losses = []
    for propose in (False, True):
        torch.manual_seed(0)
        critic_losses.append(float(model._losses(*args, propose)[1]))
    assert critic_losses[0] != critic_losses[1]
    model.learn(20)
    torch.testing.assert_close(torch.nn.utils.parameters_to_vector(policy.clone.parameters()), clone_weights)


def test_a_residual_policy_stays_within_its_scale_of_the_frozen_clone(tmp_path):
    """With `residual_scale`, pretraining freezes the warm-started actor as the clone and zeroes
    the actor's mean head: the policy acts exactly as the clone did; however wrong the actor gets,
    the action stays within `residual_scale` of the clone's, when acting, in the losses and in a
    loaded policy file; online learning keeps the clone frozen and the task solved."""
    model = make(DummyVecEnv([TrackTarget]), replay_buffer_class=DemoMixReplayBuffer, learning_starts=8,
                 replay_buffer_kwargs={"demo": expert_demo(), "demo_ratio": 0.5}, bc_weight=2.5,
                 policy_kwargs={"net_arch": [32, 32], "optimizer_kwargs": {"fused": True}, "residual_scale": 0.2})
    policy = model.policy
    obs = torch.as_tensor(np.stack([np.linspace(-0.7, 0.7, 15), np.zeros(15)], 1), dtype=torch.float32)
    assert policy.residual_base is None and policy.proposer is None
    model.pretrain(300)
    assert policy.residual_base is policy.clone and policy.proposer is None
    with torch.no_grad():
        warm = policy.clone(obs, deterministic=True)
        torch.testing.assert_close(policy._predict(obs, deterministic=True), warm)  # zero residual: the clone
    assert tracking_error(model) < 0.15
    model.learn(300)
    with torch.no_grad():
        torch.testing.assert_close(policy.clone(obs, deterministic=True), warm)  # the clone never trains
        assert tracking_error(model) < 0.15
        model.actor.mu.weight.zero_()  # spoil the actor: the far end of its range everywhere
        model.actor.mu.bias.fill_(3.0)
        spoiled = policy._predict(obs, deterministic=True)
        sampled = model._sample_actions(obs, residual=torch.tensor(0.2))
    assert ((spoiled - warm).abs() <= 0.2 + 1e-6).all() and ((spoiled - warm) > 0.15).any()
    for actions in sampled[0], sampled[2]:  # what the losses see: sampled and deterministic
        assert ((actions - warm).abs() <= 0.2 + 1e-6).all()
    path = save_policy_file(model, tmp_path / "model.zip")
    loaded = load_policy_file(path, for_acting=True)
    assert loaded.policy.residual_base is not None and loaded.policy.residual_scale == 0.2
    np.testing.assert_allclose(loaded.predict(obs.numpy(), deterministic=True)[0], spoiled.numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="choose one"):
        EnsembleSACPolicy(TrackTarget.observation_space, TrackTarget.action_space, lambda _: 1e-3,
                          clone_proposes=True, residual_scale=0.1)
    with pytest.raises(ValueError, match=r"residual_scale must be in \[0, 2\] \(a share of the action range\), got 3"):
        EnsembleSACPolicy(TrackTarget.observation_space, TrackTarget.action_space, lambda _: 1e-3, residual_scale=3)


def test_a_released_residual_bound_grows_linearly_to_its_final_scale_and_the_policy_file_keeps_it(tmp_path):
    """`residual_final_scale`: the bound stays `residual_scale` for `residual_hold_updates` online
    updates, grows linearly to the final scale over `residual_release_updates`, then stays; acting
    and the saved policy use the bound of the latest update, so a spoiled actor reaches that far
    from the clone."""
    model = make(DummyVecEnv([TrackTarget]), replay_buffer_class=DemoMixReplayBuffer, learning_starts=8,
                 replay_buffer_kwargs={"demo": expert_demo(), "demo_ratio": 0.5}, bc_weight=2.5,
                 residual_final_scale=1.0, residual_hold_updates=6, residual_release_updates=20,
                 policy_kwargs={"net_arch": [32, 32], "optimizer_kwargs": {"fused": True}, "residual_scale": 0.2})
    policy, update, seen = model.policy, model.update, []

    def recording_update(*args, **kwargs):
        update(*args, **kwargs)
        seen.append(policy.residual_scale)
    model.pretrain(100)
    model.update = recording_update
    model.learn(30)  # 2 updates a step from step 8 on
    del model.update  # the class's again (a saved model pickles its attributes)
    expected = [0.2 + 0.8 * min(1.0, max(0, 2 * i - 6) / 20) for i in range(len(seen))]
    assert len(seen) >= 16 and seen[:4] == [0.2] * 4 and seen == pytest.approx(expected)
    assert seen[-1] == 1.0
    obs = torch.as_tensor(np.stack([np.linspace(-0.7, 0.7, 15), np.zeros(15)], 1), dtype=torch.float32)
    with torch.no_grad():
        warm = policy.clone(obs, deterministic=True)
        model.actor.mu.weight.zero_()
        model.actor.mu.bias.fill_(-3.0)  # the far end of the actor's range everywhere
        spoiled = policy._predict(obs, deterministic=True)
    assert ((warm - spoiled) <= 1.0 + 1e-6).all() and ((warm - spoiled) > 0.9).any()
    loaded = load_policy_file(save_policy_file(model, tmp_path / "model.zip"), for_acting=True)
    assert loaded.policy.residual_scale == 1.0
    np.testing.assert_allclose(loaded.predict(obs.numpy(), deterministic=True)[0], spoiled.numpy(), atol=1e-6)

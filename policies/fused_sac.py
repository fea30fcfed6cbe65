"""SAC whose update costs a fraction of Stable-Baselines3's on a CPU, and runs while the env steps.

Same algorithm and surfaces as SB3's SAC (it is a subclass: callbacks, VecEnvs, replay buffers,
policy files the ROS policy node loads), three changes in how an update is computed:

- the critic ensemble is one network whose layers are batched matmuls (`EnsembleCritic`), with
  LayerNorm after each hidden layer (RLPD), so 2 or 10 critics cost one set of kernel launches;
- one update is one forward and one backward for critic, actor and temperature together, with
  fused Adam and a foreach Polyak average, hidden layers in bfloat16 (`bf16`; output layers,
  losses and weights stay float32, so Q-values keep their precision);
- the updates of a step run between `step_async` and `step_wait` of the VecEnv: with a
  SubprocVecEnv the next step's physics and rendering use the other core meanwhile. The action
  of that step comes from the actor before those updates, so data order, and therefore results,
  are the same for DummyVecEnv and SubprocVecEnv.

The critic's gradient is taken before the actor's loss sees the updated critic (SB3 takes the
actor step after the critic step); both use the min over the ensemble, as SB3 does.

A warm start from demonstrations (with a `DemoMixReplayBuffer`): `pretrain` runs updates on demo
batches alone before the first env step, and the actor's loss adds behaviour cloning on the demo
rows of every batch, weighted relative to the size of the actor's SAC loss (mean |alpha log pi - Q|,
like TD3+BC's relative weight: one weight serves any reward scale, Q near 0 included), annealed
linearly over `bc_anneal_updates` online updates to `bc_final_weight`, which it keeps (0: RL
alone). The actor starts where the demonstrator acts, and RL is free to improve on it later. With a policy whose `clone_proposes`, `pretrain` also
freezes that warm-started actor as the clone, which then proposes actions for acting and for the
critic's bootstrap targets (IBRL): the clone's action is taken wherever the critic values it
higher. That trusts the critic; on the main job it did not stop the learner's swings (docs/rl.md).
With a policy whose `residual_scale` > 0 the actor becomes a bounded residual on that clone instead;
`residual_final_scale` releases the bound linearly over `residual_release_updates` online updates
after the first `residual_hold_updates`.
"""
from __future__ import annotations

import math
from contextlib import nullcontext

import torch
import torch.nn.functional as F
from stable_baselines3 import SAC
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.policies import BaseModel
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
from stable_baselines3.sac.policies import SACPolicy
from torch import nn

LOG_STD_MIN, LOG_STD_MAX = -20, 2  # SB3's Actor clamp


class EnsembleLinear(nn.Module):
    """`n` independent linear layers applied as one batched matmul: (n, B, in) -> (n, B, out)."""

    def __init__(self, n: int, in_features: int, out_features: int):
        super().__init__()
        bound = 1.0 / math.sqrt(in_features)  # nn.Linear's default initialisation, per member
        self.weight = nn.Parameter(torch.empty(n, in_features, out_features).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(n, 1, out_features).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor, detached: bool = False) -> torch.Tensor:
        w, b = (self.weight.detach(), self.bias.detach()) if detached else (self.weight, self.bias)
        return torch.baddbmm(b.to(x.dtype), x, w.to(x.dtype))


class EnsembleLayerNorm(nn.Module):
    """LayerNorm with a separate affine transform per ensemble member."""

    def __init__(self, n: int, width: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n, 1, width))
        self.bias = nn.Parameter(torch.zeros(n, 1, width))

    def forward(self, x: torch.Tensor, detached: bool = False) -> torch.Tensor:
        w, b = (self.weight.detach(), self.bias.detach()) if detached else (self.weight, self.bias)
        return torch.addcmul(b, F.layer_norm(x, x.shape[-1:]), w)


class EnsembleCritic(BaseModel):
    """n Q-networks as one: `q_values` gives all n at once (n, B); `forward` keeps SB3's
    critic interface (a tuple of n (B, 1) tensors) for code written against SB3's SAC."""

    def __init__(self, observation_space, action_space, net_arch, features_extractor, features_dim,
                 activation_fn=nn.ReLU, normalize_images=True, n_critics=2, share_features_extractor=True,
                 layer_norm: bool = True):
        super().__init__(observation_space, action_space, features_extractor=features_extractor,
                         normalize_images=normalize_images)
        self.share_features_extractor, self.n_critics = share_features_extractor, n_critics
        self.activation = activation_fn()
        last = features_dim + int(action_space.shape[0])
        self.hidden = nn.ModuleList()
        self.norms = nn.ModuleList()
        for width in net_arch:
            self.hidden.append(EnsembleLinear(n_critics, last, width))
            self.norms.append(EnsembleLayerNorm(n_critics, width) if layer_norm else nn.Identity())
            last = width
        self.head = EnsembleLinear(n_critics, last, 1)

    def q_values(self, obs: torch.Tensor, actions: torch.Tensor, detached: bool = False,
                 bf16: bool = False) -> torch.Tensor:
        """(n, B) Q-values; `detached`: gradients reach the actions only (the actor's loss)."""
        with torch.set_grad_enabled(torch.is_grad_enabled() and not (detached and self.share_features_extractor)):
            features = self.extract_features(obs, self.features_extractor)
        x = torch.cat([features, actions], dim=1)
        x = x.expand(self.n_critics, *x.shape)
        if bf16:
            x = x.to(torch.bfloat16)
        for layer, norm in zip(self.hidden, self.norms):
            h = layer(x, detached)
            h = norm(h.float(), detached) if isinstance(norm, EnsembleLayerNorm) else h
            x = self.activation(h).to(x.dtype)
        return self.head(x.float(), detached).squeeze(-1)

    def forward(self, obs: torch.Tensor, actions: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(q.unsqueeze(-1) for q in self.q_values(obs, actions))


class EnsembleSACPolicy(SACPolicy):
    """SB3's SAC policy (its actor unchanged) with an `EnsembleCritic`, and optionally a frozen
    `clone` of the demonstrator kept beside the actor, used in one of two ways:

    - `clone_proposes` (IBRL: Hu et al. 2023): both propose an action and the one the critic
      values higher is taken;
    - `residual_scale` > 0 (residual RL with a bounded residual, as Policy Decorator, Yuan et al.
      2024): the action is the clone's plus `residual_scale` x the actor's, clipped to the box,
      so RL can move the policy at most that far from the clone, however wrong its critic.

    Both are part of `_predict`, so training, evaluation and a policy node that loads the file act
    alike; before the clone is set (`FusedSAC.freeze_clone`) the actor acts alone."""

    def __init__(self, *args, critic_layer_norm: bool = True, clone_proposes: bool = False,
                 residual_scale: float = 0.0, **kwargs):
        if clone_proposes and residual_scale > 0:
            raise ValueError("clone_proposes and residual_scale are two uses of the clone: choose one")
        if not 0 <= residual_scale <= 2:
            raise ValueError(f"residual_scale must be in [0, 2] (a share of the action range), got {residual_scale}")
        self.critic_layer_norm, self.clone_proposes, self.residual_scale = \
            critic_layer_norm, clone_proposes, residual_scale
        super().__init__(*args, **kwargs)

    def _build(self, lr_schedule) -> None:
        super()._build(lr_schedule)
        self.clone = None
        if self.clone_proposes or self.residual_scale > 0:  # set by FusedSAC.freeze_clone (`clone_set`); never trains
            self.clone = self.make_actor(features_extractor=None).requires_grad_(False)
            self.register_buffer("clone_set", torch.zeros((), dtype=torch.bool))

    @property
    def proposer(self):
        """The clone once it holds the warm-started actor, where it proposes (None otherwise)."""
        return self.clone if self.clone_proposes and bool(self.clone_set) else None

    @property
    def residual_base(self):
        """The clone once set, where the actor is a residual on top of it (None otherwise)."""
        return self.clone if self.residual_scale > 0 and bool(self.clone_set) else None

    def on_clone(self, observation: torch.Tensor, residual: torch.Tensor,
                 scale: torch.Tensor | float | None = None) -> torch.Tensor:
        """The action of a residual policy: the clone's plus `scale` (default `residual_scale`) x the
        actor's, in [-1, 1]. The update passes the scale as a tensor, so a compiled loss does not
        recompile while `FusedSAC` releases the bound."""
        base = self.clone(observation, deterministic=True)
        return (base + (self.residual_scale if scale is None else scale) * residual).clamp(-1.0, 1.0)

    def _get_constructor_parameters(self) -> dict:
        return {**super()._get_constructor_parameters(), "critic_layer_norm": self.critic_layer_norm,
                "clone_proposes": self.clone_proposes, "residual_scale": self.residual_scale}

    def make_critic(self, features_extractor=None) -> EnsembleCritic:
        critic_kwargs = self._update_features_extractor(self.critic_kwargs, features_extractor)
        return EnsembleCritic(**critic_kwargs, layer_norm=self.critic_layer_norm).to(self.device)

    def _predict(self, observation: torch.Tensor, deterministic: bool = False) -> torch.Tensor:
        actions = self.actor(observation, deterministic)
        if self.residual_base is not None:
            return self.on_clone(observation, actions)
        clone = self.proposer
        return actions if clone is None else best_of(self.critic, observation, actions,
                                                      clone(observation, deterministic=True))[0]


def best_of(critic: EnsembleCritic, obs: torch.Tensor, first: torch.Tensor, second: torch.Tensor,
            bf16: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row, whichever of two proposed actions has the higher Q (the ensemble's minimum), and that Q."""
    q = critic.q_values(torch.cat([obs, obs]), torch.cat([first, second]), bf16=bf16).min(0).values
    q_first, q_second = q.chunk(2)
    second_wins = q_second > q_first
    return torch.where(second_wins.unsqueeze(-1), second, first), torch.where(second_wins, q_second, q_first)


def linear_schedule(start: float, end: float, updates: int, over: int, after: int = 0) -> float:
    """`start` for the first `after` updates, then linear to `end` over the next `over` (at once
    where `over` is 0), then `end`: the shape of every annealed or released setting here."""
    done = updates - after
    share = float(done >= 0) if over <= 0 else min(1.0, max(0.0, done / over))
    return start + (end - start) * share


class _TrainWhileStepping(VecEnvWrapper):
    """The VecEnv as SB3's rollout loop sees it: `step` sends the actions, runs the pending
    updates, then collects the results."""

    def __init__(self, venv: VecEnv, model: "FusedSAC"):
        super().__init__(venv)
        self._model = model

    def reset(self):
        return self.venv.reset()

    def step(self, actions):
        self.venv.step_async(actions)
        self._model.run_pending_updates()
        return self.venv.step_wait()

    def step_wait(self):
        return self.venv.step_wait()


class FusedSAC(SAC):
    policy_aliases = {"MlpPolicy": EnsembleSACPolicy}

    def __init__(self, policy, env, *args, bf16: bool = False, compile: bool = False, bc_weight: float = 0.0,
                 bc_anneal_updates: int = 0, bc_final_weight: float = 0.0, policy_delay: int = 1,
                 residual_final_scale: float | None = None, residual_hold_updates: int = 0,
                 residual_release_updates: int = 0, **kwargs):
        self.bf16, self.compile, self.policy_delay = bf16, compile, policy_delay
        self.bc_weight, self.bc_anneal_updates, self.bc_final_weight = bc_weight, bc_anneal_updates, bc_final_weight
        self.residual_final_scale, self.residual_hold_updates, self.residual_release_updates = \
            residual_final_scale, residual_hold_updates, residual_release_updates
        self._residual_start_scale = None  # the policy's residual_scale when the clone was frozen
        self._online_updates = 0
        self._pending_updates, self._stepping, self._compiled = 0, None, None
        super().__init__(policy, env, *args, **kwargs)

    def _setup_model(self) -> None:
        super()._setup_model()
        if not isinstance(self.policy, EnsembleSACPolicy):
            raise TypeError(f"FusedSAC needs an EnsembleSACPolicy, got {type(self.policy).__name__}")
        if self.ent_coef_optimizer is not None:
            self.ent_coef_optimizer = torch.optim.Adam([self.log_ent_coef], lr=self.lr_schedule(1), fused=True)

    def _excluded_save_params(self) -> list[str]:
        return super()._excluded_save_params() + ["_pending_updates", "_stepping", "_compiled"]

    # ------------------------------------------------------------ overlap with the env step
    def collect_rollouts(self, env, *args, **kwargs):
        if self._stepping is None or self._stepping.venv is not env:
            self._stepping = _TrainWhileStepping(env, self)
        return super().collect_rollouts(self._stepping, *args, **kwargs)

    def train(self, gradient_steps: int, batch_size: int = 64) -> None:
        """Queued: runs during the next env step (or when `learn` returns)."""
        self._pending_updates += gradient_steps

    def run_pending_updates(self) -> None:
        steps, self._pending_updates = self._pending_updates, 0
        if steps:
            self.update(steps, self.batch_size)

    def learn(self, *args, **kwargs):
        result = super().learn(*args, **kwargs)
        self.run_pending_updates()  # nothing queued is left behind when learn returns
        return result

    # ------------------------------------------------------------ the update
    def _sample_actions(self, obs: torch.Tensor, residual: torch.Tensor | None = None
                        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Tanh-squashed Gaussian actions, their log-probabilities (SB3's formula, in one pass) and
        the deterministic actions; `residual` (a scale): the actor's output as a residual of that
        scale on the frozen clone's (`EnsembleSACPolicy.on_clone`; the log-probability of the
        scaled density, its clip aside)."""
        actor = self.actor
        features = actor.extract_features(obs, actor.features_extractor)
        with torch.autocast("cpu", torch.bfloat16) if self.bf16 else nullcontext():
            latent = actor.latent_pi(features)
        latent = latent.float()
        mean = actor.mu(latent)
        log_std = actor.log_std(latent).clamp(LOG_STD_MIN, LOG_STD_MAX)
        noise = torch.randn_like(mean)
        actions = torch.tanh(mean + log_std.exp() * noise)
        log_prob = (-0.5 * noise.square() - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
        log_prob = log_prob - torch.log(1 - actions.square() + 1e-6).sum(-1)
        mean_actions = torch.tanh(mean)
        if residual is not None:
            policy = self.policy
            log_prob = log_prob - actions.shape[-1] * torch.log(residual)
            actions, mean_actions = policy.on_clone(obs, actions, residual), policy.on_clone(obs, mean_actions, residual)
        return actions, log_prob, mean_actions

    def _losses(self, obs, actions, next_obs, rewards, dones, discounts, ent_coef, bc_mask, bc_weight,
                propose: bool = False, residual: torch.Tensor | None = None):
        """Critic + actor loss of one batch (one backward pass serves both: the actor's loss sees
        the critic's weights detached), the actor's log-probabilities for the temperature, and
        behaviour cloning of the rows in `bc_mask` (weight relative to the actor's SAC loss).
        `propose`: the bootstrap takes the better of the actor's and the clone's action (IBRL);
        the entropy bonus stays the actor's, a property of the policy at s'. `residual` (a scale):
        the actor's output is a residual of that scale on the clone's action (`_sample_actions`)."""
        critic, target = self.critic, self.critic_target
        with torch.no_grad():
            next_actions, next_log_prob, _ = self._sample_actions(next_obs, residual)
            if propose:  # the better proposal's Q comes with the choice
                next_q = best_of(target, next_obs, next_actions, self.policy.clone(next_obs, deterministic=True),
                                 self.bf16)[1]
            else:
                next_q = target.q_values(next_obs, next_actions, bf16=self.bf16).min(0).values
            target_q = rewards + (1 - dones) * discounts * (next_q - ent_coef * next_log_prob)
        q = critic.q_values(obs, actions, bf16=self.bf16)
        critic_loss = 0.5 * (q - target_q).square().mean(1).sum()
        actions_pi, log_prob, mean_actions = self._sample_actions(obs, residual)
        q_pi = critic.q_values(obs, actions_pi, detached=True, bf16=self.bf16).min(0).values
        bc_loss = (bc_mask * (mean_actions - actions).square().sum(-1)).sum() / bc_mask.sum().clamp(min=1)
        rl_loss = ent_coef * log_prob - q_pi
        actor_loss = rl_loss.mean() + bc_weight * rl_loss.detach().abs().mean() * bc_loss
        return critic_loss + actor_loss, critic_loss.detach(), actor_loss.detach(), bc_loss.detach(), log_prob

    def _compiled_losses(self):
        if self._compiled is None:
            self._compiled = torch.compile(self._losses, fullgraph=True, dynamic=False)
        return self._compiled

    def pretrain(self, updates: int, batch_size: int | None = None) -> None:
        """`updates` SAC updates (with full-weight behaviour cloning) on demo transitions alone,
        before the first env step: the critic and a demo-like actor from the start."""
        if not hasattr(self.replay_buffer, "sample_demo"):
            raise TypeError("pretraining needs the demo in the replay buffer (a DemoMixReplayBuffer)")
        if not hasattr(self, "_logger"):  # before `learn` sets up its logger: these records go nowhere
            self._logger = Logger(None, [])
        self.update(updates, batch_size or self.batch_size, demo_only=True)
        self.freeze_clone()

    def freeze_clone(self) -> None:
        """With a policy that keeps a clone: the actor as it is now becomes the frozen clone, which
        proposes actions from here on (`clone_proposes`) or which the actor's residual is added to
        (`residual_scale`: the actor's mean head is zeroed and its optimizer restarted, so the
        policy acts as the clone did); nothing without one."""
        if self.policy.clone is None:
            return
        self.policy.clone.load_state_dict(self.actor.state_dict())
        self.policy.clone_set.fill_(True)
        self._residual_start_scale = self.policy.residual_scale
        if self.policy.residual_scale > 0:
            with torch.no_grad():
                self.actor.mu.weight.zero_()
                self.actor.mu.bias.zero_()
            self.actor.optimizer.state.clear()

    def current_residual_scale(self) -> float:
        """The residual's bound for the next online update: `residual_final_scale` unset, the
        policy's `residual_scale` as frozen; set, that bound for the first `residual_hold_updates`
        online updates, then linear to `residual_final_scale` over `residual_release_updates`, then
        that (the bound released as the critic learns: a tight bound early keeps the actor off a
        young critic's errors, a loose one late lets it leave a wrong clone)."""
        if self.residual_final_scale is None:
            return self.policy.residual_scale
        return linear_schedule(self._residual_start_scale, self.residual_final_scale, self._online_updates,
                               self.residual_release_updates, after=self.residual_hold_updates)

    def residual_bound(self) -> torch.Tensor | None:
        """The residual's scale as the losses take it (a tensor: a compiled loss does not recompile
        as it changes), or None where the actor is no residual."""
        return torch.tensor(self.policy.residual_scale) if self.policy.residual_base is not None else None

    def current_bc_weight(self) -> float:
        """The behaviour-cloning weight of the next online update: linear from `bc_weight` to
        `bc_final_weight` over `bc_anneal_updates`, then `bc_final_weight` (a floor that keeps the
        actor near the demonstrator where the demo's states are)."""
        return linear_schedule(self.bc_weight, self.bc_final_weight, self._online_updates, self.bc_anneal_updates)

    def _bc_mask(self, batch_size: int, demo_only: bool) -> torch.Tensor:
        """1 on the rows of a batch that are demo transitions (a DemoMixReplayBuffer puts them last)."""
        rows = batch_size if demo_only else getattr(self.replay_buffer, "demo_rows", lambda b: 0)(batch_size)
        mask = torch.zeros(batch_size)
        mask[batch_size - rows:] = 1.0
        return mask

    def update(self, gradient_steps: int, batch_size: int, demo_only: bool = False) -> None:
        """`gradient_steps` SAC updates on batches from the replay buffer (`demo_only`: its demo)."""
        if self.use_sde:
            raise NotImplementedError("FusedSAC does not implement gSDE")
        self.policy.set_training_mode(True)
        optimizers = [self.actor.optimizer, self.critic.optimizer]
        if self.ent_coef_optimizer is not None:
            optimizers.append(self.ent_coef_optimizer)
        self._update_learning_rate(optimizers)
        critic_only = [self.critic.optimizer]
        params, target_params = list(self.critic.parameters()), list(self.critic_target.parameters())
        stats = torch.zeros(5)
        auto = self.ent_coef_optimizer is not None
        losses = self._compiled_losses() if self.compile else self._losses
        sample = self.replay_buffer.sample_demo if demo_only else self.replay_buffer.sample
        bc_mask = self._bc_mask(batch_size, demo_only)
        propose = self.policy.proposer is not None
        if self.policy.residual_base is not None and not demo_only:
            # acting uses the bound too, and so does a saved policy (SB3 rebuilds it from policy_kwargs)
            self.policy.residual_scale = self.policy_kwargs["residual_scale"] = self.current_residual_scale()
        residual = self.residual_bound()
        for step in range(gradient_steps):
            data = sample(batch_size, env=self._vec_normalize_env)
            discounts = data.discounts if data.discounts is not None else torch.full((batch_size, 1), self.gamma)
            ent_coef = self.log_ent_coef.detach().exp() if auto else self.ent_coef_tensor
            bc_weight = torch.tensor(self.bc_weight if demo_only else self.current_bc_weight())
            self._online_updates += not demo_only
            loss, critic_loss, actor_loss, bc_loss, log_prob = losses(
                data.observations, data.actions, data.next_observations, data.rewards.squeeze(-1),
                data.dones.squeeze(-1), discounts.squeeze(-1), ent_coef, bc_mask, bc_weight,
                propose=propose, residual=residual)
            if auto:
                ent_coef_loss = -(self.log_ent_coef * (log_prob.detach() + self.target_entropy)).mean()
                loss = loss + ent_coef_loss
            for opt in optimizers:
                opt.zero_grad(set_to_none=True)
            loss.backward()
            # TD3's delayed policy updates: the actor and temperature step on every `policy_delay`-th update
            # only (their gradients are computed on every one, in the one backward pass, and dropped)
            actor_steps = demo_only or (self._n_updates + step) % self.policy_delay == 0
            for opt in optimizers if actor_steps else critic_only:
                opt.step()
            if step % self.target_update_interval == 0:
                with torch.no_grad():
                    torch._foreach_lerp_(target_params, params, self.tau)
            stats += torch.stack([critic_loss, actor_loss, ent_coef.reshape(()),
                                  ent_coef_loss.detach() if auto else torch.zeros(()), bc_loss])
        self._n_updates += gradient_steps
        critic_loss, actor_loss, ent_coef, ent_coef_loss, bc_loss = (stats / gradient_steps).tolist()
        self.logger.record("train/bc_loss", bc_loss)
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/ent_coef", ent_coef)
        self.logger.record("train/actor_loss", actor_loss)
        self.logger.record("train/critic_loss", critic_loss)
        if self.ent_coef_optimizer is not None:
            self.logger.record("train/ent_coef_loss", ent_coef_loss)


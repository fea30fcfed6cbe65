"""SAC kept near a reference controller's demonstrations by a Q-filtered behaviour-cloning term.

In every SAC update the actor's loss adds BC on a batch of labelled states, but only on those
where the critic rates the demonstrator's action above the actor's own (the Q filter of Nair et
al. 2018, "Overcoming exploration in RL with demonstrations"): the actor imitates where the
demonstrator is better and is free to improve elsewhere. The term is weighted relative to the
critic's |Q| there (TD3+BC's normalization) inside the one actor step: as a separate optimizer
step it weighed nothing, since Adam's step has the same size whatever the loss's scale.
Before online learning: `clone` fits the actor to the demos (a policy that already succeeds,
so sparse rewards are seen at once), `set_exploration_std` narrows its noise to the
neighbourhood of the clone, and `fit_critic` trains the critics on the seeded buffer with the
actor held still, so the Q filter means something from the first online step. The filter trusts the critic: where it
overestimates (saturated actions it never saw), it switches BC off exactly there, so
`q_filter=False` keeps the BC term on every demo state (as TD3+BC does).

The SAC underneath is `FusedSAC` (ensemble critics, one fused update), so a policy with
`clone_proposes` can also keep the finished clone beside the actor (`freeze_clone`, IBRL):
the clone's action is taken, and bootstrapped from, wherever the critic values it higher; one
with `residual_scale` makes the actor a bounded residual on top of the frozen clone (the BC term
then fits the clone plus residual to the labels).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from policies.fused_sac import FusedSAC


def set_actor_std(actor, std: float) -> None:
    """An SB3 SAC actor's Gaussian std (before tanh) set to `std` for every state."""
    with torch.no_grad():
        actor.log_std.weight.zero_()
        actor.log_std.bias.fill_(math.log(std))


class _HeldOptimizer:
    """Stands in for the actor's optimizer while only the critics may learn."""
    param_groups: list = []

    def zero_grad(self, set_to_none: bool = True) -> None:
        pass

    def step(self) -> None:
        pass


class DemoRegularizedSAC(FusedSAC):
    def __init__(self, *args, demo: dict[str, np.ndarray] | None = None, bc_weight: float = 1.0,
                 bc_batch_size: int = 256, q_filter: bool = True, **kwargs):
        super().__init__(*args, **kwargs)  # FusedSAC's own BC term (on demo rows of a demo-mix buffer) stays off
        if demo is None or len(demo.get("actions", ())) == 0:
            raise ValueError("DemoRegularizedSAC needs demo transitions (obs, actions)")
        self.demo_obs = torch.as_tensor(demo["obs"], dtype=torch.float32, device=self.device)
        self.demo_actions = torch.as_tensor(demo["actions"], dtype=torch.float32, device=self.device)
        self.demo_bc_weight, self.bc_batch_size, self.q_filter = bc_weight, bc_batch_size, q_filter

    def _excluded_save_params(self) -> list[str]:
        return super()._excluded_save_params() + ["demo_obs", "demo_actions"]

    def add_demos(self, obs: np.ndarray, actions: np.ndarray) -> None:
        """More labelled states (e.g. the expert's actions on states the learner visited)."""
        self.demo_obs = torch.cat([self.demo_obs, torch.as_tensor(obs, dtype=torch.float32, device=self.device)])
        self.demo_actions = torch.cat([self.demo_actions,
                                       torch.as_tensor(actions, dtype=torch.float32, device=self.device)])

    def _deterministic(self, obs: torch.Tensor, residual: torch.Tensor | None) -> torch.Tensor:
        """The policy's deterministic action: the actor's, or its residual (of scale `residual`) on the clone's."""
        pi = self.actor(obs, deterministic=True)
        return pi if residual is None else self.policy.on_clone(obs, pi, residual)

    def _demo_bc(self, q_filter: bool, scaled: bool = True,
                 residual: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean squared error of the deterministic policy on a batch of labelled states (0 on the
        states where the Q filter prefers the policy's action), and the critic's mean |Q| of the
        policy's actions there (the term's scale; 1 when not `scaled`)."""
        idx = torch.randint(0, len(self.demo_actions), (self.bc_batch_size,), device=self.device)
        obs, act = self.demo_obs[idx], self.demo_actions[idx]
        pi = self._deterministic(obs, residual)
        err = ((pi - act) ** 2).sum(-1)
        scale = torch.ones(())
        if q_filter or scaled:
            with torch.no_grad():
                q_pi = self.critic.q_values(obs, pi.detach()).min(0).values
                scale = q_pi.abs().mean() if scaled else scale
                if q_filter:
                    err = err * (self.critic.q_values(obs, act).min(0).values >= q_pi).float()
        return err.mean(), scale

    def _losses(self, *args, residual: torch.Tensor | None = None, **kwargs):
        """FusedSAC's losses, the actor's plus `bc_weight` x mean |Q| x the (Q-filtered) BC error
        on labelled states: one weight for any reward scale, as TD3+BC's."""
        loss, critic_loss, actor_loss, bc_loss, log_prob = super()._losses(*args, residual=residual, **kwargs)
        if self.demo_bc_weight > 0:
            err, scale = self._demo_bc(self.q_filter, residual=residual)
            loss, bc_loss = loss + self.demo_bc_weight * scale * err, err.detach()
        return loss, critic_loss, actor_loss, bc_loss, log_prob

    def clone(self, steps: int) -> float:
        """Plain BC of the deterministic policy on all labelled states (whatever the online BC
        term's weight, 0 included); returns the final squared error."""
        self.policy.set_training_mode(True)
        residual = self.residual_bound()
        for _ in range(steps):
            err, _ = self._demo_bc(q_filter=False, scaled=False, residual=residual)
            self.actor.optimizer.zero_grad()
            err.backward()
            self.actor.optimizer.step()
        with torch.no_grad():
            pi = self._deterministic(self.demo_obs, residual)
            return float(((pi - self.demo_actions) ** 2).sum(-1).mean())

    def set_exploration_std(self, std: float, hold: bool = False) -> None:
        """The actor's Gaussian std (before tanh) set to `std` everywhere; SAC tunes it from there,
        or with `hold` it stays there (fixed exploration noise, as TD3 and IBRL use: a task whose
        success hangs on millimetres fails under noise SAC's entropy target would ask for)."""
        set_actor_std(self.actor, std)
        self.actor.log_std.requires_grad_(not hold)

    def fit_critic(self, steps: int, batch_size: int) -> None:
        """SAC updates of critics and temperature on the replay buffer, the actor held still."""
        actor_optimizer, self.actor.optimizer = self.actor.optimizer, _HeldOptimizer()
        bc_weight, self.demo_bc_weight = self.demo_bc_weight, 0.0
        try:
            self.update(steps, batch_size)
        finally:
            self.actor.optimizer, self.demo_bc_weight = actor_optimizer, bc_weight

"""SAC kept near a reference controller's demonstrations by a Q-filtered behaviour-cloning term.

After every SAC gradient step the actor also takes a step on BC loss over a demo batch, but
only on demo states where the critic rates the demo action above the actor's own (the Q filter
of Nair et al. 2018, "Overcoming exploration in RL with demonstrations"): the actor imitates
where the demonstrator is better and is free to improve elsewhere. Before online learning:
`clone` fits the actor to the demos (a policy that already succeeds, so sparse rewards are
seen at once), `set_exploration_std` narrows its noise to the neighbourhood of the clone, and
`fit_critic` trains the critics on the seeded buffer with the actor held still, so the Q filter
means something from the first online step. The filter trusts the critic: where it
overestimates (saturated actions it never saw), it switches BC off exactly there, so
`q_filter=False` keeps the BC term on every demo state (as TD3+BC does).

The SAC underneath is `FusedSAC` (ensemble critics, one fused update), so a policy with
`clone_proposes` can also keep the finished clone beside the actor (`freeze_clone`, IBRL):
the clone's action is taken, and bootstrapped from, wherever the critic values it higher.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from policies.fused_sac import FusedSAC


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

    def _bc_step(self, q_filter: bool | None = None, weight: float | None = None) -> float:
        idx = torch.randint(0, len(self.demo_actions), (self.bc_batch_size,), device=self.device)
        obs, act = self.demo_obs[idx], self.demo_actions[idx]
        pi = self.actor(obs, deterministic=True)
        err = ((pi - act) ** 2).sum(-1)
        if self.q_filter if q_filter is None else q_filter:
            with torch.no_grad():
                q_demo = torch.min(torch.cat(self.critic(obs, act), 1), 1).values
                q_pi = torch.min(torch.cat(self.critic(obs, pi.detach()), 1), 1).values
            err = err * (q_demo >= q_pi).float()
        loss = (self.demo_bc_weight if weight is None else weight) * err.mean()
        self.actor.optimizer.zero_grad()
        loss.backward()
        self.actor.optimizer.step()
        return loss.item()

    def update(self, gradient_steps: int, batch_size: int, demo_only: bool = False) -> None:
        super().update(gradient_steps, batch_size, demo_only)
        if self.demo_bc_weight > 0:
            losses = [self._bc_step() for _ in range(gradient_steps)]
            self.logger.record("train/bc_loss", float(np.mean(losses)))

    def clone(self, steps: int) -> float:
        """Plain BC of the deterministic actor on all demos (unit weight: the clone does not
        depend on the online BC term's weight, 0 included); returns the final squared error."""
        self.policy.set_training_mode(True)
        for _ in range(steps):
            self._bc_step(q_filter=False, weight=1.0)
        with torch.no_grad():
            return float(((self.actor(self.demo_obs, deterministic=True) - self.demo_actions) ** 2).sum(-1).mean())

    def set_exploration_std(self, std: float, hold: bool = False) -> None:
        """The actor's Gaussian std (before tanh) set to `std` everywhere; SAC tunes it from there,
        or with `hold` it stays there (fixed exploration noise, as TD3 and IBRL use: a task whose
        success hangs on millimetres fails under noise SAC's entropy target would ask for)."""
        with torch.no_grad():
            self.actor.log_std.weight.zero_()
            self.actor.log_std.bias.fill_(math.log(std))
        self.actor.log_std.requires_grad_(not hold)

    def fit_critic(self, steps: int, batch_size: int) -> None:
        """SAC updates of critics and temperature on the replay buffer, the actor held still."""
        actor_optimizer, self.actor.optimizer = self.actor.optimizer, _HeldOptimizer()
        bc_weight, self.demo_bc_weight = self.demo_bc_weight, 0.0
        try:
            self.update(steps, batch_size)
        finally:
            self.actor.optimizer, self.demo_bc_weight = actor_optimizer, bc_weight

"""SAC whose critics put LayerNorm after every hidden layer (RLPD, Ball et al. 2023).

LayerNorm bounds the critic's features, which keeps Q-value extrapolation in check when a
small replay buffer (and a mixed-in demo) leaves most actions unseen: the usual cause of SAC's
late collapse on sparse-success tasks. Selected by `sac.critic_layer_norm=true` in grm-rl.
"""
from __future__ import annotations

from torch import nn
from stable_baselines3.common.policies import ContinuousCritic
from stable_baselines3.sac.policies import SACPolicy


class LayerNormCritic(ContinuousCritic):
    def __init__(self, observation_space, action_space, net_arch, features_extractor, features_dim,
                 activation_fn=nn.ReLU, normalize_images=True, n_critics=2, share_features_extractor=True):
        super().__init__(observation_space, action_space, net_arch, features_extractor, features_dim, activation_fn,
                         normalize_images, n_critics, share_features_extractor)
        action_dim = int(action_space.shape[0])
        self.q_networks = []
        for idx in range(n_critics):
            layers, last = [], features_dim + action_dim
            for width in net_arch:
                layers += [nn.Linear(last, width), nn.LayerNorm(width), activation_fn()]
                last = width
            q_net = nn.Sequential(*layers, nn.Linear(last, 1))
            self.add_module(f"qf{idx}", q_net)  # replaces the plain MLP registered under this name
            self.q_networks.append(q_net)


class LayerNormSACPolicy(SACPolicy):
    def make_critic(self, features_extractor=None) -> LayerNormCritic:
        critic_kwargs = self._update_features_extractor(self.critic_kwargs, features_extractor)
        return LayerNormCritic(**critic_kwargs).to(self.device)

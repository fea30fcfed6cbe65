"""Which reward model scores: the `reward_model` settings group and the one loader.

    reward_model=grm                                      # this project's GRM: the command's checkpoint=
    reward_model=robodopamine reward_model.path=DIR       # the official Robo-Dopamine GRM (transformers)

Both answer the interface in grm/inference.py (`RewardBackend`), so progress fusion, the consistency
guard, success detection and shaping do not know which one they use.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from configs.typed import ConfigError, setting
from grm.view_slots import ViewMappingError

BACKENDS = ("grm", "robodopamine")


@dataclass
class RewardModelSettings:
    """configs/reward_model/<name>.yaml."""
    name: str = setting(choices=BACKENDS)
    path: Optional[str] = setting(path="directory (the official GRM's weights, e.g. Robo-Dopamine-GRM-3B)")
    views: dict[str, Optional[str]] = setting()  # robodopamine: its slot (front, left_wrist, right_wrist) -> a camera
    batch_size: int = setting(ge=1)  # robodopamine: prompts per generate call
    image_size: int = setting(ge=28)  # robodopamine: frames are resized to this square first

    def check(self) -> None:
        if self.name == "robodopamine" and not self.path:
            raise ConfigError("reward_model.path", self.path, "the directory of the official GRM's weights is required "
                                                              "with reward_model=robodopamine")


def load_reward_model(settings: RewardModelSettings, checkpoint: str, views: dict, available: list[str] | None):
    """The backend `settings` names, its views laid onto the data's cameras (`available`): the GRM
    from `checkpoint` with `views` (the command's own settings), or the official model from
    `settings.path` with `settings.views`. A mapping that cannot work is a ConfigError on its key."""
    from grm.inference import RewardModel

    grm = settings.name == "grm"
    try:
        if grm:
            return RewardModel.load(checkpoint, available=available, views=views)
        from grm.robodopamine import RoboDopamineGRM

        return RoboDopamineGRM.load(settings.path, available=available, views=settings.views,
                                    batch_size=settings.batch_size, image_size=settings.image_size)
    except FileNotFoundError as e:
        raise ConfigError(*(("checkpoint", checkpoint) if grm else ("reward_model.path", settings.path)), str(e)) from None
    except ViewMappingError as e:
        raise ConfigError(*(("views", views) if grm else ("reward_model.views", settings.views)), str(e)) from None

"""The SB3 callbacks of a grm-rl run, one job each, combined with `CallbackList` in this order:
`EpisodeBudget` counts finished episodes into the run's state (and stops training at the budget);
the others act when that count passes one of their multiples (`KeepBest` right after the
evaluation it reads)."""
from __future__ import annotations

from collections.abc import Callable

from stable_baselines3.common.callbacks import BaseCallback


class EpisodeBudget(BaseCallback):
    """Counts finished episodes (and whether each succeeded) in `state`; stops at `episodes`."""

    def __init__(self, state: dict, episodes: int):
        super().__init__()
        self.state, self.episodes = state, episodes

    def _on_step(self) -> bool:
        for done, info in zip(self.locals["dones"], self.locals["infos"]):
            if done:
                self.state["episodes"] += 1
                self.state["train_successes"].append(bool(info.get("is_success", False)))
        return self.state["episodes"] < self.episodes


class _EveryEpisodes(BaseCallback):
    """Calls `act(episode)` whenever the run's episode count passes a multiple of `every`."""

    def __init__(self, state: dict, every: int):
        super().__init__()
        self.state, self.every, self.seen = state, every, state["episodes"]

    def _on_step(self) -> bool:
        for episode in range(self.seen + 1, self.state["episodes"] + 1):
            if episode % self.every == 0:
                self.act(episode)
        self.seen = self.state["episodes"]
        return True

    def act(self, episode: int) -> None:
        raise NotImplementedError


class PeriodicEvaluation(_EveryEpisodes):
    """Success rate of the deterministic policy (`evaluate(model, episode)`) onto the curve and
    TensorBoard, with the training episodes' success rate since the last evaluation."""

    def __init__(self, state: dict, every: int, evaluate: Callable):
        super().__init__(state, every)
        self.evaluate = evaluate

    def act(self, episode: int) -> None:
        rate = self.evaluate(self.model, episode)
        self.state["curve"].append({"episodes": episode, "env_steps": int(self.num_timesteps), "success_rate": rate})
        recent = self.state["train_successes"][-self.every:]
        self.logger.record("eval/success_rate", rate)
        self.logger.record("train/success_rate", sum(recent) / len(recent))
        self.logger.record("train/episodes", episode)


class KeepBest(_EveryEpisodes):
    """After each evaluation (the same `every`, placed after `PeriodicEvaluation`):
    `save(model, best)` when its success rate is at least the best so far (a later policy wins a
    tie: it has seen more data), `best` saying which; `state["best"]` keeps it. SB3's EvalCallback
    keeps a best model the same way: a learner that swings may end on a worse policy than one it had."""

    def __init__(self, state: dict, every: int, save: Callable):
        super().__init__(state, every)
        self.save = save

    def act(self, episode: int) -> None:
        rate = self.state["curve"][-1]["success_rate"]
        best = self.state.get("best")
        if best is None or rate >= best["success_rate"]:
            best = {"episodes": episode, "success_rate": rate}
            self.save(self.model, best)
            self.state["best"] = best


class PeriodicCheckpoint(_EveryEpisodes):
    """`save(model)` (an atomic checkpoint of model, buffer and state) every `every` episodes."""

    def __init__(self, state: dict, every: int, save: Callable):
        super().__init__(state, every)
        self.save = save

    def act(self, episode: int) -> None:
        self.save(self.model)


class EpisodeProgress(BaseCallback):
    """A tqdm bar over episodes, showing the last evaluation's success rate."""

    def __init__(self, state: dict, bar):
        super().__init__()
        self.state, self.bar, self.seen = state, bar, state["episodes"]

    def _on_step(self) -> bool:
        if self.state["episodes"] > self.seen:
            self.bar.update(self.state["episodes"] - self.seen)
            self.seen = self.state["episodes"]
            if self.state["curve"]:
                self.bar.set_postfix(success=f"{self.state['curve'][-1]['success_rate']:.2f}")
        return True

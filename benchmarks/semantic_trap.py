"""Where would naive shaping rather stop than finish? The semantic trap, read off the GRM's own progress.

    python benchmarks/semantic_trap.py                     # the 10 held-out Meta-World tasks, one-shot GRM

Naive shaping (r_task + Phi(s') - Phi(s)) pays nothing for holding a state, so a learner that
stops at a "good enough" state forfeits only what finishing would still earn: the discounted
rest of the path's progress steps plus the task reward. Where the path to success first passes
through states the GRM reads lower (a dip: releasing to re-grasp, a hand that hides the object),
that rest can be negative, and stopping is optimal: the trap. PBRS charges (1 - gamma) Phi(s)
per held step, so finishing stays better by exactly the discounted task reward (Ng et al. 1999).

For every successful episode of each task (the GRM adapted one-shot from the task's
`expert_0000`, as benchmarks/grm_heldout.py does, whose adaptation cache this shares) and for
every step k before its first success, this computes, with grm-rl's own reward function
(policies/shaping.py mode_reward) and settings (configs/rl.yaml: gamma, grm.scale,
reward_scale, grm.fusion):

    advantage(k) = return of following the episode from s_k to success (which terminates)
                 - return of holding s_k forever (Phi constant)

in units of the task reward (divided by reward_scale). Success is taken as an absorbing goal
(grm-rl's terminate_on_success=true, r_task = 1 once), the setting where a trap is likeliest: with
the default fixed horizon success pays r_task on every step it is held, which only adds to
finishing's return. A step with advantage below -TOLERANCE is a trap: from there the mode's
optimal policy stops short (smaller differences are the float32 rounding of the rewards the
learner sees, e.g. PBRS's gamma^T margin far from success). It also compares whole episodes from
their starts: the share of (failure held at its end, success) pairs of a task whose shaped
returns rank the failure above the success (PBRS ranks them by the task reward alone, up to
Phi(s_0)).
Writes benchmarks/results/semantic_trap.json and a plot of the trapped share against gamma.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from envs.tasks import resolve_tasks
from grm.dataset import open_episode
from grm.evaluate import score_task
from grm.inference import RewardModel
from policies.rl_run import compose_rl
from policies.shaping import mode_reward

from grm_heldout import ADAPTED, adapt, task_root, variant_name  # benchmarks/ is a folder of scripts

ROOT = Path(__file__).resolve().parents[1]
MODES = ("grm_naive", "grm_pbrs")
TOLERANCE = 1e-4  # task rewards


def shaped_returns(mode: str, phi: np.ndarray, success: bool, gamma: float, scale: float, reward_scale: float) -> np.ndarray:
    """Discounted return from each step k of a path Phi(s_0..s_T), (T+1,): a successful path
    terminates at s_T (r_task = 1 on the step into it); any other is held at s_T forever."""
    T = len(phi) - 1
    r_task = np.zeros(T, dtype=np.float32)
    terminated = np.zeros(T, dtype=bool)
    if success:
        r_task[-1], terminated[-1] = 1.0, True
    rewards = mode_reward(mode, r_task, None, phi[:-1], phi[1:], terminated, gamma, scale, reward_scale)
    returns = np.zeros(T + 1)
    returns[T] = 0.0 if success else hold_value(mode, phi[T:], gamma, scale, reward_scale)[0]
    for k in reversed(range(T)):
        returns[k] = rewards[k] + gamma * returns[k + 1]
    return returns


def hold_value(mode: str, phi: np.ndarray, gamma: float, scale: float, reward_scale: float) -> np.ndarray:
    """The return of holding a state of potential `phi` forever: each step's reward over (1 - gamma)."""
    phi = np.asarray(phi, dtype=np.float32)
    r = mode_reward(mode, np.zeros_like(phi), None, phi, phi, np.zeros(phi.shape, dtype=bool), gamma, scale, reward_scale)
    return r / (1.0 - gamma)


def finish_advantage(mode: str, phi: np.ndarray, gamma: float, scale: float, reward_scale: float) -> np.ndarray:
    """Per step k < T of a successful path: finishing's return minus holding s_k's, in task-reward units."""
    go = shaped_returns(mode, phi, True, gamma, scale, reward_scale)[:-1]
    return (go - hold_value(mode, phi[:-1], gamma, scale, reward_scale)) / reward_scale


def deepest_dip(phi: np.ndarray) -> float:
    """The largest fall of Phi along a path: max over i < j of Phi_i - Phi_j."""
    return float(np.max(np.maximum.accumulate(phi) - phi)) if len(phi) else 0.0


def task_trap(paths: list[np.ndarray], failures: list[np.ndarray], mode: str, gamma: float, scale: float,
              reward_scale: float) -> dict:
    """One task, one mode, one gamma: `paths` are successful episodes' Phi up to their first success,
    `failures` the unsuccessful episodes' whole Phi."""
    adv = [finish_advantage(mode, p, gamma, scale, reward_scale) for p in paths]
    steps = np.concatenate(adv)
    starts_ok = [shaped_returns(mode, p, True, gamma, scale, reward_scale)[0] for p in paths]
    starts_fail = [shaped_returns(mode, f, False, gamma, scale, reward_scale)[0] for f in failures]
    pairs = [f > s + TOLERANCE * reward_scale for f in starts_fail for s in starts_ok]
    return {"trapped_steps": float(np.mean(steps < -TOLERANCE)),
            "episodes_with_a_trap": float(np.mean([(a < -TOLERANCE).any() for a in adv])),
            "min_advantage": float(steps.min()),
            "failure_ranked_first": float(np.mean(pairs)) if pairs else float("nan")}


def task_paths(rm, root: Path, task: str, fusion: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The GRM's Phi along the task's scored episodes: successes up to their first success, failures whole."""
    _, scores = score_task(rm, root, task, "expert_0000.hdf5", "fused", fusion=fusion)
    paths, failures = [], []
    for s in scores:
        if s.success:
            with open_episode(root / task / s.name) as ep:
                paths.append(s.pred[:int(ep.keyframes[-1]) + 1])
        else:
            failures.append(s.pred)
    return paths, failures


def plot(table: dict, gammas: list[float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(MODES), figsize=(4.2 * len(MODES), 3.2), dpi=100, sharey=True)
    for ax, mode in zip(axes, MODES):
        for task, row in table["per_task"].items():
            ax.plot(gammas, [row[mode][str(g)]["episodes_with_a_trap"] for g in gammas], marker="o", lw=1.2, label=task)
        ax.set(title=mode, xlabel="gamma", ylim=(-0.02, 1.02))
    axes[0].set_ylabel("successful episodes with a trap")
    axes[-1].legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    rl = compose_rl()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", nargs="+", default=["data/heldout"], help="folders holding the tasks' episodes")
    ap.add_argument("--tasks", nargs="+", default=["held_out"], help="task names or groups (envs/tasks.py GROUPS)")
    ap.add_argument("--checkpoint", default=rl.grm.checkpoint)
    ap.add_argument("--adapt-steps", type=int, default=150)
    ap.add_argument("--adapted", default=str(ADAPTED), help="cache of adapted checkpoints (grm_heldout.py's)")
    ap.add_argument("--gammas", nargs="+", type=float, default=sorted({0.9, 0.95, 0.98, rl.gamma}))
    ap.add_argument("--out", default="benchmarks/results/semantic_trap.json")
    args = ap.parse_args()
    if not all(0 < g < 1 for g in args.gammas):
        raise SystemExit(f"--gammas: each must lie in (0, 1) (holding a state forever needs a discount), got {args.gammas}")
    settings = {"scale": rl.grm.scale, "reward_scale": rl.reward_scale, "fusion": rl.grm.fusion, "rl_gamma": rl.gamma}
    per_task = {}
    for task in resolve_tasks(args.tasks):
        root = task_root(task, [Path(d) for d in args.dataset])
        ckpt = adapt(args.checkpoint, root / task / "expert_0000.hdf5", Path(args.adapted) / variant_name(args.checkpoint),
                     args.adapt_steps)
        paths, failures = task_paths(RewardModel.load(ckpt), root, task, rl.grm.fusion)
        row = per_task[task] = {"successes": len(paths), "failures": len(failures),
                                "deepest_dip": max(map(deepest_dip, paths)),
                                **{mode: {str(g): task_trap(paths, failures, mode, g, rl.grm.scale, rl.reward_scale)
                                          for g in args.gammas} for mode in MODES}}
        for mode in MODES:
            print(f"{task:<22}{mode:<11}" + " ".join(f"g={g}: {row[mode][str(g)]['episodes_with_a_trap']:.2f}"
                                                     for g in args.gammas) + f"  deepest dip {row['deepest_dip']:.2f}", flush=True)
    ckpt_path = Path(args.checkpoint).resolve()
    shown = ckpt_path.relative_to(ROOT) if ckpt_path.is_relative_to(ROOT) else ckpt_path  # no machine's paths in the JSON
    table = {"checkpoint": str(shown), "adapt_steps": args.adapt_steps, "gammas": args.gammas, **settings,
             "per_task": per_task,
             "mean": {mode: {str(g): {k: float(np.nanmean([r[mode][str(g)][k] for r in per_task.values()]))
                                      for k in ("trapped_steps", "episodes_with_a_trap", "failure_ranked_first")}
                             for g in args.gammas} for mode in MODES}}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(table, indent=2) + "\n")
    plot(table, args.gammas, out.with_suffix(".png"))
    print(f"wrote {out} and {out.with_suffix('.png')}")


if __name__ == "__main__":
    main()

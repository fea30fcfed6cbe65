"""How much of each camera view does a task's own change occupy, beside how well the GRM detects it?

    python benchmarks/state_visibility.py                    # the 10 held-out tasks, 3 expert episodes each

A success frame differs from a start frame in two ways: the task's object moved (the drawer shut,
the lock's lever down) and the hand moved. A reward model can only tell success from the first,
since the hand may end anywhere. For each scripted-expert episode this renders its final state
(--after steps past success, as the scored episodes end) twice, once as it is and once with every
object joint back at its initial value and the robot's joints left where they ended, and counts
the share of pixels that differ (any channel by more than --threshold of 255) per camera. That
share is the signal success detection has to read. Beside it: the share the whole episode changes
(first frame vs last) and the one-shot fused success AUC of --results. Writes benchmarks/results/state_visibility.json.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import envs  # noqa: F401  (sets MUJOCO_GL for headless rendering before mujoco loads)
import mujoco
import numpy as np

from envs.metaworld_env import DEFAULT_CAMERAS, MetaWorldTask
from envs.rendering import MultiViewRenderer
from envs.tasks import HELD_OUT
from envs.scripted_expert import expert_physics_states

ROBOT_JOINTS = [f"right_j{i}" for i in range(7)] + ["r_close", "l_close"]  # Meta-World's Sawyer arm and gripper
CAMERAS = list(DEFAULT_CAMERAS)  # the shipped GRM's


def robot_qpos_mask(model: mujoco.MjModel) -> np.ndarray:
    """True at the qpos entries of the robot's joints; everything else is the task's objects."""
    mask = np.zeros(model.nq, dtype=bool)
    for name in ROBOT_JOINTS:
        j = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, name)
        if j < 0:
            raise ValueError(f"joint {name!r} not in the model: not a Meta-World Sawyer scene")
        mask[model.jnt_qposadr[j]] = True
    return mask


def changed_share(a: np.ndarray, b: np.ndarray, threshold: int) -> np.ndarray:
    """Per view, the share of pixels where any channel differs by more than `threshold`: (V, H, W, 3) x2 -> (V,)."""
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(-1) > threshold
    return diff.reshape(len(diff), -1).mean(1)


def render(env: MetaWorldTask, renderer: MultiViewRenderer, qpos: np.ndarray) -> np.ndarray:
    env.data.qpos[:], env.data.qvel[:] = qpos, 0.0
    mujoco.mj_forward(env.model, env.data)
    return renderer.render(env.data)


def measure(task: str, episodes: int, size: int, threshold: int, after: int, max_steps: int = 200) -> dict:
    task_share, episode_share = [], []
    for ep in range(episodes):
        env, states = expert_physics_states(task, 100 + ep, after, max_steps)
        first, last = states[0][0], states[-1][0]
        robot = robot_qpos_mask(env.model)
        undone = np.where(robot, last, first)  # the hand where it ended, the objects where they began
        renderer = MultiViewRenderer(env.model, CAMERAS, size, size)
        end = render(env, renderer, last)
        task_share.append(changed_share(end, render(env, renderer, undone), threshold))
        episode_share.append(changed_share(end, render(env, renderer, first), threshold))
        renderer.close()
        env.close()
    return {"task_change": dict(zip(CAMERAS, np.mean(task_share, 0).tolist())),
            "episode_change": dict(zip(CAMERAS, np.mean(episode_share, 0).tolist()))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", nargs="+", default=list(HELD_OUT))
    ap.add_argument("--episodes", type=int, default=3)
    ap.add_argument("--size", type=int, default=64, help="image side in pixels (the shipped GRM sees 64)")
    ap.add_argument("--threshold", type=int, default=20)
    ap.add_argument("--after", type=int, default=10, help="steps past success (grm-collect's rollout.post_success_steps)")
    ap.add_argument("--results", default="benchmarks/results/grm_heldout.json")
    ap.add_argument("--key", default="grm_multi_embodiment/one_shot/fused")
    ap.add_argument("--out", default="benchmarks/results/state_visibility.json")
    args = ap.parse_args()
    auc = {}
    if Path(args.results).is_file():
        per_task = json.loads(Path(args.results).read_text())[args.key]["per_task"]
        auc = {t: row["success_auc"] for t, row in per_task.items()}
    rows = {}
    print(f"{'task':<22}" + "".join(f"{'task ' + c:>17}" for c in CAMERAS) + f"{'episode corner':>16}{'AUC':>7}  (% of pixels)")
    for task in args.tasks:
        row = rows[task] = measure(task, args.episodes, args.size, args.threshold, args.after)
        row["success_auc"] = auc.get(task)
        print(f"{task:<22}" + "".join(f"{100 * row['task_change'][c]:>17.2f}" for c in CAMERAS)
              + f"{100 * row['episode_change']['corner']:>16.2f}"
              + (f"{row['success_auc']:>7.3f}" if row["success_auc"] is not None else f"{'':>7}"), flush=True)
    result = {"cameras": CAMERAS, "size": args.size, "threshold": args.threshold, "after_success": args.after,
              "episodes_per_task": args.episodes, "auc_from": f"{args.results}:{args.key}", "tasks": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

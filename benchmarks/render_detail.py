"""What decimated visual meshes cost the reward model: render time vs GRM progress agreement.

    python benchmarks/render_detail.py [--keep 1.0 0.2 0.1] [--episodes 3]

Scripted-expert episodes of held-out tasks are rolled once; every recorded state is rendered
with the full meshes and with meshes keeping each `--keep` share of their faces
(`envs/mesh_detail.py`), all in this process. For each setting: ms per three-view frame,
mean |pixel difference|, and the shipped GRM's fused progress against the full-mesh curve
(mean and max |dPhi|, VOC). References (start/goal) come from each episode's full-mesh frames,
as an adaptation demo would give them. Writes benchmarks/results/render_detail.json.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import envs  # noqa: F401  (sets MUJOCO_GL for headless rendering before mujoco loads)
import mujoco
import numpy as np
import torch
from scipy.stats import spearmanr

from envs.rendering import MultiViewRenderer
from grm.inference import RewardModel, episode_progress
from envs.scripted_expert import expert_physics_states


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", nargs="+", default=["drawer-close-v3", "window-close-v3", "door-lock-v3", "box-close-v3"])
    ap.add_argument("--keep", nargs="+", type=float, default=[1.0, 0.2, 0.1])
    ap.add_argument("--episodes", type=int, default=3)
    ap.add_argument("--checkpoint", default="grm/pretrained/grm_multi_embodiment.pt")
    ap.add_argument("--out", default="benchmarks/results/render_detail.json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rm = RewardModel.load(args.checkpoint)
    keeps = sorted(set(args.keep) | {1.0}, reverse=True)
    stats = {k: {"ms": [], "pixel_diff": [], "dphi_mean": [], "dphi_max": [], "voc": []} for k in keeps}
    for task in args.tasks:
        for ep in range(args.episodes):
            env, states = expert_physics_states(task, 100 + ep, after=10, max_steps=200)
            frames, phis = {}, {}
            for keep in keeps:
                r = MultiViewRenderer(env.model, rm.inputs, rm.image_size, rm.image_size, mesh_keep=keep)
                out, elapsed = [], 0.0
                for qpos, qvel in states:
                    env.data.qpos[:], env.data.qvel[:] = qpos, qvel
                    mujoco.mj_forward(env.model, env.data)
                    t0 = time.perf_counter()
                    out.append(r.render(env.data))
                    elapsed += time.perf_counter() - t0
                r.close()
                frames[keep] = np.stack(out)
                stats[keep]["ms"].append(1000 * elapsed / len(states))
            rm.set_reference(frames[1.0][0], frames[1.0][-1])
            for keep in keeps:
                phis[keep] = episode_progress(rm, frames[keep])
                s = stats[keep]
                s["pixel_diff"].append(float(np.abs(frames[keep].astype(float) - frames[1.0]).mean()))
                d = np.abs(phis[keep] - phis[1.0])
                s["dphi_mean"].append(float(d.mean()))
                s["dphi_max"].append(float(d.max()))
                s["voc"].append(float(spearmanr(np.arange(len(phis[keep])), phis[keep])[0]))
            env.close()
            print(f"{task} episode {ep}: " + "  ".join(
                f"keep {k}: {stats[k]['ms'][-1]:.1f} ms, |dPhi| {stats[k]['dphi_mean'][-1]:.3f}" for k in keeps), flush=True)
    table = {str(k): {name: float(np.mean(v)) for name, v in s.items()} for k, s in stats.items()}
    full_ms = table["1.0"]["ms"]
    print(f"\n{'mesh keep':<10}{'ms/frame':>10}{'speed-up':>10}{'|pixel diff|':>14}{'mean |dPhi|':>13}{'max |dPhi|':>12}{'VOC':>8}")
    for k, row in table.items():
        row["speedup"] = full_ms / row["ms"]
        print(f"{k:<10}{row['ms']:>10.1f}{row['speedup']:>10.2f}{row['pixel_diff']:>14.2f}{row['dphi_mean']:>13.4f}"
              f"{row['dphi_max']:>12.3f}{row['voc']:>8.3f}")
    result = {"checkpoint": args.checkpoint, "cameras": rm.inputs, "image_size": rm.image_size, "tasks": args.tasks,
              "episodes_per_task": args.episodes, "by_keep": table}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

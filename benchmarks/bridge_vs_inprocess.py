"""The same policy, same placements: in-process vs through the ROS 2 bridge.

    python benchmarks/bridge_vs_inprocess.py --policy runs/main-job/checkpoints/model.zip [--episodes 20]
    python benchmarks/bridge_vs_inprocess.py --policy scripted:drawer-close-v3

In-process: the policy acts on RLTask's state (as grm-rl's evaluation does). Bridge: grm-deploy
with configs/ros/sim_metaworld.yaml, i.e. policy node + MuJoCo robot node in lockstep over
Fast DDS on loopback, the observation rebuilt from topics and every command passed through the
safety limiters. Both draw placements from the same seed stream. Reports both success rates,
episode-by-episode agreement and mean lengths; writes benchmarks/results/bridge_vs_inprocess.json.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from configs.files import write_text
from configs.typed import package_path
from hardware.deploy import deploy
from hardware.policy_io import MetaWorldObservation
from hardware.policy_loader import load_policy
from hardware.profile import load_profile
from policies.rl_run import run_episodes

OUT = Path(__file__).parent / "results" / "bridge_vs_inprocess.json"


def in_process(policy_spec: str, task: str, episodes: int, max_steps: int, seed: int) -> list[dict]:
    """The policy node's own loader and observation layout, acting on RLTask's state."""
    profile = load_profile("sawyer_metaworld")
    policy = load_policy(policy_spec, profile, MetaWorldObservation(profile))
    return run_episodes(lambda obs: policy(obs.astype(np.float64)), task, max_steps, episodes, seed)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--policy", required=True)
    ap.add_argument("--task", default="drawer-close-v3")
    ap.add_argument("--episodes", type=int, default=20)
    ap.add_argument("--max-steps", type=int, default=150)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()
    t0 = time.perf_counter()
    local = in_process(args.policy, args.task, args.episodes, args.max_steps, args.seed)
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        overrides = {"sim_robot": {"task": args.task, "seed": args.seed},
                     "policy_node": {"policy": args.policy, "max_steps": args.max_steps}}
        bridged = deploy(package_path("configs/ros/sim_metaworld.yaml"), tmp, episodes=args.episodes,
                         overrides=overrides, loopback=True, domain_id=1 + os.getpid() % 100,
                         progress=False)["episodes"]
    t2 = time.perf_counter()
    assert [e["seed"] for e in local] == [e["seed"] for e in bridged], "placement streams differ"
    agree = sum(a["success"] == b["success"] for a, b in zip(local, bridged))
    row = {
        "policy": args.policy, "task": args.task, "episodes": args.episodes,
        "success_in_process": float(np.mean([e["success"] for e in local])),
        "success_bridge": float(np.mean([e["success"] for e in bridged])),
        "episodes_agreeing": agree,
        "mean_steps_in_process": float(np.mean([e["steps"] for e in local])),
        "mean_steps_bridge": float(np.mean([e["steps"] for e in bridged])),
        "seconds_in_process": t1 - t0, "seconds_bridge": t2 - t1,
    }
    print(f"{'':12} {'success':>8} {'mean steps':>11} {'seconds':>8}")
    print(f"{'in-process':12} {row['success_in_process']:8.2f} {row['mean_steps_in_process']:11.1f} {row['seconds_in_process']:8.1f}")
    print(f"{'bridge':12} {row['success_bridge']:8.2f} {row['mean_steps_bridge']:11.1f} {row['seconds_bridge']:8.1f}")
    print(f"same outcome on {agree}/{args.episodes} placements")
    out = Path(args.out)
    results = json.loads(out.read_text()) if out.is_file() else {"benchmark": "bridge_vs_inprocess", "rows": []}
    results["rows"] = [r for r in results["rows"] if (r["policy"], r["task"]) != (args.policy, args.task)] + [row]
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

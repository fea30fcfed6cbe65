"""DDS setup shared by every node, test and benchmark.

On a lab network the defaults are right. Tests and benchmarks must keep every socket on
127.0.0.1: `use_loopback()` points Fast DDS at the profile shipped beside this file (a copy of
the workplace's verified profile), so no test depends on files outside the repository.
"""
from __future__ import annotations

import os
from pathlib import Path

LOOPBACK_PROFILE = Path(__file__).with_name("fastdds_loopback.xml")


def use_loopback(domain_id: int | None = None, env: dict | None = None) -> dict:
    """Set (in `env`, default os.environ) the variables that keep DDS on loopback; returns env."""
    env = os.environ if env is None else env
    env["FASTDDS_DEFAULT_PROFILES_FILE"] = str(LOOPBACK_PROFILE)
    env["RMW_IMPLEMENTATION"] = "rmw_fastrtps_cpp"
    if env.get("ROS_AUTOMATIC_DISCOVERY_RANGE") == "LOCALHOST":  # still opens an external socket
        env.pop("ROS_AUTOMATIC_DISCOVERY_RANGE")
    if domain_id is not None:
        if not 0 <= int(domain_id) <= 101:
            raise ValueError(f"ROS_DOMAIN_ID must be in [0, 101], got {domain_id}")
        env["ROS_DOMAIN_ID"] = str(int(domain_id))
    return env

"""A property test over command-line overrides: whatever a user types after `grm-rl`, the command
either runs with checked settings or refuses with one of the errors its command line reports in
one line (never another exception, never a NaN or a non-positive budget let through)."""
import dataclasses
import math

import pytest
from hydra.errors import HydraException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from omegaconf.errors import OmegaConfBaseException

from configs.typed import ConfigError, compose
from policies.rl_run import RLConfig, compose_rl



def _leaves(node: dict, prefix: str = ""):
    for key, value in node.items():
        if isinstance(value, dict):
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield prefix + key


KEYS = sorted(_leaves(dataclasses.asdict(compose_rl())))
VALUES = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                   st.sampled_from(["banana", "", "null", "[]", "[1,2]", "-0", "1e400", "nan", "inf", "sac", "${task}"]))
REFUSALS = (ValueError, FileNotFoundError, HydraException, OmegaConfBaseException)


def _numbers(obj):
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            yield from _numbers(value)
        elif isinstance(value, float):
            yield f.name, value


@pytest.mark.parametrize("override", ["sac.learning_rate=inf", "reward_scale=inf", "grm.scale=-inf", "mesh_keep=nan"])
def test_non_finite_numbers_are_refused(override):
    with pytest.raises(ConfigError, match=f"{override.split('=')[0]}=.*must be a finite number"):
        compose_rl(override)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(KEYS + ["nonsense", "sac.nonsense"]), VALUES), min_size=1, max_size=3))
def test_any_override_is_checked_or_refused(overrides):
    args = [f"{key}={value}" for key, value in overrides]
    try:
        cfg = compose("rl", RLConfig, args)
    except REFUSALS:
        return  # the command line prints these as one line with exit code 2 (tests/test_configs.py)
    assert cfg.episodes >= 1 and cfg.max_steps >= 1 and cfg.eval.episodes >= 1
    assert all(math.isfinite(v) for _, v in _numbers(cfg)), args

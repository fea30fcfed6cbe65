"""A property test over command-line overrides: whatever a user types after any command, it either
runs with checked settings or refuses with one of the errors its command line reports in one line
(never another exception such as a TypeError, never a NaN, an infinity or a value outside its bounds)."""
import dataclasses
import math

import pytest
from hydra.errors import HydraException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from omegaconf.errors import OmegaConfBaseException

from configs.typed import ConfigError, check, compose
from policies.rl_run import compose_rl
from test_configs import REQUIRED, _schemas

VALUES = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                   st.sampled_from(["banana", "", "null", "[]", "[1,2]", "-0", "1e400", "nan", "inf", "sac", "${out}"]))
REFUSALS = (ValueError, FileNotFoundError, HydraException, OmegaConfBaseException)


def _leaves(node: dict, prefix: str = ""):
    for key, value in node.items():
        if isinstance(value, dict):
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield prefix + key, value


@pytest.mark.parametrize("override", ["sac.learning_rate=inf", "reward_scale=inf", "grm.scale=-inf", "mesh_keep=nan"])
def test_non_finite_numbers_are_refused(override):
    with pytest.raises(ConfigError, match=f"{override.split('=')[0]}=.*must be a finite number"):
        compose_rl(override)


@pytest.mark.parametrize("name", sorted(_schemas()))
def test_any_override_is_checked_or_refused(name, tiny_dataset):
    schema = _schemas()[name]
    demo = tiny_dataset / "drawer-close-v3" / "expert_0000.hdf5"
    base = [o.format(demo=demo, dataset=tiny_dataset) for o in REQUIRED.get(name, [])]
    keys = sorted(k for k, _ in _leaves(dataclasses.asdict(compose(name, schema, base))))

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.tuples(st.sampled_from(keys + ["nonsense"]), VALUES), min_size=1, max_size=3))
    def accepted_or_refused(overrides):
        try:
            cfg = compose(name, schema, [*base, *(f"{key}={value}" for key, value in overrides)])
        except REFUSALS:
            return  # the command line prints these as one line with exit code 2 (tests/test_configs.py)
        leaves = dict(_leaves(dataclasses.asdict(cfg)))
        assert all(math.isfinite(v) for v in leaves.values() if isinstance(v, float)), overrides
        check(cfg)  # what a command receives holds every declared bound and choice

    accepted_or_refused()

"""Failure-aware adaptation: failure episodes made from one demo's own frames, with its own labels."""
import numpy as np
import pytest

from grm.frame_store import FrameStore
from grm.pair_sampler import PairSampler, SamplerConfig
from grm.synthetic_failures import KINDS, failure_indices, synthesize


def test_each_kind_fails_in_its_own_way():
    for seed in range(20):
        idx = failure_indices(goal=40, length=60, rng=np.random.default_rng(seed))
        assert list(idx) == list(KINDS)
        truncated, rewound, reversed_, stalled = (idx[k] for k in KINDS)
        assert truncated[0] == 0 and np.all(np.diff(truncated) == 1) and truncated[-1] < 40
        turn = int(np.argmax(rewound))
        assert np.all(np.diff(rewound[: turn + 1]) == 1) and np.all(np.diff(rewound[turn:]) == -1)
        assert rewound[turn] < 40 and rewound[-1] < rewound[turn]
        assert reversed_[0] == 40 and reversed_[-1] == 0 and np.all(np.diff(reversed_) == -1)
        assert np.all(stalled[len(truncated) - 1:] == truncated[-1]) and len(stalled) > len(truncated)
    assert len(synthesize(40, 60, per_kind=3, seed=0)) == 12
    with pytest.raises(ValueError, match="first success at frame 2..59, got 1"):
        failure_indices(goal=1, length=60, rng=np.random.default_rng(0))


def test_the_store_adds_them_with_the_demos_pixels_and_progress(tiny_dataset):
    demo = tiny_dataset / "drawer-close-v3" / "expert_0001.hdf5"
    cams = ["corner", "gripperPOV"]
    plain = FrameStore([demo], cams, progress=False)
    store = FrameStore([demo], cams, progress=False, synthetic_failures=2, seed=7)
    assert len(plain.episodes) == 1 and len(store.episodes) == 1 + 2 * len(KINDS)
    source = store.episodes[0]
    expected = synthesize(source.goal, source.length, 2, 7)
    for ep, (kind, idx) in zip(store.episodes[1:], expected):
        assert ep.kind == kind and not ep.success and ep.goal == -1
        np.testing.assert_array_equal(store.get(ep.frames()), plain.get(source.offset + idx))
        np.testing.assert_array_equal(ep.progress, source.progress[idx])
    sampler = PairSampler(store, SamplerConfig(same_episode_reference=1.0), seed=0)
    queried = {store.episodes[int(np.searchsorted([e.offset for e in store.episodes], f, "right")) - 1].kind
               for step in range(20) for f in sampler.batch(step, range(4), augment=False).frames[:, 0]}
    assert "expert" in queried and queried & {f"synthetic_{k}" for k in KINDS}

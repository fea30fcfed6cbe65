"""The GRM learns, checkpoints safely, trains identically under DDP, and fuses as specified."""
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import torch

from configs.typed import compose
from grm.checkpoint import CheckpointError, load_model, save_checkpoint
from grm.frame_store import FrameStore
from grm.inference import ProgressTracker, RewardModel, consistency_guard, episode_progress, fuse, incremental_update
from grm.model import GRM, GRMConfig, two_hot
from grm.pair_sampler import PairSampler, SamplerConfig
from grm.train import TrainConfig, train

TINY_MODEL = {"width": 8, "embed_dim": 32}
TINY_MODEL_OVERRIDES = [f"model.{k}={v}" for k, v in TINY_MODEL.items()]


def test_two_hot_expectation_is_exact():
    h = torch.tensor([-1.0, -0.33, 0.0, 0.5, 0.999, 1.0])
    centers = torch.linspace(-1, 1, 25)
    np.testing.assert_allclose((two_hot(h, 25) * centers).sum(-1), h, atol=1e-6)


def test_sampler_balances_and_keeps_zero_hops(tiny_dataset):
    store = FrameStore([tiny_dataset], ["corner", "gripperPOV"], progress=False)
    s = PairSampler(store, SamplerConfig(), seed=0)
    b = s.batch(0, range(6))
    K = s.cfg.frames_per_episode
    assert b.images.shape[:2] == (6, K + 2) and b.hop.shape == (6, K + 2, K)
    np.testing.assert_allclose(b.weight.sum((1, 2)), 1.0, rtol=1e-5)
    assert np.all(b.hop >= -1) and np.all(b.hop <= 1)
    same = b.frames[:, :, None] == b.frames[:, None, :K]  # the same frame before and after
    assert same[:, np.eye(K + 2, K, dtype=bool)].all()
    np.testing.assert_allclose((b.weight * same).sum((1, 2)), 0.05, rtol=1e-4)  # zero-hop anchors: 5%
    assert np.all(b.hop[same] == 0)
    # same (seed, step, item) -> same batch, whatever else is drawn
    np.testing.assert_array_equal(s.batch(0, range(3, 6)).hop, b.hop[3:])


def test_sampler_draws_post_success_frames_on_request(tiny_dataset):
    """post_success_share: that share of a finished episode's query frames comes from after its
    success (the frames success detection reads); 0 leaves the earlier draws untouched."""
    store = FrameStore([tiny_dataset], ["corner", "gripperPOV"], progress=False)
    K = SamplerConfig().frames_per_episode

    def post_share(share):
        s = PairSampler(store, SamplerConfig(post_success_share=share), seed=0)
        after = []
        for i in range(40):
            frames, *_ = s.item(0, i)
            ep = next(e for e in store.episodes if e.offset <= frames[0] < e.offset + e.length)
            if ep.success:
                after.append(np.mean(frames[:K] - ep.offset >= ep.goal))
        return np.mean(after)

    assert post_share(1.0) == 1.0 and post_share(0.0) < 0.3



def test_inverse_task_items_swap_the_references_and_reverse_every_hop(tiny_dataset):
    """inverse_share = 1: the same query frames as the plain item, START = the demo's goal frame,
    END = its first frame, and every label is the plain label of the inverse progress 1 - phi."""
    from grm.progress_labels import hop_label

    store = FrameStore([tiny_dataset], ["corner", "gripperPOV"], progress=False)
    plain = PairSampler(store, SamplerConfig(), seed=0)
    inverse = PairSampler(store, SamplerConfig(inverse_share=1.0), seed=0)
    K = SamplerConfig().frames_per_episode
    for i in range(10):
        f0, pb0, pa0, _ = plain.item(0, i)
        f1, pb1, pa1, _ = inverse.item(0, i)
        ref = next(e for e in store.episodes if e.offset <= f1[-1] < e.offset + e.length)
        assert np.array_equal(f0[:K], f1[:K]) and f1[-1] == ref.offset and f1[-2] - ref.offset >= ref.goal
        np.testing.assert_allclose(pa1, 1.0 - pa0)
        assert pb1[-2] == 0.0 and pb1[-1] == 1.0  # the inverse task starts at the demo's goal and ends at its start
        h0, h1 = hop_label(pb0[:K, None], pa0[None]), hop_label(pb1[:K, None], pa1[None])
        assert np.all(np.sign(h1) == -np.sign(h0))  # every query pair hops the other way

def test_tiny_model_overfits_tiny_dataset(tiny_dataset, tmp_path):
    cfg = compose("train", TrainConfig, [f"datasets=[{tiny_dataset}]", f"out={tmp_path}", "steps=250", "batch_size=8",
                                         "lr=2e-3", "warmup=10", "log_every=1000", "ckpt_every=1000", "progress=false",
                                         *TINY_MODEL_OVERRIDES, "sampler.shift=0", "sampler.brightness=0.0",
                                         "sampler.view_dropout=0.0"])
    store = FrameStore([tiny_dataset], ["corner", "gripperPOV"], progress=False)
    sampler = PairSampler(store, SamplerConfig(shift=0, brightness=0.0, view_dropout=0.0), seed=0)

    def mae(model):
        b = sampler.batch(10_000, range(16), augment=False)
        with torch.no_grad():
            pred = model.readout(model(torch.from_numpy(b.images), torch.from_numpy(b.view_mask), 8))
        return float((np.abs(pred.numpy() - b.hop) * b.weight).sum((1, 2)).mean())

    torch.manual_seed(0)
    before = mae(GRM(GRMConfig(num_views=2, image_size=32, **TINY_MODEL)).eval())
    model, _, _ = load_model(train(cfg))
    after = mae(model)
    assert after < 0.5 * before and after < 0.2, (before, after)


def test_checkpoints_refuse_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_model(tmp_path / "missing.pt")
    (tmp_path / "garbage.pt").write_bytes(os.urandom(512))
    with pytest.raises(CheckpointError, match="not a loadable"):
        load_model(tmp_path / "garbage.pt")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="format marker"):
        load_model(tmp_path / "foreign.pt")

    class Evil:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    torch.save({"format": "robo-dopamine-grm", "x": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError):
        load_model(tmp_path / "evil.pt")
    assert not (tmp_path / "pwned").exists(), "loading must never execute pickled code"
    model = GRM(GRMConfig(num_views=2, image_size=32, **TINY_MODEL))
    path = save_checkpoint(tmp_path / "ok.pt", model, ["corner", "gripperPOV"])
    payload = torch.load(path, weights_only=True)
    payload["config"] = payload["config"].replace('"embed_dim": 32', '"embed_dim": 64')
    torch.save(payload, tmp_path / "mismatch.pt")
    with pytest.raises(CheckpointError, match="do not fit"):
        load_model(tmp_path / "mismatch.pt")
    assert load_model(path)[1] == ["corner", "gripperPOV"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_two_processes_match_one(tiny_dataset, tmp_path):
    args = [f"datasets=[{tiny_dataset}]", "steps=3", "batch_size=4", "threads=1", "progress=false",
            "model.width=8", "model.embed_dim=32", "sampler.frames_per_episode=4"]
    env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "GLOO_SOCKET_IFNAME": "lo"}
    one = subprocess.run([sys.executable, "-m", "grm.cli.train", *args, f"out={tmp_path / 'one'}"],
                         capture_output=True, text=True, env=env, timeout=600)
    assert one.returncode == 0, one.stderr[-2000:]
    two = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
                          f"--master_port={_free_port()}", "-m", "grm.cli.train", *args, f"out={tmp_path / 'two'}"],
                         capture_output=True, text=True, env=env, timeout=600)
    assert two.returncode == 0, two.stderr[-2000:]
    a, _, _ = load_model(tmp_path / "one" / "grm.pt")
    b, _, _ = load_model(tmp_path / "two" / "grm.pt")
    init = GRM(a.cfg)
    moved = 0.0
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values()):
        torch.testing.assert_close(pa, pb, atol=2e-5, rtol=1e-4, msg=name)
        moved = max(moved, float((pa - init.state_dict()[name]).abs().max()))
    assert moved > 1e-4, "training must have changed the weights for the comparison to mean anything"


def test_ddp_first_run_over_a_fresh_dataset_works(tiny_dataset, tmp_path):
    """Two ranks over a dataset with no frame cache yet: rank 0 builds it, rank 1 waits, then reads it."""
    import shutil

    fresh = tmp_path / "fresh"
    shutil.copytree(tiny_dataset, fresh, ignore=shutil.ignore_patterns(".cache"))
    args = [f"datasets=[{fresh}]", "steps=2", "batch_size=4", "threads=1", "progress=false", "model.width=8",
            "model.embed_dim=32", "sampler.frames_per_episode=4", f"out={tmp_path / 'two'}"]
    env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "GLOO_SOCKET_IFNAME": "lo"}
    two = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
                          f"--master_port={_free_port()}", "-m", "grm.cli.train", *args],
                         capture_output=True, text=True, env=env, timeout=600)
    assert two.returncode == 0, two.stderr[-3000:]
    assert (tmp_path / "two" / "grm.pt").is_file()
    assert len(list((fresh / ".cache").glob("index-*.json"))) == 1 and not list((fresh / ".cache").glob(".tmp-*"))


def test_a_truncated_frame_cache_is_rebuilt(tiny_dataset, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny_dataset, copy, ignore=shutil.ignore_patterns(".cache"))
    first = FrameStore([copy], ["corner", "gripperPOV"], progress=False)
    index = next((copy / ".cache").glob("index-*.json"))
    index.write_text(index.read_text()[:100])  # a crash mid-write of an older version
    again = FrameStore([copy], ["corner", "gripperPOV"], progress=False)
    assert len(again.episodes) == len(first.episodes)
    np.testing.assert_array_equal(again.get(np.arange(5)), first.get(np.arange(5)))


def test_training_resumes_from_last_checkpoint(tiny_dataset, tmp_path):
    base = [f"datasets=[{tiny_dataset}]", "batch_size=2", "ckpt_every=2", "log_every=100", "progress=false",
            *TINY_MODEL_OVERRIDES, "threads=1"]
    train(compose("train", TrainConfig, [*base, f"out={tmp_path / 'r'}", "steps=4"]))
    straight, _, _ = load_model(train(compose("train", TrainConfig, [*base, f"out={tmp_path / 'full'}", "steps=6"])))
    resumed, _, _ = load_model(train(compose("train", TrainConfig, [*base, f"out={tmp_path / 'r'}", "steps=6"])))  # at step 4
    for pa, pb in zip(straight.state_dict().values(), resumed.state_dict().values()):
        torch.testing.assert_close(pa, pb, atol=1e-5, rtol=1e-4)


def test_fusion_formulas():
    g = torch.tensor([0.2, 0.6])
    np.testing.assert_allclose(incremental_update(g, torch.tensor([0.5, -0.5])), [0.6, 0.3])
    prev = torch.tensor([0.3, 0.3])
    # forward and backward agree at 0.8: move half-way (w = 1) toward them plus the incremental step
    agree = consistency_guard(prev, torch.tensor([0.4, 0.4]), torch.tensor([0.8, 0.8]), torch.tensor([0.8, 0.8]))
    np.testing.assert_allclose(agree, 0.3 + 0.5 * (0.8 - 0.3 + 0.1), rtol=1e-6)
    # they disagree wildly (out of distribution): the estimate holds still
    held = consistency_guard(prev, torch.tensor([0.9, 0.9]), torch.tensor([0.05, 0.05]), torch.tensor([0.95, 0.95]))
    np.testing.assert_allclose(held, prev, atol=1e-6)


def test_the_median_outvotes_anchors_that_collapse_when_the_goal_looks_like_the_start():
    # at the success of a return-home task the forward anchor reads ~0 (the frame looks like the
    # episode's first) and the backward anchor ~1 (it looks like the goal), while the incremental
    # estimate has followed the episode: the mean tops out near 2/3, the median is the incremental
    inc, fwd, bwd = torch.tensor([0.97, 0.2]), torch.tensor([0.02, 0.25]), torch.tensor([1.0, 0.9])
    np.testing.assert_allclose(fuse(inc, fwd, bwd, "mean"), [0.663333, 0.45], rtol=1e-5)
    np.testing.assert_allclose(fuse(inc, fwd, bwd, "median"), [0.97, 0.25])
    np.testing.assert_allclose(fuse(inc, fwd, bwd), fuse(inc, fwd, bwd, "median"))  # the default
    with pytest.raises(ValueError, match="fusion must be one of"):
        fuse(inc, fwd, bwd, "max")


def test_tracker_batches_like_single_episodes_and_is_deterministic(tiny_dataset):
    from grm.dataset import list_episodes, open_episode

    torch.manual_seed(0)
    rm = RewardModel(GRM(GRMConfig(num_views=2, image_size=32, **TINY_MODEL)), ["corner", "gripperPOV"])
    paths = [p for p in list_episodes(tiny_dataset, tasks=["reach-v3"]) if "expert" in p.name]
    rm.set_reference_from_episode(paths[0])
    eps = [open_episode(p).frames(slice(0, 20)) for p in paths[1:3]]
    singles = [episode_progress(rm, v) for v in eps]
    tracker = ProgressTracker(rm, 2)
    batched = [tracker.reset(np.stack([e[0] for e in eps]))]
    for t in range(1, 20):
        out = tracker.step(np.stack([e[t] for e in eps]))
        batched.append(out.phi)
        fused = np.median([out.incremental, out.forward, out.backward], axis=0)  # the default fusion
        np.testing.assert_allclose(out.phi, fused.clip(0, 1), atol=1e-6)
    np.testing.assert_allclose(np.stack(batched).T, np.stack(singles), atol=1e-5)
    np.testing.assert_array_equal(episode_progress(rm, eps[0]), singles[0])
    mean = ProgressTracker(rm, 1, fusion="mean")  # the paper's average
    mean.reset(eps[0][:1])
    out = mean.step(eps[0][1:2])
    np.testing.assert_allclose(out.phi, ((out.incremental + out.forward + out.backward) / 3).clip(0, 1), atol=1e-6)
    with pytest.raises(ValueError, match="guard=true smooths the mean"):
        ProgressTracker(rm, 1, guard=True)
    with pytest.raises(ValueError, match="expected views of shape"):
        rm.encode(np.zeros((1, 3, 32, 32, 3), np.uint8))

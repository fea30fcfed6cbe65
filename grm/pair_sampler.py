"""Training batches of hop queries, built so that every computed embedding is used many times.

One batch item = one query episode + a reference demo of the same task. K frames of the
query are encoded, plus the reference START and END (goal) frames; every (before, after)
combination with `before` in {K query frames, ref START, ref END} and `after` in the K
query frames is a labelled pair: (K + 2) * K pairs for K + 2 encodings. Pairs are
weighted so hop bins and time-gap bins count equally and zero-hop pairs make ~5%.
Everything random is drawn from (seed, step, item), so the global batch does not depend
on how many processes share it (DDP splits it by items).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grm.frame_store import FrameStore
from grm.progress_labels import hop_label

GAP_EDGES = np.array([1, 3, 8, 20, 50])  # |t_after - t_before| bins; reference pairs get their own bin


@dataclass
class SamplerConfig:
    frames_per_episode: int = 8  # K
    success_share: float = 0.5  # share of items whose query episode finished the task
    same_episode_reference: float = 0.2  # probability the query episode is its own reference
    zero_hop_share: float = 0.05
    num_bins: int = 25
    shift: int = 4  # random-shift augmentation (pixels, DrQ-style pad and crop)
    brightness: float = 0.15  # per-observation brightness jitter
    view_dropout: float = 0.15  # probability an observation loses one of its views
    post_success_share: float = 0.0  # share of a finished episode's query frames drawn after its success
    inverse_share: float = 0.0  # share of items that pose the inverse task: references swapped, progress 1 - phi


@dataclass
class Batch:
    images: np.ndarray  # (B, K + 2, V, H, W, 3): K query frames, ref START, ref END
    hop: np.ndarray  # (B, K + 2, K) labels, before x after
    weight: np.ndarray  # (B, K + 2, K), each item's weights sum to 1
    view_mask: np.ndarray  # (B, K + 2, V) bool, False = view dropped
    frames: np.ndarray  # (B, K + 2) store indices of the observations


class PairSampler:
    def __init__(self, store: FrameStore, cfg: SamplerConfig, seed: int):
        self.store, self.cfg, self.seed = store, cfg, int(seed)
        self.tasks = sorted(store.by_task())
        eps = store.episodes
        self.success = {t: [i for i in idx if eps[i].success] for t, idx in store.by_task().items()}
        self.other = {t: [i for i in idx if not eps[i].success] for t, idx in store.by_task().items()}
        no_ref = [t for t in self.tasks if not self.success[t]]
        if no_ref:
            raise ValueError(f"tasks without a successful episode to serve as reference demo: {no_ref}")

    def _frames(self, rng: np.random.Generator, ep) -> np.ndarray:
        """K sorted frame indices; for finished episodes stratified over sub-tasks (equal share each)."""
        K = self.cfg.frames_per_episode
        if ep.success:
            kf = ep.keyframes
            seg = rng.integers(0, len(kf) - 1, size=K)
            t = kf[seg] + rng.random(K) * (kf[seg + 1] - kf[seg])
            t = np.where(rng.random(K) < 0.1, rng.integers(0, ep.length, size=K), t)  # anywhere, now and then
            # after success the task stays done while the arm moves on: success detection reads these frames
            if self.cfg.post_success_share > 0:  # (no draws otherwise: earlier runs stay reproducible)
                post = rng.random(K) < self.cfg.post_success_share
                t = np.where(post, rng.integers(max(ep.goal, 0), ep.length, size=K), t)
            return np.sort(np.round(t).astype(np.int64).clip(0, ep.length - 1))
        return np.sort(rng.integers(0, ep.length, size=K))

    def item(self, step: int, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        rng = np.random.default_rng([self.seed, step, index])
        eps = self.store.episodes
        task = self.tasks[rng.integers(len(self.tasks))]
        pool = self.success[task] if (rng.random() < self.cfg.success_share or not self.other[task]) else self.other[task]
        q = eps[pool[rng.integers(len(pool))]]
        refs = self.success[task]
        if q.success and (len(refs) == 1 or rng.random() < self.cfg.same_episode_reference):
            r = q
        else:
            choices = [i for i in refs if eps[i].path != q.path]
            r = eps[choices[rng.integers(len(choices))]] if choices else q
        t = self._frames(rng, q)
        start, goal = int(rng.integers(0, 3)), int(rng.integers(r.goal, r.length))
        phi_after = q.progress[t]
        # the inverse task (undo what the demo did): its START is the demo's goal, its END the demo's first
        # frame, and every frame's progress is 1 - phi. The same pixels then hop the opposite way, so only
        # the references say which way is forward: the GRM must read them instead of recognising the scene.
        if self.cfg.inverse_share > 0 and rng.random() < self.cfg.inverse_share:  # (no draws otherwise)
            frames = np.concatenate([q.offset + t, [r.offset + goal, r.offset]])
            phi_after = 1.0 - phi_after
            phi_before = np.concatenate([phi_after, [1.0 - r.progress[goal], 1.0 - r.progress[0]]])
        else:
            frames = np.concatenate([q.offset + t, [r.offset + start, r.offset + goal]])
            phi_before = np.concatenate([phi_after, [r.progress[start], 1.0]])
        gaps = np.concatenate([np.abs(t[None, :] - t[:, None]), np.full((2, len(t)), 10**6)])
        return frames, phi_before, phi_after, gaps

    def weights(self, hop: np.ndarray, gaps: np.ndarray, zero: np.ndarray) -> np.ndarray:
        hop_bin = np.clip(np.round((hop + 1) / 2 * (self.cfg.num_bins - 1)), 0, self.cfg.num_bins - 1).astype(int)
        gap_bin = np.digitize(gaps, GAP_EDGES)
        body = ~zero

        def inverse_frequency(bins: np.ndarray) -> np.ndarray:
            counts = np.bincount(bins[body], minlength=bins.max() + 1)
            return 1.0 / np.maximum(counts[bins], 1)

        w = np.where(body, np.sqrt(inverse_frequency(hop_bin) * inverse_frequency(gap_bin)), 0.0)
        w *= (1.0 - self.cfg.zero_hop_share) / w.sum()
        w[zero] = self.cfg.zero_hop_share / max(zero.sum(), 1)
        return (w / w.sum()).astype(np.float32)

    def augment(self, images: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Random shift and brightness per image, and view dropout per observation."""
        n, V, H, W, _ = images.shape
        p = self.cfg.shift
        out = images
        if p:
            padded = np.pad(images, ((0, 0), (0, 0), (p, p), (p, p), (0, 0)), mode="edge")
            dy, dx = rng.integers(0, 2 * p + 1, size=(2, n, V))
            out = np.stack([np.stack([padded[i, v, dy[i, v]:dy[i, v] + H, dx[i, v]:dx[i, v] + W] for v in range(V)])
                            for i in range(n)])
        if self.cfg.brightness:
            gain = 1.0 + rng.uniform(-self.cfg.brightness, self.cfg.brightness, size=(n, 1, 1, 1, 1))
            out = np.clip(out.astype(np.float32) * gain, 0, 255).astype(np.uint8)
        mask = np.ones((n, V), dtype=bool)
        if V > 1:
            drop = rng.random(n) < self.cfg.view_dropout
            mask[np.nonzero(drop)[0], rng.integers(0, V, size=drop.sum())] = False
        return out, mask

    def batch(self, step: int, items: range, augment: bool = True) -> Batch:
        images, hops, weights, masks, frames = [], [], [], [], []
        for i in items:
            f, pb, pa, gaps = self.item(step, i)
            h = hop_label(pb[:, None], pa[None, :])
            zero = gaps == 0  # the same frame on both sides
            hops.append(np.where(zero, 0.0, h).astype(np.float32))
            weights.append(self.weights(h, gaps, zero))
            imgs = self.store.get(f)
            mask = np.ones(imgs.shape[:2], dtype=bool)
            if augment:
                imgs, mask = self.augment(imgs, np.random.default_rng([self.seed, step, i, 1]))
            images.append(imgs)
            masks.append(mask)
            frames.append(f)
        return Batch(np.stack(images), np.stack(hops), np.stack(weights), np.stack(masks), np.stack(frames))

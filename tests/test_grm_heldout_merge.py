"""Held-out tables written by parallel processes over disjoint tasks join into one, means over all tasks."""
import json
from pathlib import Path

import pytest

from grm.evaluate import METRICS


def _part(path: Path, scores: dict[str, float]) -> str:
    per_task = {task: {m: v for m in METRICS} for task, v in scores.items()}
    path.write_text(json.dumps({"grm/one_shot/fused": {"mean": {}, "per_task": per_task}}))
    return str(path)


def test_merge_joins_disjoint_tasks_and_recomputes_means(tmp_path, load_benchmark):
    heldout = load_benchmark("grm_heldout")
    a = _part(tmp_path / "a.json", {"door-lock-v3": 0.5, "hammer-v3": 1.0})
    b = _part(tmp_path / "b.json", {"box-close-v3": 0.0})
    row = heldout.merge([a, b])["grm/one_shot/fused"]
    assert sorted(row["per_task"]) == ["box-close-v3", "door-lock-v3", "hammer-v3"]
    assert row["mean"]["success_auc"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="repeats tasks.*hammer-v3"):
        heldout.merge([a, _part(tmp_path / "c.json", {"hammer-v3": 0.0})])

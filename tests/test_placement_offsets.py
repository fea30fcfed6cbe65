"""benchmarks/placement_offsets.py: each scored episode's verdict beside its offset from the demo's end."""
import json
import sys

import numpy as np

from grm.dataset.episode_io import list_episodes, open_episode


def test_offsets_are_measured_from_the_demos_last_frame_and_sorted(tmp_path, tiny_dataset, load_benchmark, monkeypatch):
    task = "drawer-close-v3"
    scored = [p for p in list_episodes(tiny_dataset, [task]) if p.name != "expert_0000.hdf5"]
    finals = [{"episode": p.name, "kind": p.name.split("_")[0], "success": False, "final": i / 10}
              for i, p in enumerate(scored)]
    results = tmp_path / "heldout.json"
    results.write_text(json.dumps({"m/one_shot/fused": {"per_task": {task: {"episode_finals": finals}}}}))
    out = tmp_path / "offsets.json"
    monkeypatch.setattr(sys, "argv", ["placement_offsets", "--task", task, "--dataset", str(tiny_dataset),
                                      "--results", str(results), "--key", "m/one_shot/fused", "--out", str(out)])
    load_benchmark("placement_offsets").main()
    rows = json.loads(out.read_text())["episodes"]
    assert sorted(r["episode"] for r in rows) == sorted(p.name for p in scored)
    assert [r["object_offset"][0] for r in rows] == sorted(r["object_offset"][0] for r in rows)
    with open_episode(tiny_dataset / task / "expert_0000.hdf5") as demo, open_episode(scored[0]) as ep:
        expected = ep.array("obs/state")[-1][4:7] - demo.array("obs/state")[-1][4:7]
    row = next(r for r in rows if r["episode"] == scored[0].name)
    np.testing.assert_allclose(row["object_offset"], expected, atol=6e-4)
    assert row["grm_final"] == 0.0

"""Affordance labels from the tool's own calibration, and the encoder pipeline end to end."""
import json

import numpy as np

from configs.typed import compose
from envs.tweezers.scene import ObjectSpec
from envs.tweezers.tool_geometry import openings_for, tool_calibration
from policies.affordance import AffordanceConfig, train_affordance


def test_openings_grow_with_the_object_and_too_big_objects_do_not_fit():
    angles, gaps = tool_calibration()
    assert np.all(np.diff(gaps) > 0) and 0.03 < gaps[-1] < 0.045
    approach, contact = openings_for(np.array([0.005, 0.015, 0.025, 0.05]))
    assert np.all(np.diff(contact[:3]) > 0) and np.all(approach[:3] > contact[:3])
    assert np.isnan(contact[3]) and np.isnan(approach[3])
    # the y-extent a rotated box presents: its diagonal-ish span, not its width
    np.testing.assert_allclose(ObjectSpec("box", 0.02, 1.5, 0.0).extent_y(), 0.03)
    np.testing.assert_allclose(ObjectSpec("box", 0.02, 1.5, np.pi / 2).extent_y(), 0.02, atol=1e-12)


def test_encoder_trains_on_rendered_clouds_and_reports_held_out_splits(tmp_path):
    cfg = compose("tool_affordance", AffordanceConfig, [f"out={tmp_path}", "n_train=6", "n_test=3", "n_points=64",
                                                        "epochs=3", "progress=false"])
    report = train_affordance(cfg)
    for split, size in (("train", 6), ("val", 3), ("held_out_shapes", 3), ("held_out_sizes", 3)):
        r = report[split]
        graspable = r["within_tolerance"] * r["n"]  # a share of the split's graspable objects
        assert np.isfinite(r["extent_mae_mm"]) and 0 < r["n"] <= size and abs(graspable - round(graspable)) < 1e-9
    assert (tmp_path / "affordance.pt").is_file()
    assert json.loads((tmp_path / "report.json").read_text()) == json.loads(json.dumps(report))

"""Any camera rig: a robot's cameras laid onto a GRM's view slots, by name, by a mapping, or masked."""
import numpy as np
import pytest

from configs.typed import ConfigError, compose
from grm.view_slots import ViewMappingError, inputs, map_views, to_slots


def test_views_by_name_mapped_or_masked():
    slots = ["corner", "topview", "gripperPOV"]
    assert map_views(slots, ["corner", "topview", "gripperPOV", "extra"]) == slots
    assert map_views(slots, ["topview", "corner"]) == ["corner", "topview", None]  # a missing view is masked
    assert map_views(slots, ["front", "wrist"], {"corner": "front", "gripperPOV": "wrist"}) == ["front", None, "wrist"]
    with pytest.raises(ViewMappingError, match=r"feed none of the model's views .*'\+\+views=\{corner: front, "
                                               r"topview: wrist, gripperPOV: null\}'"):
        map_views(slots, ["front", "wrist"])
    with pytest.raises(ViewMappingError, match=r"'side' is not a view of this model"):
        map_views(slots, ["front"], {"side": "front"})
    with pytest.raises(ViewMappingError, match=r"views.corner='back': no such camera in the data; it has \['front'\]"):
        map_views(slots, ["front"], {"corner": "back"})


def test_frames_and_masks_laid_onto_slots():
    cameras = ["front", None, "wrist"]
    frames = np.ones((4, 2, 8, 8, 3), np.uint8)  # (B, inputs, H, W, 3)
    slots = to_slots(frames, cameras)
    assert slots.shape == (4, 3, 8, 8, 3) and slots[:, 1].max() == 0 and slots[:, [0, 2]].min() == 1
    mask = to_slots(np.ones((4, 5, 2), bool), cameras, axis=-1)
    assert mask.shape == (4, 5, 3) and not mask[..., 1].any() and mask[..., [0, 2]].all()
    assert inputs(cameras) == ["front", "wrist"]


def test_other_cameras_at_another_size_adapt_and_evaluate(tiny_grm, tmp_path):
    """A dataset whose cameras have other names (and 48 px frames, the model sees 32 px): grm-eval
    says which mapping to pass; grm-adapt with it writes a checkpoint named by the robot's cameras,
    which grm-eval then uses with no mapping."""
    from grm.checkpoint import load_model
    from grm.cli.eval import EvalConfig, job as eval_job
    from grm.dataset.collect import EnvSettings, collect
    from grm.one_shot import AdaptConfig, one_shot_config
    from grm.train import train

    data = tmp_path / "robot"
    collect(["reach-v3"], {"expert": 2, "early_stop": 1}, 0, data, EnvSettings(("topview", "behindGripper"), 48, 200),
            progress=False)
    evaluate = ["dataset=" + str(data), f"out={tmp_path / 'eval'}", "plots=false"]
    with pytest.raises(ConfigError, match=r"views=\{\}: .*feed none of the model's views \['corner', 'gripperPOV'\]; "
                                          r"map them, e.g. '\+\+views=\{corner: topview, gripperPOV: behindGripper\}'"):
        eval_job(compose("eval", EvalConfig, [f"checkpoint={tiny_grm}", *evaluate]))
    demo = data / "reach-v3" / "expert_0000.hdf5"
    settings = compose("adapt", AdaptConfig, [f"demo={demo}", "steps=2", "batch_size=2", "progress=false",
                                              "++views={corner: topview, gripperPOV: null}"])  # as documented
    assert settings.views == {"corner": "topview", "gripperPOV": None}
    adapted = train(one_shot_config(demo, tmp_path / "adapted", tiny_grm, settings, 0, None, settings,
                                    settings.views))
    assert load_model(adapted)[1] == ["topview", None]
    eval_job(compose("eval", EvalConfig, [f"checkpoint={adapted}", *evaluate]))
    assert (tmp_path / "eval" / "metrics.json").is_file()


def test_train_refuses_a_view_mapping_without_a_checkpoint(tiny_dataset, tmp_path):
    from grm.train import TrainConfig

    with pytest.raises(ConfigError, match=r"views=\{'corner': 'front'\}: maps the views of a checkpoint \(init=\)"):
        compose("train", TrainConfig, [f"datasets=[{tiny_dataset}]", f"out={tmp_path}", "++views={corner: front}"])

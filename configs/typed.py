"""Typed settings: each command's settings are one dataclass tree, registered with Hydra as the
schema of its YAML file, so the YAML gives the values, the command line overrides them, and the
object the run receives is that dataclass: no module copies keys by hand.

    @dataclass
    class RunConfig:
        episodes: int = setting(ge=1)                      # value from the YAML
        reward: str = setting(choices=lambda: MODES)

    main = command("rl", RunConfig, run)                  # the console entry point

Bad input is refused where it enters, in one line that names the key, the value and what is
allowed, with exit code 2 and nothing written (HYDRA_FULL_ERROR=1 shows the full traceback).
"""
from __future__ import annotations

import contextlib
import dataclasses
import importlib.resources
import json
import math
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from omegaconf import MISSING, OmegaConf

from configs.files import atomic_write

CONFIG_MODULE = "configs"


def package_path(spec: str) -> str:
    """`grm/pretrained/grm_multi_embodiment.pt` -> that file inside the installed package, so a default that
    names a shipped asset (`${pkg:...}` in the YAML) works from any working directory."""
    top, _, rest = spec.partition("/")
    return str(importlib.resources.files(top).joinpath(rest))


OmegaConf.register_new_resolver("pkg", package_path, replace=True)


class ConfigError(ValueError):
    """A setting that cannot be used: `key=value: what is allowed`."""

    def __init__(self, key: str, value, allowed: str):
        super().__init__(f"{key}={value!r}: {allowed}")
        self.key, self.value = key, value


_NONE = object()  # `absent` not given (None is a value a setting can have had)


def setting(default=MISSING, *, choices: Iterable | Callable | None = None, ge=None, gt=None, le=None, lt=None,
            file: str | None = None, path: str | None = None, resumable: bool = False, absent=_NONE):
    """A dataclass field with the constraints `check` enforces. `default` stays MISSING where the
    YAML gives the value (one source); `choices` may be a callable (a registry read when checked);
    `file` / `path` name what must exist there (a file / a file or folder; each item of a list),
    e.g. file="file (a GRM checkpoint: grm.pt)" refuses with "no such file (a GRM checkpoint: grm.pt)";
    `resumable` marks bookkeeping a resumed run may change (budgets, logging, progress bars);
    `absent`, on a setting added after runs were recorded, is the value that does what those runs
    did: a run with that value records no such key, so folders recorded before it still resume."""
    meta = {k: v for k, v in dict(choices=choices, ge=ge, gt=gt, le=le, lt=lt, file=file, path=path).items()
            if v is not None}
    meta["resumable"] = resumable
    if absent is not _NONE:
        meta["absent"] = absent
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _fields(obj, prefix: str = ""):
    """(dotted key, value, field metadata) of every leaf setting; then each nested object itself."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            yield from _fields(value, f"{prefix}{f.name}.")
        else:
            yield prefix + f.name, value, f.metadata


def _objects(obj):
    """Nested settings objects first, then `obj`: the order their own checks run in."""
    for f in dataclasses.fields(obj):
        if dataclasses.is_dataclass(getattr(obj, f.name)):
            yield from _objects(getattr(obj, f.name))
    yield obj


def check(obj) -> None:
    """Enforce every field's constraints with its full dotted key: values first (choices, bounds),
    then what must exist on disk, then each object's own `check()` (settings that constrain
    each other)."""
    leaves = [(k, v, m) for k, v, m in _fields(obj) if v is not None]
    for key, value, meta in leaves:
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(key, value, "must be a finite number")
        if "choices" in meta:
            options = meta["choices"]() if callable(meta["choices"]) else meta["choices"]
            if value not in options:
                raise ConfigError(key, value, f"must be one of {', '.join(map(str, options))}")
        for bound, ok, word in (("ge", lambda v, b: v >= b, ">="), ("gt", lambda v, b: v > b, ">"),
                                ("le", lambda v, b: v <= b, "<="), ("lt", lambda v, b: v < b, "<")):
            if bound in meta and not ok(value, meta[bound]):
                raise ConfigError(key, value, f"must be {word} {meta[bound]}")
    for key, value, meta in leaves:
        for kind, there in (("file", Path.is_file), ("path", Path.exists)):
            for item in (value if isinstance(value, list) else [value]) if kind in meta else ():
                if not there(Path(item)):
                    raise ConfigError(key, item, f"no such {meta[kind]}")
    for part in _objects(obj):
        own = getattr(part, "check", None)
        if callable(own):
            own()


def learned_settings(obj) -> dict:
    """The settings that decide what a run learns (every field not marked resumable), flat and
    plain: what a run folder records and a resume must match. Paths are compared as written,
    normalized (`./data/x` is `data/x`); a setting at its `absent` value is left out (it does what
    runs recorded before the setting existed did)."""
    def plain(value, meta):
        if ("file" in meta or "path" in meta) and value is not None:
            return [os.path.normpath(v) for v in value] if isinstance(value, list) else os.path.normpath(value)
        return value

    out = {key: plain(value, meta) for key, value, meta in _fields(obj) if not meta.get("resumable")}
    return _without_absent(json.loads(json.dumps(out, default=str)), obj)  # tuples -> lists, as from JSON


def _without_absent(settings: dict, obj) -> dict:
    """`settings` (flat, as recorded) less those at the `absent` value `obj`'s fields declare."""
    absent = {key: meta["absent"] for key, _, meta in _fields(obj) if "absent" in meta}
    return {k: v for k, v in settings.items() if not (k in absent and v == absent[k])}


def typed(cfg, schema: type):
    """A composed DictConfig -> the checked dataclass instance the run receives."""
    obj = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(schema), cfg))
    check(obj)
    return obj


def register(name: str, schema: type) -> None:
    """Make `<name>_schema` available to the defaults list of configs/<name>.yaml."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name=f"{name}_schema", node=schema)


def compose(name: str, schema: type, overrides: Iterable[str] = ()):
    """The typed settings a command would run with, for code that runs a command's job without its
    command line (benchmarks, tests): the same YAML, the same overrides syntax, the same checks."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    register(name, schema)
    if GlobalHydra.instance().is_initialized():  # inside a Hydra app: compose with its search path
        return typed(hydra_compose(name, overrides=list(overrides)), schema)
    with initialize_config_module(CONFIG_MODULE, version_base="1.3"):
        return typed(hydra_compose(name, overrides=list(overrides)), schema)


def _one_line(exc: BaseException) -> str:
    """The messages of an exception and its causes, as one line (OmegaConf's carry the key)."""
    parts = []
    while exc is not None:
        text = str(exc).strip().splitlines()
        line = text[0] if text else type(exc).__name__
        key = getattr(exc, "full_key", None)
        if key and key not in line:
            line += f" (key: {key})"
        if line not in parts:
            parts.append(line)
        exc = exc.__cause__
    return ": ".join(parts)


def _user_errors() -> tuple[type, ...]:
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    return (ValueError, FileNotFoundError, HydraException, OmegaConfBaseException)


def command(name: str, schema: type, job: Callable) -> Callable[[], None]:
    """The console entry point of a command: Hydra's command line (overrides, --help, --cfg job,
    --multirun) composing configs/<name>.yaml over `schema`, then `job(settings)`."""
    import hydra
    from hydra.core.hydra_config import HydraConfig

    register(name, schema)
    full = []  # whether the user asked for tracebacks (HYDRA_FULL_ERROR=1), read when main() runs

    def task(cfg) -> None:
        try:
            job(typed(cfg, schema))
        except _user_errors() as exc:
            if full[0]:
                raise
            _remove_if_empty(Path(HydraConfig.get().runtime.output_dir))  # a refused run leaves no folder
            _refuse(exc)

    task.__name__ = task.__qualname__ = name.replace("-", "_")
    hydra_task = hydra.main(config_path=f"pkg://{CONFIG_MODULE}", config_name=name, version_base="1.3")(task)

    def main() -> None:
        full[:] = [os.environ.get("HYDRA_FULL_ERROR") == "1"]
        os.environ["HYDRA_FULL_ERROR"] = "1"  # composition errors reach us instead of Hydra's printout
        try:
            hydra_task()
        except _user_errors() as exc:
            if full[0]:
                raise
            _refuse(exc)

    main.__doc__ = f"Entry point of configs/{name}.yaml."
    main.settings = (name, schema)  # what `compose` needs to check a command line without running it
    return main


def _remove_if_empty(run_dir: Path) -> None:
    """Remove the run folder Hydra made, and its empty parents below the working directory."""
    cwd = Path.cwd()
    try:
        rel = run_dir.relative_to(cwd)
    except ValueError:
        rel = None
    with contextlib.suppress(OSError):  # not empty (a partial run): keep it
        if rel is not None:
            os.removedirs(rel)
        else:
            run_dir.rmdir()


def _refuse(exc: BaseException) -> None:
    prog = Path(sys.argv[0]).name
    print(f"{prog}: error: {_one_line(exc)} (HYDRA_FULL_ERROR=1 for the traceback)", file=sys.stderr)
    sys.exit(2)


RECORD = "settings.json"


def claim_run_folder(out: str | Path, cfg, resume: bool) -> bool:
    """Record in `out/settings.json` the settings that decide what a run learns. A folder that
    holds a run with other such settings is refused, naming the keys that differ, unless
    `resume` is false: then the caller starts over there. Returns whether an earlier run with the
    same settings is there to resume."""
    out = Path(out)
    record = out / RECORD
    now = learned_settings(cfg)
    if record.is_file() and resume:
        before = _without_absent(json.loads(record.read_text()), cfg)
        differ = sorted(k for k in set(before) | set(now) if before.get(k, "<unset>") != now.get(k, "<unset>"))
        if differ:
            shown = ", ".join(f"{k}={before.get(k, '<unset>')!r} -> {now.get(k, '<unset>')!r}" for k in differ[:6])
            raise ConfigError("out", str(out), f"holds a run with other settings ({shown}"
                                               f"{', ...' if len(differ) > 6 else ''}); pass resume=false to start "
                                               f"over there, or choose another out")
        return True
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(record, lambda tmp: tmp.write_text(json.dumps(now, indent=2, sort_keys=True) + "\n"))
    return False

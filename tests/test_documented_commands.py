"""Every command the README and docs/ show still matches the code: a renamed option, a moved file or
a removed benchmark flag fails here, not in a user's shell.

Commands come from ```bash blocks and from inline code that starts with a command. A project
command (grm-*, tool-*, torchrun -m grm.cli.*) is composed with its documented overrides through
the command's own config and checks, without running it (placeholders such as `D` or
`path/to/demo.hdf5` become real tiny files); a benchmark or script must exist and accept every
`--flag` shown; `python -m` modules must import; launch files must exist. What cannot be checked here is in NOT_CHECKED,
with the reason. The commands themselves run on tiny budgets in the other tests.
"""
import re
import shlex
import tomllib
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PREFIXES = ("grm-", "tool-", "python benchmarks/", "python -m ", "bash scripts/", "torchrun ", "./setup.sh",
            "ros2 ", "OUT=")
NOT_CHECKED = {  # first words -> why this test does not check it
    "./setup.sh": "CI runs it itself (.ci/run), from a clean clone",
    "ros2 topic": "the ros2 command-line tool is not in the pip ROS 2 wheels this project installs",
    "colcon build": "tests/test_ament_package.py builds the package with colcon and checks what it installs",
}


PLACEHOLDER = re.compile(r"^(N|S|DIR|NAME|\.\.\.|\{\.\.\.\}|\[\.\.\.\]|<[^>]*>)$")  # values a reader fills in


def documented_commands() -> list[tuple[str, str, bool]]:
    """(page:line, command, whole) for every command in a ```bash block (whole: to be run as
    written) or an inline code span (a fragment in prose: it shows settings)."""
    found = []
    for page in PAGES:
        name, in_bash, pending = page.relative_to(ROOT), False, ""
        for i, line in enumerate(page.read_text().splitlines(), 1):
            if line.startswith("```"):
                in_bash = not in_bash and line.strip() in ("```bash", "```sh")
                continue
            if in_bash:
                pending += line.rstrip("\\").strip() + " "
                if not line.rstrip().endswith("\\") and pending.strip():
                    found.append((f"{name}:{i}", pending.strip(), True))
                    pending = ""
                continue
            if line.lstrip().startswith("|"):  # tables show refusals and figures (each tested where it is made)
                continue
            for span in re.findall(r"`([^`]+)`", line):  # a command, not a message that names one
                if span.startswith(PREFIXES) and " " in span and not span.split()[0].endswith(":"):
                    found.append((f"{name}:{i}", span, False))
    return found


def command_words(command: str) -> list[str]:
    """The command's words, its comment and leading environment assignments (`OUT=/tmp/x`) dropped."""
    return [w for w in shlex.split(command, comments=True) if "=" not in w or not w.split("=")[0].isupper()]


def entry_points() -> dict[str, str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]


@pytest.fixture(scope="module")
def placeholders(tiny_dataset, tiny_grm) -> dict[str, str]:
    demo = str(tiny_dataset / "drawer-close-v3" / "expert_0000.hdf5")
    return {"DATASET": str(tiny_dataset), "DEMO": demo, "GRM": str(tiny_grm)}


def substitute(overrides: list[str], fill: dict[str, str]) -> list[str]:
    """Documented stand-ins for a user's files (`D`, `A/grm.pt`, `robot_demo.hdf5`, `my_robot.yaml`)
    -> real files of the right kind; every other override is checked as written."""
    out = []
    for o in overrides:
        key, eq, value = o.partition("=")
        missing = not (ROOT / value).exists()
        if key == "datasets":
            value = f"[{fill['DATASET']}]"
        elif key == "dataset" or (key in ("demo", "src") and missing):
            value = fill["DEMO" if key == "demo" else "DATASET"]
        elif key == "checkpoint" and missing:
            value = fill["GRM"]
        elif key.endswith(".policy") and missing:
            value = "scripted:drawer-close-v3"
        elif key == "params" and missing:
            value = "configs/ros/sim_metaworld.yaml"
        out.append(key + eq + value)
    return out


def check_project_command(argv: list[str], fill: dict[str, str], whole: bool) -> None:
    """Compose the command's settings with the documented overrides: names, values and files checked."""
    from configs.typed import compose

    if argv[0] == "torchrun":
        module = argv[argv.index("-m") + 1]
        main, overrides = import_module(module).main, argv[argv.index("-m") + 2:]
    else:
        module, _, attr = entry_points()[argv[0]].partition(":")
        main, overrides = getattr(import_module(module), attr), argv[1:]
    flags = [o for o in overrides if o.startswith("-")]
    assert set(flags) <= {"--multirun", "--help"}, f"unexpected flags {flags}"
    overrides = [o for o in overrides if not o.startswith("-")]
    name, schema = main.settings
    if not whole or "..." in overrides or any(PLACEHOLDER.match(o.partition("=")[2]) for o in overrides):
        return check_names(name, schema, [o for o in overrides if o != "..."])  # a template: its names
    # a sweep (seed=0,1) composes with its first value
    overrides = [re.sub(r"^([\w.+]+)=([^\[{,]+),.*$", r"\1=\2", o) for o in overrides]
    compose(name, schema, substitute(overrides, fill))


def check_names(name: str, schema: type, overrides: list[str]) -> None:
    """Each setting a template names exists (its values are the reader's to fill in)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module
    from omegaconf import OmegaConf

    from configs.typed import CONFIG_MODULE, register

    register(name, schema)
    with initialize_config_module(CONFIG_MODULE, version_base="1.3"):
        cfg = hydra_compose(name)
    for o in overrides:
        key = o.partition("=")[0]
        if key.startswith("+"):  # adds an entry to a mapping (the mapping must exist) or picks a config group
            if "." not in key and not key.startswith("++"):
                continue
            key = key.lstrip("+").split(".")[0]
        *parents, leaf = key.split(".")
        node = OmegaConf.select(cfg, ".".join(parents)) if parents else cfg
        assert node is not None and leaf in node.keys(), f"{name} has no setting {key}"  # keys(): also ??? values


def check_script(argv: list[str]) -> None:
    path = ROOT / next(a for a in argv if a.startswith(("benchmarks/", "scripts/")))
    assert path.is_file(), f"{path.relative_to(ROOT)} does not exist"
    source = path.read_text()
    for flag in (a.split("=")[0] for a in argv if a.startswith("--")):
        assert f'"{flag}"' in source, f"{path.name} has no option {flag}"


def check_ros2(argv: list[str], points: dict[str, str]) -> None:
    """`ros2 launch <file>` (a path here), `ros2 launch <package> <file>` and `ros2 run <package> <script>`
    (the ament install, tests/test_ament_package.py): the package is ours, the file and script exist.
    Prose may name the verb alone. The launch files themselves run in tests/test_ros_grm_recorder.py."""
    from itertools import takewhile

    from hardware.launch_support import PACKAGE

    verb = argv[1]
    words = list(takewhile(lambda w: not w.startswith("-"), (w for w in argv[2:] if ":=" not in w)))
    if not words:
        return
    if verb == "launch" and len(words) == 1:
        assert (ROOT / words[0]).is_file(), f"no launch file {words[0]}"
        return
    assert words[0] == PACKAGE and len(words) == 2, f"ros2 {verb} takes the package {PACKAGE} and one name, got {words}"
    if verb == "launch":
        assert (ROOT / "launch" / words[1]).is_file(), f"no launch file launch/{words[1]}"
    else:
        assert words[1] in points, f"no console script {words[1]}"


def test_every_documented_command_is_recognized():
    """A new kind of command in the docs needs a check here (or a reason in NOT_CHECKED)."""
    points, commands = entry_points(), documented_commands()
    for where, command, _ in commands:
        argv = command_words(command)
        known = (argv[0] in points or argv[0] in ("python", "bash", "torchrun") or argv[:2] in (["ros2", "launch"], ["ros2", "run"])
                 or any(command.startswith(p) for p in NOT_CHECKED))
        assert known, f"{where}: `{command}` is not a command this test knows how to check"
    assert len(commands) > 30  # the parser found the docs' commands


def test_documented_commands_match_the_code(placeholders, monkeypatch):
    monkeypatch.chdir(ROOT)
    points, failures = entry_points(), []
    for where, command, whole in documented_commands():
        if any(command.startswith(p) for p in NOT_CHECKED):
            continue
        argv = command_words(command)
        try:
            if argv[0] in points or argv[0] == "torchrun":
                check_project_command(argv, placeholders, whole)
            elif argv[:2] == ["python", "-m"]:
                assert find_spec(argv[2]) is not None, f"no module {argv[2]}"
            elif argv[0] == "ros2":
                check_ros2(argv, points)
            else:
                check_script(argv)
        except Exception as exc:  # collect all, so one run lists every stale command
            failures.append(f"{where}: `{command}`: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    assert not failures, "\n".join(failures)

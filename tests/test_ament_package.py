"""The repository is an ament_python package: package.xml declares what the nodes import, and
`colcon build` installs the node scripts, launch files and params files where `ros2 run` and
`ros2 launch robo_dopamine_rl ...` find them, without moving pip's console scripts."""
import os
import re
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from hardware.deploy import ROLES
from hardware.launch_support import PACKAGE

ROOT = Path(__file__).parents[1]


def test_package_xml_is_format_3_and_declares_every_message_package_the_nodes_import():
    xml = ET.parse(ROOT / "package.xml").getroot()
    assert xml.get("format") == "3" and xml.findtext("name") == PACKAGE
    assert xml.find("export").findtext("build_type") == "ament_python"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert xml.findtext("version") == project["version"] and xml.findtext("license") == project["license"]["text"]
    depends = {e.text for e in xml.findall("exec_depend")}
    source = "\n".join(p.read_text() for p in (ROOT / "hardware").glob("*.py"))
    imported = set(re.findall(r"from (\w+_(?:msgs|srvs))\.", source)) | {"rclpy", "launch", "launch_ros"}
    assert imported <= depends, imported - depends
    assert "diagnostic_msgs" in imported


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """`colcon build` of the repository's files (tracked or new, not ignored) in a fresh workspace: the install prefix."""
    ws = tmp_path_factory.mktemp("ws")
    src = ws / "src" / PACKAGE
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        if (ROOT / name).is_file() and not name.startswith(("benchmarks/results/", "docs/")):
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            (src / name).write_bytes((ROOT / name).read_bytes())
    colcon = Path(sys.executable).with_name("colcon")
    proc = subprocess.run([str(colcon), "build"], cwd=ws, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return ws / "install" / PACKAGE


def test_colcon_installs_nodes_launch_files_and_params_where_ros2_looks(installed):
    share = installed / "share" / PACKAGE
    assert (installed / "share" / "ament_index" / "resource_index" / "packages" / PACKAGE).is_file()
    assert (share / "package.xml").is_file()
    assert sorted(p.name for p in (share / "launch").iterdir()) == sorted(p.name for p in (ROOT / "launch").glob("*.launch.py"))
    assert sorted(p.name for p in (share / "configs" / "ros").iterdir()) == sorted(p.name for p in (ROOT / "configs" / "ros").glob("*.yaml"))
    for _, script in ROLES.values():  # `ros2 run robo_dopamine_rl <script>` runs lib/<package>/<script>
        assert os.access(installed / "lib" / PACKAGE / script, os.X_OK), script
    # launch files started from the install name the package, so launch_ros finds those scripts
    site = next((installed / "lib").glob("python3*/site-packages"))
    probe = "from hardware.launch_support import installed_package; print(installed_package())"
    env = {**os.environ, "AMENT_PREFIX_PATH": str(installed), "PYTHONPATH": str(site)}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60, cwd=site)
    assert out.stdout.strip() == PACKAGE, out.stderr[-2000:]


def test_pip_keeps_its_console_scripts_on_path():
    """setup.cfg's script directory is for colcon only: pip's scripts stay beside the interpreter."""
    from hardware.launch_support import installed_package

    for _, script in ROLES.values():
        assert Path(sys.executable).with_name(script).is_file(), script
    assert installed_package() is None  # no ROS 2 workspace sourced: nodes are found on PATH

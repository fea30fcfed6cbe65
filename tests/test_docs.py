"""The documentation site builds with every page and link in place, and the README stays a front page."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_docs_site_builds_strictly(tmp_path):
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "site" / "method" / "index.html").is_file()


def test_readme_is_a_front_page_and_nothing_points_outside_the_repository():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    sibling = "../" + "shared"  # the workplace folder beside a checkout, which a clone does not have
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    design = "DESIGN" + ".md"  # the workplace's design notes: the repository carries its own (docs/method.md)
    outside = [f for f in tracked if (ROOT / f).suffix in (".md", ".py", ".yaml", ".sh", ".toml")
               and any(s in (ROOT / f).read_text(errors="ignore") for s in (sibling, design))]
    assert outside == [], outside

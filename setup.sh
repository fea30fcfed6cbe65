#!/usr/bin/env bash
# Create .venv and install the project with pinned dependencies (CPU-only torch first,
# so nothing pulls a multi-GB CUDA build). Safe to rerun: it reuses an existing .venv.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip==26.3 setuptools==79.0.1  # setuptools: colcon runs setup.py with it
.venv/bin/python -m pip install -q torch==2.13.0
.venv/bin/python -m pip install -q -c constraints.txt -e '.[test,robodopamine]'
# robosuite (other arms for the GRM: envs/robosuite_env.py) without its declared dependencies, which
# would downgrade numpy and add a second OpenCV; what it needs at run time is in pyproject.toml
.venv/bin/python -m pip install -q --no-deps robosuite==1.5.2
echo "setup done: $(.venv/bin/python -c 'import torch, mujoco, metaworld; print("torch", torch.__version__, "mujoco", mujoco.__version__)')"

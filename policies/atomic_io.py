"""Write a file so that a crash never leaves a half-written one in its place."""
from __future__ import annotations

import os
from pathlib import Path


def atomic_write(path: Path, write) -> None:
    """`write(tmp)` to a hidden sibling (same suffix, so savers that add one do not), then rename."""
    path = Path(path)
    tmp = path.with_name(".tmp-" + path.name)
    write(tmp)
    os.replace(tmp, path)

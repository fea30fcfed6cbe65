"""Writing files so that a crash never leaves a half-written one in place (every layer's writers)."""
from __future__ import annotations

import os
from pathlib import Path


def atomic_write(path: str | Path, write) -> None:
    """`write(tmp)` to a hidden sibling (same suffix, so savers that add one do not), then rename
    it over `path` (its folder made if missing); on failure the sibling is removed. Files get the
    usual umask permissions."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(".tmp-" + path.name)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str) -> Path:
    """A text file (a report, an index, a record), written atomically."""
    path = Path(path)
    atomic_write(path, lambda tmp: tmp.write_text(text))
    return path

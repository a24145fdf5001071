"""Generation directories of derived index files, and the CURRENT pointer that names the live one.

A commit writes ``generations/<n>/`` completely (files fsynced, then a ``DONE`` marker), commits the
catalog with ``generation = n``, then atomically replaces ``CURRENT``. A directory without ``DONE`` is
an interrupted write and is never loaded.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

DONE = "DONE"


def gen_dir(data_dir: Path, generation: int) -> Path:
    """Directory of one generation's derived files."""
    return data_dir / "generations" / f"{generation:08d}"


def fsync_dir(path: Path) -> None:
    """Flush a directory entry (new or renamed files) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(path: Path) -> None:
    """Flush every file below ``path``, then the directories themselves."""
    for root, _dirs, files in os.walk(path):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                os.fsync(f.fileno())
        fsync_dir(Path(root))


def mark_done(directory: Path, generation: int) -> None:
    """Seal a fully written generation directory."""
    fsync_tree(directory)
    atomic_write(directory / DONE, json.dumps({"generation": generation}))


def is_complete(directory: Path) -> bool:
    """True when the directory was sealed with :func:`mark_done`."""
    return (directory / DONE).is_file()


def atomic_write(path: Path, text: str) -> None:
    """Write a small file so that readers see the old or the new content, never a torn one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def remove_temp_files(data_dir: Path) -> None:
    """Delete temp files left by atomic writes that were killed before their rename (call under the lock)."""
    for tmp in data_dir.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)


def read_current(data_dir: Path) -> int | None:
    """The generation CURRENT points at, or None."""
    try:
        return int(json.loads((data_dir / "CURRENT").read_text(encoding="utf-8"))["generation"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_current(data_dir: Path, generation: int) -> None:
    """Point CURRENT at a sealed generation."""
    atomic_write(data_dir / "CURRENT", json.dumps({"generation": generation}))


def prune(data_dir: Path, keep: set[int]) -> None:
    """Remove generation directories not in ``keep`` (stale ones and interrupted writes)."""
    root = data_dir / "generations"
    if not root.is_dir():
        return
    for child in root.iterdir():
        try:
            n = int(child.name)
        except ValueError:
            continue
        if n not in keep:
            shutil.rmtree(child, ignore_errors=True)

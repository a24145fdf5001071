"""Small durable-file helpers: fsync of directories and atomic replacement of small files.

The commit protocol itself (segments sealed before the catalog transaction that publishes them) is in
``index.store``; this module only makes each file write whole or absent.
"""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Flush a directory entry (new or renamed files) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, text: str) -> None:
    """Write a small file so that readers see the old or the new content, never a torn one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def temp_files(data_dir: Path) -> list[Path]:
    """Temp files left by atomic writes killed before their rename, anywhere in the data directory."""
    return sorted(p for p in data_dir.rglob(".*.tmp") if p.is_file())


def remove_temp_files(data_dir: Path) -> None:
    """Delete temp files left by atomic writes that were killed before their rename (call under the lock)."""
    for tmp in temp_files(data_dir):
        tmp.unlink(missing_ok=True)

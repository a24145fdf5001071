"""Replace a data directory by a rebuilt copy with two renames, recoverable after a crash at any point.

The copy is built beside the directory (``NAME.reembed``) and sealed with a ``REEMBED_DONE`` file;
then ``NAME`` becomes ``NAME.reembed-old``, the copy becomes ``NAME``, the old one is deleted and the
seal removed. :func:`finish_swap`, run whenever a store opens a directory, completes an interrupted
swap (the copy was sealed) or rolls it back (it was not), so the directory is never found missing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

DONE = "REEMBED_DONE"


def new_copy(data_dir: Path) -> Path:
    """Where the rebuilt copy of ``data_dir`` is built."""
    return data_dir.with_name(data_dir.name + ".reembed")


def _old(data_dir: Path) -> Path:
    return data_dir.with_name(data_dir.name + ".reembed-old")


def seal(copy: Path) -> None:
    """Mark a finished copy: from now on a crash completes the swap instead of rolling it back."""
    tmp = copy / (DONE + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("complete\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, copy / DONE)
    _fsync_dir(copy)


def swap(data_dir: Path) -> None:
    """Put the sealed copy in place of ``data_dir`` and delete the old directory."""
    copy, old = new_copy(data_dir), _old(data_dir)
    if not (copy / DONE).is_file():
        raise RuntimeError(f"{copy} is not sealed; refusing to swap it in")
    os.rename(data_dir, old)
    os.rename(copy, data_dir)
    _fsync_dir(data_dir.parent)
    finish_swap(data_dir)


def finish_swap(data_dir: Path) -> None:
    """Complete or roll back a swap a crash interrupted; a no-op when none was under way."""
    copy, old = new_copy(data_dir), _old(data_dir)
    if not old.exists():
        return
    if not data_dir.exists():
        os.rename(copy if (copy / DONE).is_file() else old, data_dir)
        _fsync_dir(data_dir.parent)
    if (data_dir / DONE).is_file():  # the copy is in place: the old directory goes, then the seal
        shutil.rmtree(old, ignore_errors=True)
        (data_dir / DONE).unlink(missing_ok=True)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

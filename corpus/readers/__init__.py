"""Turn files and folders into Articles; every problem with the input becomes a Rejection, never an error.

``read_paths`` walks folders (sorted, hidden entries skipped), picks a reader by file extension, gives
every article a document id and rejects a second article with an id already seen in the same call.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from corpus.models import Article, Rejection
from corpus.readers.html import read_html
from corpus.readers.jsonl import read_jsonl
from corpus.readers.text import read_text

Reader = Callable[[Path, str], Iterator[Article | Rejection]]

READERS: dict[str, Reader] = {
    ".txt": read_text,
    ".md": read_text,
    ".jsonl": read_jsonl,
    ".html": read_html,
    ".htm": read_html,
}
SUPPORTED_EXTENSIONS = tuple(READERS)

__all__ = ["SUPPORTED_EXTENSIONS", "read_paths", "read_html", "read_jsonl", "read_text"]


def read_paths(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    root: str | os.PathLike[str] | None = None,
    id_prefix: str = "",
    skipped: list[str] | None = None,
) -> Iterator[Article | Rejection]:
    """Articles and Rejections from files and folders, in order (folders walked recursively, sorted).

    Document ids: a JSONL record's ``id``/``_id``, else the article's url, else the file's path relative
    to the folder argument it was found in (a file argument: its file name; POSIX separators), plus
    ``#<line>`` for JSONL records; ``id_prefix`` is put before every id. With ``root``, files under
    ``root`` are named relative to it instead. Every Article records the absolute path of its file
    (``source_path``). An id seen before in the same call gives a Rejection. Unsupported files found in
    folders are not read and their paths are appended to ``skipped``; hidden entries are skipped
    silently; a named unsupported file is rejected."""
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    seen: dict[str, str] = {}
    for arg in paths:
        if not os.fspath(arg):
            yield Rejection("", "empty path")
            continue
        for path, rel in _files(Path(arg), root, skipped):
            if isinstance(path, Rejection):
                yield path
                continue
            source_path = str(path.resolve())
            for item in _read_file(path, rel):
                if isinstance(item, Article):
                    item.doc_id = id_prefix + item.doc_id
                    item.source_path = source_path
                    first = seen.get(item.doc_id)
                    if first is not None:
                        reason = f"duplicate id {item.doc_id!r} (first seen at {first})"
                        item = Rejection(str(item.path), reason, item.line)
                    else:
                        seen[item.doc_id] = f"{item.path}:{item.line}" if item.line else str(item.path)
                yield item


def _files(
    arg: Path, root: str | os.PathLike[str] | None, skipped: list[str] | None
) -> Iterator[tuple[Path | Rejection, str]]:
    """(file, relative name) for a path argument; a Rejection in place of the file for a bad argument."""
    if arg.is_dir():
        errors: list[Rejection] = []
        unsupported: list[Path] = []
        found = sorted(_walk(arg, errors, unsupported), key=lambda p: p.relative_to(arg).as_posix())
        if skipped is not None:
            skipped.extend(sorted(str(p) for p in unsupported))
        for error in errors:
            yield error, ""
        for path in found:
            yield path, _relative(path, root) or path.relative_to(arg).as_posix()
    elif arg.is_file():
        if arg.suffix.lower() not in READERS:
            reason = f"unsupported file type {arg.suffix or '(none)'!r} (supported: {', '.join(READERS)})"
            yield Rejection(str(arg), reason), ""
        else:
            yield arg, _relative(arg, root) or arg.name
    elif arg.exists():
        yield Rejection(str(arg), "not a regular file or folder"), ""
    else:
        yield Rejection(str(arg), "no such file or folder"), ""


def _walk(folder: Path, errors: list[Rejection], unsupported: list[Path]) -> Iterator[Path]:
    """Supported, non-hidden files under ``folder``; symlinked folders are not followed (no loops).
    Folders that cannot be listed are added to ``errors``, non-hidden files of other types to
    ``unsupported``."""
    try:
        with os.scandir(folder) as it:
            entries = list(it)
    except OSError as exc:
        errors.append(Rejection(str(folder), f"cannot list folder: {exc.strerror or exc}"))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(Path(entry.path), errors, unsupported)
            elif entry.is_file():
                if os.path.splitext(entry.name)[1].lower() in READERS:
                    yield Path(entry.path)
                else:
                    unsupported.append(Path(entry.path))
        except OSError as exc:
            errors.append(Rejection(entry.path, f"cannot inspect: {exc.strerror or exc}"))


def _relative(path: Path, root: str | os.PathLike[str] | None) -> str | None:
    if root is None:
        return None
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        return None
    return Path(rel).as_posix()


def _read_file(path: Path, rel: str) -> Iterator[Article | Rejection]:
    """Run the reader for ``path``; a crash in it becomes a Rejection (the reader's own reasons are better)."""
    line = None
    try:
        for item in READERS[path.suffix.lower()](path, rel):
            line = item.line
            yield item
    except Exception as exc:  # noqa: BLE001 - input must never stop a whole run
        after = f" after line {line}" if line else ""
        yield Rejection(str(path), f"unexpected error reading file{after}: {type(exc).__name__}: {exc}")

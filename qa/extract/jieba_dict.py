"""Python jieba with its dictionaries read from a fast-loading cache (the first ask of a CLI process).

Extraction tags parts of speech with Python jieba (``jieba.posseg``), which pays twice for its dictionary
on every start: its prefix dictionary (~500,000 words and prefixes with frequencies) comes from a marshal
file, and ``import jieba.posseg`` parses ``dict.txt`` once more, line by line, for the tags. The same
three values (prefix frequencies, their total, the tags) are cached here as plain files, the keys one per
line and the values as a ``.npy`` array or lines, which ``str.split`` and ``dict(zip())`` turn into the
same dictionaries in about a third of the time. The cache is written from the dictionaries jieba itself
built (so it holds exactly what jieba would), under the policyqa cache directory, and is rebuilt when
jieba's version or its ``dict.txt`` (size, modification time) changes. jieba's algorithms are untouched:
only where its dictionaries come from differs.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np

CACHE_VERSION = 1
SOURCE_FILE = "source.json"
_lock = threading.Lock()
_loaded: tuple[Any, Any] | None = None
loaded_from: str | None = None  # "cache" or "jieba": where this process's dictionaries came from


def cache_dir() -> Path:
    """Where the cached dictionaries live: beside the model cache (``$POLICYQA_MODEL_CACHE``), else the
    user cache directory."""
    override = os.environ.get("POLICYQA_MODEL_CACHE")
    if override:
        base = Path(override).expanduser()
    else:
        import platformdirs

        base = Path(platformdirs.user_cache_dir("policyqa"))
    return base / f"jieba-dict-v{CACHE_VERSION}"


def source_key(jieba: Any) -> dict[str, Any]:
    """What the cache is built from: jieba's version and its dictionary file's path, size and mtime."""
    if jieba.dt.dictionary is None:  # the default dictionary, inside the package
        path = Path(jieba.__file__).resolve().parent / jieba.DEFAULT_DICT_NAME
    else:
        path = Path(jieba.dt.dictionary)
    st = path.stat()
    return {"cache_version": CACHE_VERSION, "jieba": getattr(jieba, "__version__", "?"), "dict": str(path),
            "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _lines(path: Path) -> list[str]:
    with open(path, encoding="utf-8", newline="") as f:  # no newline translation: lines as written
        text = f.read()
    return text.split("\n") if text else []


def _write_lines(path: Path, lines) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("\n".join(lines))


def read_cache(directory: Path, key: dict[str, Any]) -> tuple[dict[str, int], int, dict[str, str]] | None:
    """(prefix frequencies, total, word tags) from ``directory``, or None where it is missing, unreadable,
    or built from another source than ``key``."""
    try:
        meta = json.loads((directory / SOURCE_FILE).read_text(encoding="utf-8"))
        if not isinstance(meta, dict) or {k: meta.get(k) for k in key} != key:
            return None
        freq_keys = _lines(directory / "freq_keys.txt")
        freq_values = np.load(directory / "freq_values.npy", allow_pickle=False)
        tag_keys = _lines(directory / "tag_keys.txt")
        tag_values = _lines(directory / "tag_values.txt")
    except (OSError, ValueError, KeyError):
        return None
    if len(freq_keys) != len(freq_values) or len(tag_keys) != len(tag_values) or not isinstance(meta["total"], int):
        return None
    return dict(zip(freq_keys, freq_values.tolist(), strict=True)), meta["total"], dict(
        zip(tag_keys, tag_values, strict=True)
    )


def write_cache(directory: Path, key: dict[str, Any], freq: dict[str, int], total: int, tags: dict[str, str]) -> None:
    """Write the three dictionaries into ``directory`` (a temporary sibling renamed into place)."""
    for word in (*freq, *tags.values(), *tags):
        if "\n" in word or "\r" in word:  # dict.txt is one entry per line, so this cannot happen; refuse rather than misread
            raise ValueError(f"jieba dictionary entry {word!r} holds a line break; not cached")
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.tmp-", dir=directory.parent))
    try:
        _write_lines(tmp / "freq_keys.txt", freq)
        np.save(tmp / "freq_values.npy", np.fromiter(freq.values(), dtype=np.int64, count=len(freq)))
        _write_lines(tmp / "tag_keys.txt", tags)
        _write_lines(tmp / "tag_values.txt", tags.values())
        (tmp / SOURCE_FILE).write_text(json.dumps({**key, "total": total}), encoding="utf-8")
        tmp.chmod(0o755)
        if directory.exists():  # a stale build: move it aside, then put the new one in its place
            trash = Path(tempfile.mkdtemp(prefix=f".{directory.name}.trash-", dir=directory.parent))
            os.replace(directory, trash / "old")
            shutil.rmtree(trash, ignore_errors=True)
        os.replace(tmp, directory)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not directory.is_dir():
            raise


def _import_posseg_without_tags(jieba: Any) -> Any:
    """``import jieba.posseg`` with its import-time tag parse reading no lines (the tags are set after)."""
    dt = jieba.dt
    dt.get_dict_file = lambda: io.BytesIO(b"")  # instance attribute, shadows the method during the import
    try:
        import jieba.posseg as posseg
    finally:
        del dt.get_dict_file
    return posseg


def load_jieba() -> tuple[Any, Any]:
    """``(jieba, jieba.posseg)``, initialized, with the dictionaries from the cache (built on first use).

    Falls back to jieba's own loading (and then writes the cache) wherever the cache is missing, stale or
    unwritable; the resulting dictionaries are the same either way."""
    global _loaded, loaded_from
    if _loaded is None:
        with _lock:
            if _loaded is None:
                _loaded, loaded_from = _load()
    return _loaded


def _load() -> tuple[tuple[Any, Any], str]:
    import jieba

    jieba.setLogLevel(60)
    if "jieba.posseg" in sys.modules and jieba.dt.initialized:
        import jieba.posseg as posseg

        return (jieba, posseg), "jieba"
    directory = cache_dir()
    try:
        key = source_key(jieba)
    except OSError:
        key = None
    cached = read_cache(directory, key) if key and "jieba.posseg" not in sys.modules else None
    if cached is not None:
        freq, total, tags = cached
        with jieba.dt.lock:
            posseg = _import_posseg_without_tags(jieba)
            posseg.dt.word_tag_tab = tags
            jieba.dt.FREQ, jieba.dt.total = freq, total
            jieba.dt.initialized = True
        return (jieba, posseg), "cache"
    import jieba.posseg as posseg

    jieba.initialize()
    if key is not None:
        try:
            write_cache(directory, key, jieba.dt.FREQ, jieba.dt.total, posseg.dt.word_tag_tab)
        except (OSError, ValueError):
            pass  # an unwritable cache: this process has the dictionaries anyway
    return (jieba, posseg), "jieba"

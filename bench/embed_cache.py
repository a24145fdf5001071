"""An embedding cache for benchmarks: identical texts are embedded once across runs and settings.

Keyed by model name, prompt kind and the exact text, so cached vectors are those the model would give.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np


class CachingEmbedder:
    """Wraps an embedder; vectors live in a SQLite file beside the benchmark's data."""

    def __init__(self, inner, path: Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.execute("CREATE TABLE IF NOT EXISTS vec (key TEXT PRIMARY KEY, v BLOB NOT NULL)")
        self.hits = self.misses = 0

    def _key(self, kind: str, text: str) -> str:
        return hashlib.sha1(f"{self.name}\x00{kind}\x00{text}".encode()).hexdigest()

    def _encode(self, kind: str, texts: list[str], fn, **kw) -> np.ndarray:
        keys = [self._key(kind, t) for t in texts]
        found: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            q = f"SELECT key, v FROM vec WHERE key IN ({','.join('?' * len(part))})"
            for k, v in self.db.execute(q, part):
                found[k] = np.frombuffer(v, dtype="<f4")
        todo = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in found}.items())
        self.hits += len(texts) - len(todo)
        self.misses += len(todo)
        if todo:
            vecs = fn([t for _k, t in todo], **kw)
            self.db.executemany(
                "INSERT OR REPLACE INTO vec VALUES (?, ?)",
                [(k, np.asarray(v, "<f4").tobytes()) for (k, _t), v in zip(todo, vecs, strict=True)],
            )
            self.db.commit()
            found.update({k: np.asarray(v, np.float32) for (k, _t), v in zip(todo, vecs, strict=True)})
        return (
            np.stack([found[k] for k in keys]).astype(np.float32)
            if keys
            else np.zeros((0, self.dim), np.float32)
        )

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode("query", texts, self.inner.encode_queries)

    def encode_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        return self._encode("passage", texts, self.inner.encode_passages, show_progress=show_progress)

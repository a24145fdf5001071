"""Dense vector stores behind one small interface; FAISS is the built-in backend."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np


class VectorStore(Protocol):
    """Inner-product search over vectors keyed by int64 ids (the catalog's chunk row ids)."""

    def build(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def save(self, directory: Path) -> None: ...

    def load(self, directory: Path) -> None: ...

    def __len__(self) -> int: ...


class FaissVectorStore:
    """Exact inner-product search (IndexFlatIP inside IndexIDMap2), persisted with faiss.write_index."""

    FILE = "vectors.faiss"

    def __init__(self, dim: int) -> None:
        import faiss

        self._faiss = faiss
        self.dim = dim
        self.index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    def build(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Replace the contents with ``vectors`` (n x dim float32) under ``ids``."""
        self.index = self._faiss.IndexIDMap2(self._faiss.IndexFlatIP(self.dim))
        if len(ids):
            self.index.add_with_ids(
                np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64)
            )

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) for one query vector; ``allowed`` restricts the ids searched."""
        if self.index.ntotal == 0 or k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        params = None
        if allowed is not None:
            if len(allowed) == 0:
                return np.zeros(0, np.float32), np.zeros(0, np.int64)
            params = self._faiss.SearchParameters(
                sel=self._faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
            )
        k = min(k, self.index.ntotal)
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        scores, ids = self.index.search(q, k, params=params)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]

    def save(self, directory: Path) -> None:
        """Write the index file into ``directory``."""
        self._faiss.write_index(self.index, str(directory / self.FILE))

    def load(self, directory: Path) -> None:
        """Read the index file from ``directory``."""
        self.index = self._faiss.read_index(str(directory / self.FILE))
        if self.index.d != self.dim:
            raise ValueError(f"{directory / self.FILE}: dimension {self.index.d}, expected {self.dim}")

    def __len__(self) -> int:
        return int(self.index.ntotal)


VECTOR_BACKENDS = {"faiss": FaissVectorStore}


def create_vector_store(kind: str, dim: int) -> VectorStore:
    """Make an empty vector store of the named backend."""
    try:
        return VECTOR_BACKENDS[kind](dim)
    except KeyError:
        raise ValueError(f"unknown vector store {kind!r}; known: {sorted(VECTOR_BACKENDS)}") from None

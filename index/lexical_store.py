"""Lexical (BM25) stores behind one small interface; bm25s is the built-in backend."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Protocol

import numpy as np


class LexicalStore(Protocol):
    """BM25 search over token lists keyed by int64 ids (the catalog's chunk row ids)."""

    def build(self, ids: np.ndarray, token_lists: list[list[str]]) -> None: ...

    def search(
        self, tokens: list[str], k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def vocabulary(self) -> dict[str, int]: ...

    def save(self, directory: Path) -> None: ...

    def load(self, directory: Path) -> None: ...


class Bm25sLexicalStore:
    """BM25 (Lucene variant) via bm25s, saved as .npy arrays and JSON (no pickle)."""

    SUBDIR = "bm25"
    IDS = "ids.npy"
    DOC_FREQ = "doc_freq.json"

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.retriever = None
        self.ids = np.zeros(0, np.int64)
        self.doc_freq: dict[str, int] = {}

    def build(self, ids: np.ndarray, token_lists: list[list[str]]) -> None:
        """Replace the contents with one token list per id."""
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.ERROR)
        self.ids = np.asarray(ids, dtype=np.int64)
        self.doc_freq = {}
        for toks in token_lists:
            for t in set(toks):
                self.doc_freq[t] = self.doc_freq.get(t, 0) + 1
        if not len(self.ids):
            self.retriever = None
            return
        self.retriever = bm25s.BM25(k1=self.k1, b=self.b)
        self.retriever.index([list(t) or [""] for t in token_lists], show_progress=False)

    def search(
        self, tokens: list[str], k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) with a positive score; ``allowed`` restricts the ids searched."""
        known = [t for t in tokens if t in self.doc_freq]
        if self.retriever is None or not known or k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        scores = np.asarray(self.retriever.get_scores(known), dtype=np.float32)
        if allowed is not None:
            scores = np.where(np.isin(self.ids, allowed), scores, 0.0)
        candidates = np.flatnonzero(scores > 0)
        if len(candidates) > k:
            candidates = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
        order = candidates[np.argsort(-scores[candidates], kind="stable")]
        return scores[order], self.ids[order]

    def vocabulary(self) -> dict[str, int]:
        """Every indexed token with the number of chunks it occurs in."""
        return self.doc_freq

    def save(self, directory: Path) -> None:
        """Write the index under ``directory``."""
        sub = directory / self.SUBDIR
        sub.mkdir(parents=True, exist_ok=True)
        np.save(sub / self.IDS, self.ids, allow_pickle=False)
        (sub / self.DOC_FREQ).write_text(json.dumps(self.doc_freq, ensure_ascii=False), encoding="utf-8")
        if self.retriever is not None:
            self.retriever.save(str(sub), allow_pickle=False, show_progress=False)

    def load(self, directory: Path) -> None:
        """Read the index from ``directory``."""
        import bm25s

        sub = directory / self.SUBDIR
        self.ids = np.load(sub / self.IDS, allow_pickle=False)
        self.doc_freq = json.loads((sub / self.DOC_FREQ).read_text(encoding="utf-8"))
        self.retriever = (
            bm25s.BM25.load(str(sub), allow_pickle=False, load_corpus=False) if len(self.ids) else None
        )


LEXICAL_BACKENDS = {"bm25s": Bm25sLexicalStore}


def create_lexical_store(kind: str) -> LexicalStore:
    """Make an empty lexical store of the named backend."""
    try:
        return LEXICAL_BACKENDS[kind]()
    except KeyError:
        raise ValueError(f"unknown lexical store {kind!r}; known: {sorted(LEXICAL_BACKENDS)}") from None

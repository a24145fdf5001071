"""MilvusReadView: the read side of the store interface, answered by Milvus queries.

Milvus has no snapshot across calls. A view takes one read point (``MilvusStore.read_point``: a timestamp
from the server's oracle) and every call it makes guarantees that point, so each sees every write
acknowledged before the view opened (and the view waits for the server's time tick once, not per call);
the version rule (a chunk is visible only when its version is its document's committed
one) keeps a half-written or superseded version out of every answer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import cached_property

import numpy as np

from index.backend import NO_FILTER, ChunkRow, Filter, TermStats
from index.milvus import rows as R
from index.milvus.connection import CALL_TIMEOUT
from index.milvus.schema import EF_SEARCH
from index.pinyin_bridge import PinyinBridge

_EMPTY = (np.zeros(0, np.float32), np.zeros(0, np.int64))
MAX_LIMIT = 16384  # Milvus' largest topk / query window


class MilvusTermStats(TermStats):
    """Chunk frequencies read from the terms collection (kept exact by every write), cached for the view:
    one primary-key ``id in [...]`` query per query's tokens, never a count per token."""

    def __init__(self, view: MilvusReadView) -> None:
        self._view = view
        self._cache: dict[str, int] = {}

    @property
    def n_chunks(self) -> int:  # type: ignore[override]
        return self._view.n_chunks

    def prefetch(self, tokens: Iterable[str]) -> dict[str, int]:
        """Frequencies of many tokens (0 for absent ones), read together."""
        tokens = list(tokens)
        todo = [t for t in dict.fromkeys(tokens) if t not in self._cache]
        if todo:
            self._cache.update(self._view.store.term_frequencies(todo, self._view.at))
        return {t: self._cache[t] for t in tokens}

    def __getitem__(self, token: str) -> int:
        if token not in self._cache:
            self.prefetch([token])
        return self._cache[token]


class MilvusBridge(PinyinBridge):
    """The pinyin bridge over the stored token romanizations, looked up per romanized query word."""

    def __init__(self, view: MilvusReadView) -> None:
        super().__init__([])
        self._view = view
        self._looked: dict[str, list[str]] = {}

    def lookup(self, key: str) -> list[str]:
        key = key.lower()
        if key not in self._looked:
            store = self._view.store
            rows = store.client.query(store.names.terms, filter=R.both(f"key == {R.lit(key)}", "df > 0"),
                                      output_fields=["token", "df"], limit=100, timeout=CALL_TIMEOUT,
                                      **self._view.at)
            found = sorted(((int(r["df"]), r["token"]) for r in rows), reverse=True)
            self._looked[key] = [t for _df, t in found]
        return self._looked[key]

    def __len__(self) -> int:
        return len(self._looked)


class MilvusReadView:
    """Reads of one store; see the module docstring for what "consistent" means here."""

    def __init__(self, store) -> None:
        self.store = store
        self.at = store.read_point()
        self.terms = MilvusTermStats(self)
        self.bridge = MilvusBridge(self)

    @cached_property
    def generation(self) -> int:
        return int(self.store._meta(self.at).get("last_version", "0")[:20] or 0)

    @cached_property
    def n_chunks(self) -> int:
        return self.store.count(self.store.names.chunks, at=self.at)

    def dense(self, query: np.ndarray, k: int, where: Filter = NO_FILTER) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (inner product, chunk key) by HNSW, the filter evaluated inside Milvus."""
        k = min(int(k), MAX_LIMIT)
        if k <= 0:
            return _EMPTY
        store = self.store
        hits = store.client.search(
            store.names.chunks, data=[np.asarray(query, dtype=np.float32).reshape(-1).tolist()],
            anns_field="vector", limit=k, filter=R.where_expr(where), output_fields=[],
            search_params={"metric_type": "IP", "params": {"ef": max(EF_SEARCH, k)}}, timeout=CALL_TIMEOUT,
            **self.at,
        )[0]
        return _arrays([(h["distance"], h["id"]) for h in hits])

    def _idf(self, tokens: list[str]) -> dict[str, float]:
        n = self.n_chunks
        return {t: R.idf(df, n) for t, df in self.terms.prefetch(tokens).items() if df > 0}

    def lexical(self, tokens: list[str], k: int, where: Filter = NO_FILTER) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` BM25 (scores, chunk keys): stored tf weights times query-time idf."""
        k = min(int(k), MAX_LIMIT)
        idf = self._idf(tokens)
        if not idf or k <= 0:
            return _EMPTY
        counts = Counter(t for t in tokens if t in idf)
        store = self.store
        if store.sparse:
            query = R.sparse_vector({t: idf[t] * counts[t] for t in idf})
            hits = store.client.search(
                store.names.chunks, data=[query], anns_field="sparse", limit=k, filter=R.where_expr(where),
                output_fields=[], search_params={"metric_type": "IP", "params": {"drop_ratio_search": 0.0}},
                timeout=CALL_TIMEOUT, **self.at,
            )[0]
            return _arrays([(h["distance"], h["id"]) for h in hits if h["distance"] > 0])
        scores: dict[int, float] = {}
        expr = R.both(R.in_list("token", list(idf)), R.where_expr(where))
        for r in store.query_all(store.names.postings, expr, ["chunk", "token", "weight"], self.at):
            scores[r["chunk"]] = scores.get(r["chunk"], 0.0) + idf[r["token"]] * counts[r["token"]] * r["weight"]
        best = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        return _arrays([(s, c) for c, s in best if s > 0])

    def term_candidates(self, tokens: list[str], budget: int, where: Filter = NO_FILTER) -> tuple[np.ndarray, bool]:
        """Keys of chunks holding any of ``tokens``, rarest tokens first, at most ``budget``."""
        present = sorted((df, t) for t, df in self.terms.prefetch(tokens).items())
        keys: dict[int, None] = {}
        cut = False
        for df, tok in present:
            if df == 0:
                continue
            left = budget - len(keys)
            if left <= 0:
                cut = True
                break
            for key in self._holding(tok, min(MAX_LIMIT, left + len(keys)), where):
                if len(keys) >= budget:
                    cut = True
                    break
                keys.setdefault(key)
        return np.fromiter(keys, dtype=np.int64, count=len(keys)), cut

    def _holding(self, token: str, limit: int, where: Filter) -> list[int]:
        """Keys of at most ``limit`` chunks holding ``token``: its posting rows, or on corpora without
        postings a sparse search for the token's dimension alone (every chunk with a positive weight
        there; a 32-bit hash collision would add another token's chunks)."""
        store = self.store
        if store.postings:
            rows = store.client.query(
                store.names.postings, filter=R.both(f"token == {R.lit(token)}", R.where_expr(where)),
                output_fields=["chunk"], limit=limit, timeout=CALL_TIMEOUT, **self.at,
            )
            return [r["chunk"] for r in rows]
        hits = store.client.search(
            store.names.chunks, data=[{R.token_dim(token): 1.0}], anns_field="sparse", limit=limit,
            filter=R.where_expr(where), output_fields=[],
            search_params={"metric_type": "IP", "params": {"drop_ratio_search": 0.0}}, timeout=CALL_TIMEOUT,
            **self.at,
        )[0]
        return [h["id"] for h in hits if h["distance"] > 0]

    def chunks(self, keys: Iterable[int]) -> dict[int, ChunkRow]:
        """Chunk rows of committed versions, by key."""
        ids = list(dict.fromkeys(int(k) for k in keys))
        store = self.store
        rows: list[dict] = []
        fields = ["chunk_id", "doc_id", "version", "start", "end", "text", "dedup_key", "title", "date",
                  "source", "url"]
        for i in range(0, len(ids), 1000):
            rows.extend(store.client.query(store.names.chunks, filter=R.in_list("id", ids[i : i + 1000]),
                                           output_fields=fields, timeout=CALL_TIMEOUT, **self.at))
        heads = store.heads({r["doc_id"] for r in rows}, at=self.at)
        out: dict[int, ChunkRow] = {}
        for r in rows:
            if heads.get(r["doc_id"], {}).get("version") != r["version"]:
                continue
            out[int(r["id"])] = ChunkRow(int(r["id"]), r["chunk_id"], r["doc_id"], int(r["start"]), int(r["end"]),
                                         r["text"], r["dedup_key"], r["title"], r["date"] or None,
                                         r["source"] or None, r["url"] or None)
        return out

    def offsets(self, doc_ids: Iterable[str]) -> dict[str, np.ndarray]:
        """Each committed document's map from normalized to original character positions."""
        return {d: doc["offsets"] for d, doc in self.store.documents(doc_ids, self.at).items()}

    def document(self, doc_id: str) -> dict | None:
        """One committed document, or None."""
        doc = self.store.documents([doc_id], self.at).get(doc_id)
        return R.public_document(doc) if doc else None


def _arrays(pairs: list[tuple[float, int]]) -> tuple[np.ndarray, np.ndarray]:
    if not pairs:
        return _EMPTY
    return (np.asarray([p[0] for p in pairs], dtype=np.float32), np.asarray([p[1] for p in pairs], dtype=np.int64))

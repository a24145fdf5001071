"""Hybrid retrieval: dense and BM25 candidates, fused, filtered before ranking, near-duplicates collapsed."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import asdict, dataclass, field

import numpy as np

from corpus.normalize import normalize_query
from index import catalog
from index.store import Generation, Store
from index.tokenizer import tokenize_query
from qa.dedup import is_near_duplicate, shingles
from qa.fusion import FUSERS, Candidates, fuse

MODES = ("hybrid", "dense", "bm25")
MAX_K = 100


@dataclass
class Filters:
    """Restrict search to a date range (inclusive, ISO dates or prefixes) and a source (substring)."""

    since: str | None = None
    until: str | None = None
    source: str | None = None

    def bounds(self) -> tuple[str | None, str | None]:
        """Date bounds comparable with stored ISO dates: '2024' -> 2024-01-01 .. 2024-12-31."""
        since = _pad(self.since, "-01") if self.since else None
        until = _pad(self.until, "-99") if self.until else None
        return since, until


def _pad(value: str, fill: str) -> str:
    value = value.strip()
    if not re.fullmatch(r"\d{4}(-\d{1,2}){0,2}", value):
        raise ValueError(f"date filter {value!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    parts = value.split("-")
    parts = [parts[0]] + [p.zfill(2) for p in parts[1:]]
    while len(parts) < 3:
        parts.append(fill.strip("-"))
    return "-".join(parts)


@dataclass
class Hit:
    """One retrieved chunk with what a citation needs; start/end index the normalized document."""

    doc_id: str
    chunk_id: str
    score: float
    title: str
    date: str | None
    source: str | None
    url: str | None
    text: str
    start: int
    end: int
    dense: float | None = field(default=None, repr=False)  # raw cosine to the query, when dense ran

    def as_dict(self) -> dict:
        d = asdict(self)
        d.pop("dense")
        d["score"] = round(float(self.score), 6)
        return d


@dataclass
class QueryPlan:
    """The query as searched: normalized text, dense text, lexical tokens and bridged names."""

    text: str
    dense_text: str
    tokens: list[str]
    bridged: dict[str, list[str]]


def plan_query(query: str, bridge) -> QueryPlan:
    """Normalize a query and bridge romanized names to the corpus' Chinese words."""
    text = normalize_query(query).strip()
    bridged = bridge.expand(text) if bridge is not None else {}
    dense_text = text
    tokens = tokenize_query(text)
    for word, targets in bridged.items():
        dense_text = dense_text.replace(word, f"{targets[0]}({word})" if targets else word)
        lowered = set(word.lower().split())
        tokens = [t for t in tokens if t not in lowered]
        tokens.extend(targets[:3])
    return QueryPlan(text, dense_text, tokens, bridged)


@dataclass
class Retrieval:
    """One search read from one snapshot: hits, the query as planned, the searched generation's BM25
    statistics and, when asked for, each hit document's offset map (normalized -> original)."""

    hits: list[Hit]
    plan: QueryPlan
    vocabulary: dict[str, int]  # chunks holding each token
    n_chunks: int
    offsets: dict[str, np.ndarray] = field(default_factory=dict)


class Searcher:
    """Searches one store; safe to share between threads."""

    def __init__(self, store: Store, fuser: str = "hybrid", depth: int = 100) -> None:
        if fuser not in FUSERS:
            raise ValueError(f"unknown fusion {fuser!r}; known: {sorted(FUSERS)}")
        self.store = store
        self.fuser = fuser
        self.depth = depth

    def search(self, query: str, k: int = 10, filters: Filters | None = None, mode: str = "hybrid") -> list[Hit]:
        """Top ``k`` chunks for ``query``; raises ValueError for bad arguments."""
        return self.retrieve(query, k, filters, mode).hits

    def retrieve(
        self, query: str, k: int = 10, filters: Filters | None = None, mode: str = "hybrid", offsets: bool = False
    ) -> Retrieval:
        """As :meth:`search`, with the query plan and lexical statistics of the same snapshot (and the
        hit documents' offset maps when ``offsets``), so an answer never mixes two generations."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        k = max(1, min(int(k), MAX_K))
        with self.store.read() as (conn, gen):
            cands, rows, plan = self._gather(conn, gen, query, filters, max(self.depth, 4 * k), mode)
            hits = _collapse(fuse(cands, self.fuser if mode == "hybrid" else mode), rows, k, cands.dense)
            maps = catalog.document_offsets(conn, [h.doc_id for h in hits]) if offsets else {}
            return Retrieval(hits, plan, gen.lexical.vocabulary(), len(gen.lexical.ids), maps)

    def candidates(
        self, query: str, filters: Filters | None = None, depth: int | None = None, mode: str = "hybrid"
    ) -> tuple[Candidates, dict[int, catalog.ChunkRow]]:
        """Each retriever's scored candidates and their catalog rows, read from one snapshot."""
        with self.store.read() as (conn, gen):
            cands, rows, _plan = self._gather(conn, gen, query, filters, depth or self.depth, mode)
        return cands, rows

    def _gather(
        self, conn: sqlite3.Connection, gen: Generation, query: str, filters: Filters | None, depth: int, mode: str
    ) -> tuple[Candidates, dict[int, catalog.ChunkRow], QueryPlan]:
        if not query or not query.strip():
            raise ValueError("query is empty")
        since, until = (filters or Filters()).bounds()
        allowed = catalog.filtered_chunk_ids(conn, since, until, filters.source if filters else None)
        plan = plan_query(query, gen.bridge)
        cands = Candidates()
        if mode in ("hybrid", "dense") and len(gen.vectors):
            qvec = self.store.embedder.encode_queries([plan.dense_text])[0]
            cands.dense = _as_dict(*gen.vectors.search(qvec, depth, allowed))
        if mode in ("hybrid", "bm25"):
            cands.lexical = _as_dict(*gen.lexical.search(plan.tokens, depth, allowed))
        rows = catalog.chunk_rows(conn, list(set(cands.dense) | set(cands.lexical)))
        cands.rare = _rare_term_coverage(plan, rows, gen.lexical.vocabulary(), len(gen.lexical.ids))
        return cands, rows, plan


def _as_dict(scores: np.ndarray, ids: np.ndarray) -> dict[int, float]:
    return {int(i): float(s) for s, i in zip(scores, ids, strict=True)}


def _rare_term_coverage(plan: QueryPlan, rows: dict, vocab: dict[str, int], n_chunks: int) -> dict[int, float]:
    """Share of the query's rare terms (names of firms, parks, places) found verbatim in each chunk."""
    limit = max(3, 0.01 * n_chunks)
    rare = {t for t in plan.tokens if len(t) >= 2 and 0 < vocab.get(t, 0) <= limit}
    if not rare:
        return {}
    return {
        i: sum(t in (row.title + row.text).lower() for t in rare) / len(rare) for i, row in rows.items()
    }


def _collapse(fused: list[tuple[int, float]], rows: dict, k: int, dense: dict[int, float]) -> list[Hit]:
    """The top ``k`` hits, each near-duplicate of a better one (a reposted passage) left out."""
    hits: list[Hit] = []
    seen: set[str] = set()
    kept: list[frozenset[str]] = []
    for chunk, score in fused:
        row = rows.get(chunk)
        if row is None or row.dedup_key in seen:
            continue
        grams = shingles(row.text)
        if is_near_duplicate(grams, kept):
            continue
        seen.add(row.dedup_key)
        kept.append(grams)
        hits.append(
            Hit(row.doc_id, row.chunk_id, float(score), row.title, row.date, row.source, row.url, row.text,
                row.start, row.end, dense.get(chunk))
        )
        if len(hits) == k:
            break
    return hits

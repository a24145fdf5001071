"""Hybrid retrieval: dense and BM25 candidates, fused, filtered before ranking, near-duplicates collapsed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

import numpy as np

from corpus.normalize import normalize_query
from index.backend import ChunkRow, Filter, ReadView, StoreBackend
from index.tokenizer import tokenize_query
from qa import fusion, overlap
from qa.dedup import is_near_duplicate, shingles
from qa.errors import NoDocumentsError
from qa.extract.cedict import translate, translate_terms
from qa.fusion import FUSERS, Candidates, fuse

MODES = ("hybrid", "dense", "bm25")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
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

    def where(self) -> Filter:
        """The filter as the store takes it (dates padded to full bounds)."""
        since, until = self.bounds()
        return Filter(since, until, self.source or None)


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
    """The query as searched: normalized text, dense text, lexical tokens, bridged names and, for English
    words, their Chinese translations that the corpus holds (``{word or phrase: [(Chinese, weight)]}``)."""

    text: str
    dense_text: str
    tokens: list[str]
    bridged: dict[str, list[str]]
    translated: dict[str, list[tuple[str, float]]] = field(default_factory=dict)


def plan_query(query: str, bridge, vocab: Mapping[str, int] | None = None) -> QueryPlan:
    """Normalize a query and bridge romanized names to the corpus' Chinese words; with ``vocab`` (the
    snapshot's term statistics) the other words of an English query join the lexical tokens through
    CC-CEDICT (qa/extract/cedict.py: translations the corpus holds, a few per word); a Chinese query's
    Latin words are names (Tesla, BYD) and stay as they are."""
    text = normalize_query(query).strip()
    bridged = bridge.expand(text) if bridge is not None else {}
    english = vocab is not None and re.search("[A-Za-z]", text) and not _HAN.search(text)
    dense_text = text
    for word, targets in bridged.items():  # the dense text the not-found thresholds were calibrated on
        dense_text = dense_text.replace(word, f"{targets[0]}({word})" if targets else word)
    if english:  # a word the dictionary translates is English, not a romanized name ("take" is not 塔克)
        bridged = {w: t for w, t in bridged.items() if " " in w or not translate(w, vocab)}
    tokens = tokenize_query(text)
    for word, targets in bridged.items():
        lowered = set(word.lower().split())
        tokens = [t for t in tokens if t not in lowered]
        tokens.extend(targets[:3])
    translated: dict[str, list[tuple[str, float]]] = {}
    if english:
        names = {w for word in bridged for w in word.lower().split()}
        translated = translate_terms(text, vocab, getattr(vocab, "n_chunks", 0), names=names)
        tokens.extend(dict.fromkeys(w for zh in translated.values() for w, _ in zh if w not in tokens))
    return QueryPlan(text, dense_text, tokens, bridged, translated)


class TermCounts(Mapping[str, int]):
    """Chunk frequencies of the tokens one answer needs, read from the snapshot its hits came from.

    Only the tokens resolved inside the snapshot are held; any other token counts as absent (0), so
    callers name every token they will ask about (see ``Searcher.retrieve(terms=...)``).
    """

    def __init__(self, counts: dict[str, int], n_chunks: int) -> None:
        self._counts = counts
        self.n_chunks = n_chunks

    def __getitem__(self, token: str) -> int:
        return self._counts.get(token, 0)

    def get(self, token: str, default: int | None = 0) -> int | None:  # type: ignore[override]
        n = self._counts.get(token, 0)
        return n if n else default

    def __contains__(self, token: object) -> bool:
        return bool(self._counts.get(token, 0)) if isinstance(token, str) else False

    def __iter__(self) -> Iterator[str]:
        return (t for t, n in self._counts.items() if n)

    def __len__(self) -> int:
        return sum(1 for n in self._counts.values() if n)


def resolve_terms(view: ReadView, tokens: Iterable[str]) -> TermCounts:
    """Frequencies of ``tokens`` in the view's snapshot, fetched together where the view can."""
    tokens = list(dict.fromkeys(tokens))
    prefetch = getattr(view.terms, "prefetch", None)
    counts = prefetch(tokens) if prefetch else {t: view.terms[t] for t in tokens}
    return TermCounts(dict(counts), view.n_chunks)


@dataclass
class Retrieval:
    """One search read from one snapshot: hits, the query as planned, the searched snapshot's term
    statistics (for the plan's tokens and the ``terms`` asked for) and, when asked for, each hit
    document's offset map (normalized -> original)."""

    hits: list[Hit]
    plan: QueryPlan
    terms: TermCounts  # chunks holding each token
    n_chunks: int
    offsets: dict[str, np.ndarray] = field(default_factory=dict)


class Searcher:
    """Searches one store; safe to share between threads."""

    def __init__(self, store: StoreBackend, fuser: str = "hybrid", depth: int = 100) -> None:
        if fuser not in FUSERS:
            raise ValueError(f"unknown fusion {fuser!r}; known: {sorted(FUSERS)}")
        self.store = store
        self.fuser = fuser
        self.depth = depth

    @contextmanager
    def snapshot(self) -> Iterator[ReadView]:
        """``with searcher.snapshot() as view:`` the store's read view; NoDocumentsError when it holds no
        chunks (read from the view's own count: no read of its own, nothing embedded)."""
        with self.store.read() as view:
            if not view.n_chunks:
                raise NoDocumentsError(self.store.location)
            yield view

    def search(self, query: str, k: int = 10, filters: Filters | None = None, mode: str = "hybrid") -> list[Hit]:
        """Top ``k`` chunks for ``query``; raises ValueError for bad arguments, NoDocumentsError on an
        empty store."""
        return self.retrieve(query, k, filters, mode).hits

    def retrieve(
        self,
        query: str,
        k: int = 10,
        filters: Filters | None = None,
        mode: str = "hybrid",
        offsets: bool = False,
        terms: Callable[[QueryPlan], Iterable[str]] | None = None,
    ) -> Retrieval:
        """As :meth:`search`, with the query plan and term statistics of the same snapshot (for the plan's
        tokens and those ``terms(plan)`` names; the hit documents' offset maps when ``offsets``), so an
        answer never mixes two commits."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        k = max(1, min(int(k), MAX_K))
        how = self.fuser if mode == "hybrid" else mode
        with self.snapshot() as view:
            cands, plan = self._scored(view, query, filters, max(self.depth, 4 * k), mode)
            rows = _RowReader(view)
            if _uses_rare(how):
                _score_rare(view, cands, plan, rows)
            hits = _collapse(fuse(cands, how), rows, k, cands.dense)
            maps = view.offsets([h.doc_id for h in hits]) if offsets else {}
            wanted = list(plan.tokens) + list(terms(plan) if terms else [])
            return Retrieval(hits, plan, resolve_terms(view, wanted), view.n_chunks, maps)

    def candidates(
        self, query: str, filters: Filters | None = None, depth: int | None = None, mode: str = "hybrid"
    ) -> tuple[Candidates, dict[int, ChunkRow]]:
        """Each retriever's scored candidates and their chunk rows, read from one snapshot."""
        with self.snapshot() as view:
            cands, rows, _plan = self._gather(view, query, filters, depth or self.depth, mode)
        return cands, rows

    def _gather(
        self, view: ReadView, query: str, filters: Filters | None, depth: int, mode: str
    ) -> tuple[Candidates, dict[int, ChunkRow], QueryPlan]:
        cands, plan = self._scored(view, query, filters, depth, mode)
        rows = _RowReader(view)
        _score_rare(view, cands, plan, rows)
        return cands, rows.rows, plan

    def _scored(
        self, view: ReadView, query: str, filters: Filters | None, depth: int, mode: str
    ) -> tuple[Candidates, QueryPlan]:
        """Each retriever's scored candidates (no chunk rows read yet) and the query plan."""
        if not query or not query.strip():
            raise ValueError("query is empty")
        where = (filters or Filters()).where()
        plan = plan_query(query, view.bridge, view.terms)
        cands = Candidates()
        encoding = None
        if mode in ("hybrid", "dense") and view.n_chunks:
            embedder, text = self.store.embedder, plan.dense_text

            def encode() -> np.ndarray:
                return embedder.encode_queries([text])[0]

            # The query encodes on a spare thread while this one scores its terms (see qa.overlap).
            encoding = overlap.start(encode) if mode == "hybrid" else overlap.Pending(encode)
        if mode in ("hybrid", "bm25"):
            cands.lexical = _as_dict(*view.lexical(plan.tokens, depth, where))
        if encoding is not None:
            cands.dense = _as_dict(*view.dense(encoding.result(), depth, where))
        return cands, plan


def _score_rare(view: ReadView, cands: Candidates, plan: QueryPlan, rows: _RowReader) -> None:
    """Read every candidate's row and set ``cands.rare``: the rare-term signal needs their texts."""
    rows.fetch(set(cands.dense) | set(cands.lexical))
    cands.rare = _rare_term_coverage(plan, rows.rows, resolve_terms(view, plan.tokens), view.n_chunks)


def _uses_rare(how: str) -> bool:
    """Whether the fusion ``how`` reads the rare-term signal (the hybrid fusion with a nonzero bonus)."""
    return how == "hybrid" and fusion.HYBRID_WEIGHTS.rare != 0


class _RowReader:
    """Chunk rows of one snapshot, read on demand in batches: a search reads the rows of the hits it
    returns (and of the near-duplicates it skips on the way), not of every candidate."""

    def __init__(self, view: ReadView) -> None:
        self.view = view
        self.rows: dict[int, ChunkRow] = {}
        self._asked: set[int] = set()

    def fetch(self, keys: Iterable[int]) -> None:
        """Read the rows of ``keys`` not read yet, in one call to the view."""
        todo = [int(key) for key in keys if key not in self._asked]
        if todo:
            self._asked.update(todo)
            self.rows.update(self.view.chunks(todo))

    def ranked(self, fused: list[tuple[int, float]], first: int) -> Iterator[tuple[int, float, ChunkRow | None]]:
        """``fused`` in order with each chunk's row (None when the snapshot has none); reads ``first``
        rows ahead, then twice as many each time the reader runs out."""
        batch, start = max(1, first), 0
        for i, (chunk, score) in enumerate(fused):
            if i >= start:
                self.fetch(c for c, _s in fused[i : i + batch])
                start, batch = i + batch, 2 * batch
            yield chunk, score, self.rows.get(chunk)


def _as_dict(scores: np.ndarray, ids: np.ndarray) -> dict[int, float]:
    return {int(i): float(s) for s, i in zip(scores, ids, strict=True)}


def _rare_term_coverage(plan: QueryPlan, rows: dict, vocab: Mapping[str, int], n_chunks: int) -> dict[int, float]:
    """Share of the query's rare terms (names of firms, parks, places) found verbatim in each chunk."""
    limit = max(3, 0.01 * n_chunks)
    rare = {t for t in plan.tokens if len(t) >= 2 and 0 < vocab.get(t, 0) <= limit}
    if not rare:
        return {}
    return {
        i: sum(t in (row.title + row.text).lower() for t in rare) / len(rare) for i, row in rows.items()
    }


def _collapse(fused: list[tuple[int, float]], rows: _RowReader, k: int, dense: dict[int, float]) -> list[Hit]:
    """The top ``k`` hits, each near-duplicate of a better one (a reposted passage) left out."""
    hits: list[Hit] = []
    seen: set[str] = set()
    kept: list[frozenset[str]] = []
    for chunk, score, row in rows.ranked(fused, 2 * k):
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

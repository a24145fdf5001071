"""The local store: one data directory holding the catalog, immutable segments, config and the writer lock.

A write costs what its batch costs. Embedding and tokenizing happen before the lock is taken; under
the lock a commit (1) inserts the batch's rows into the catalog, tombstones the chunks it replaces or
deletes and updates the corpus-global term statistics, (2) writes the batch's vectors and postings as
one new segment directory and seals it, (3) commits the catalog transaction, which also publishes the
new live set of segments (the ``segments`` table). A kill before (3) leaves an unreferenced segment
directory, removed by the next open; after (3) everything is durable. No step reads the rest of the
corpus. A tiered merge policy then combines small segments (each merge is its own commit of the same
shape), so a row is rewritten O(log N) times over the life of the store.

Readers never lock: each read runs inside one SQLite read transaction and uses exactly the segments,
tombstones and statistics that transaction sees.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from corpus.models import Chunk
from corpus.prepare import Document
from index import catalog, segments
from index.backend import (
    NO_FILTER,
    ChunkRow,
    Filter,
    StoredDocument,
    StoreError,
    TermStats,
    WriterBusyError,
    WriteResult,
)
from index.blas import one_blas_thread
from index.chunk_vectors import embed_documents, embed_text, embeddings_for
from index.dir_swap import finish_swap
from index.embedder import Embedder, EmbedderSpec, create_embedder, embed_threads
from index.generations import atomic_write, remove_temp_files
from index.pinyin_bridge import PinyinBridge, romanize
from index.segments import Segment
from index.tokenizer import tokenize

__all__ = ["Store", "StoreError", "WriterBusyError", "WriteResult", "LocalView", "dedup_key"]

CONFIG = "config.json"
LOCK = "write.lock"
DEFAULT_LOCK_TIMEOUT = 30.0  # seconds; $POLICYQA_LOCK_TIMEOUT overrides
MERGE_FACTOR = 8  # segments of one size class merged at a time
READ_RETRIES = 5  # a snapshot whose merged-away segment was removed before it loaded is retaken


def dedup_key(text: str) -> str:
    """Key under which near-identical chunks (same characters, other spacing/punctuation) collapse."""
    core = re.sub(r"[\W_]+", "", text.lower())
    return hashlib.sha1(core.encode("utf-8")).hexdigest()[:16]


class Store:
    """One policyqa data directory (implements :class:`index.backend.StoreBackend`)."""

    def __init__(
        self,
        data_dir: Path | str,
        embedder: EmbedderSpec | None = None,
        ann_min: int = segments.ANN_MIN,
        merge_factor: int | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).expanduser()
        finish_swap(self.data_dir)  # an interrupted `policyqa reembed` is completed or rolled back first
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.location = str(self.data_dir)
        self.config = self._load_config(embedder)
        self.spec = EmbedderSpec.from_dict(self.config["embedder"])
        self.ann_min = ann_min
        self.merge_factor = merge_factor or _env_int("POLICYQA_MERGE_FACTOR", MERGE_FACTOR)
        self._embedder: Embedder | None = None
        self._embedder_lock = threading.Lock()
        self._local = threading.local()
        self._segments: dict[int, Segment] = {}
        self._masks: dict[tuple[int, int], np.ndarray | None] = {}
        self._seg_lock = threading.Lock()
        self.lock = FileLock(str(self.data_dir / LOCK))
        with _Closing(catalog.connect(self.data_dir / "catalog.sqlite")) as conn:
            if self._needs_repair(conn):
                self._try_recover()

    def _needs_repair(self, conn) -> bool:
        """Whether a crash left something behind (temp files, unpublished segment directories): cheap,
        it lists the data directory and the segments directory, nothing else."""
        if any(self.data_dir.glob(".*.tmp")):
            return True
        root = self.data_dir / "segments"
        if not root.is_dir():
            return False
        keep = self._kept_segments(conn)
        return any(child.name.isdigit() and int(child.name) not in keep for child in root.iterdir())

    @staticmethod
    def _kept_segments(conn) -> set[int]:
        live = {s for s, _n, _d in catalog.manifest(conn)}
        return live | set(json.loads(catalog.get_meta(conn, "retired", "[]")))

    def _try_recover(self) -> None:
        try:
            self.lock.acquire(timeout=0)
        except Timeout:
            return  # a writer is at work; it leaves a consistent state behind
        try:
            self.recover()
        finally:
            self.lock.release()

    # ----- configuration -------------------------------------------------------------------
    def _load_config(self, requested: EmbedderSpec | None) -> dict:
        path = self.data_dir / CONFIG
        if path.is_file():
            try:
                config = json.loads(path.read_text(encoding="utf-8"))
                stored = EmbedderSpec.from_dict(config["embedder"])
            except (ValueError, KeyError, TypeError, AttributeError) as e:
                raise StoreError(f"{path}: unreadable config ({e})") from e
            if requested is not None and stored != requested:
                raise StoreError(spec_mismatch(self.data_dir, stored, requested))
            return config
        spec = requested or EmbedderSpec()
        try:
            spec.validate()
        except ValueError as e:
            raise StoreError(f"{self.data_dir}: {e}") from e
        config = {"embedder": spec.as_dict(), "layout": "segments", "vector_store": "faiss", "lexical": "bm25"}
        atomic_write(path, json.dumps(config, indent=2))
        return config

    def use_embedder(self, embedder: Embedder) -> None:
        """Use this embedder instance (e.g. one wrapped in a cache) instead of building one."""
        self._embedder = embedder

    @property
    def model_loaded(self) -> bool:
        """Whether the embedder has been loaded in this process."""
        return self._embedder is not None

    @property
    def embedder(self) -> Embedder:
        """The embedder, loaded on first use: once per store, under a lock (a query arriving during the
        server's background warm-up waits for that load instead of starting a second one)."""
        if self._embedder is None:
            with self._embedder_lock:
                if self._embedder is None:
                    self._embedder = create_embedder(self.spec)
        return self._embedder

    # ----- connections ---------------------------------------------------------------------
    def _conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = catalog.connect(self.data_dir / "catalog.sqlite")
        return conn

    def close(self) -> None:
        """Close this thread's catalog connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # ----- reads ---------------------------------------------------------------------------
    def stats(self) -> dict:
        """Counts and state of the data directory."""
        conn = self._conn()
        docs = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
        return {
            "data_dir": str(self.data_dir),
            "documents": docs,
            "chunks": catalog.meta_int(conn, "n_chunks"),
            "generation": catalog.generation(conn),
            "commits": catalog.meta_int(conn, "commits"),
            "segments": len(catalog.manifest(conn)),
            "embedder": self.spec.as_dict(),
        }

    def list_documents(self, limit: int | None = None, offset: int = 0) -> list[dict]:
        """Documents' metadata, newest date first."""
        q = (
            "SELECT d.doc_id, d.title, d.date, d.source, d.url, d.path, length(d.normalized) AS chars, "
            "(SELECT count(*) FROM chunks c WHERE c.doc_id = d.doc_id) AS chunks "
            "FROM documents d ORDER BY d.date DESC, d.doc_id LIMIT ? OFFSET ?"
        )
        rows = self._conn().execute(q, (-1 if limit is None else limit, offset))
        return [dict(r) for r in rows]

    def get_document(self, doc_id: str) -> dict | None:
        """One document with its original and normalized text, or None."""
        return _document(self._conn(), doc_id)

    def document_ids(self) -> list[str]:
        """Every stored document id, sorted."""
        return [r[0] for r in self._conn().execute("SELECT doc_id FROM documents ORDER BY doc_id")]

    def export(self, doc_ids: Iterable[str]) -> list[StoredDocument]:
        """The stored documents among ``doc_ids`` (in that order) with their chunk vectors, read from one
        snapshot: catalog rows and the segment rows their ``segment`` column names."""
        ids = list(dict.fromkeys(doc_ids))
        out: list[StoredDocument] = []
        with self.read() as view:
            conn = view._conn
            by_segment = {seg.id: seg for seg, _live in view.segments}
            for doc_id in ids:
                row = conn.execute(
                    "SELECT doc_id, title, date, source, url, path, source_path, original, normalized, offsets, "
                    "body_start, raw, content_hash, added_at, updated_at FROM documents WHERE doc_id = ?",
                    (doc_id,),
                ).fetchone()
                if row is None:
                    continue
                chunks = conn.execute(
                    "SELECT id, chunk_id, position, start, end, text, segment FROM chunks WHERE doc_id = ? "
                    "ORDER BY position", (doc_id,),
                ).fetchall()
                vectors = np.zeros((len(chunks), self._dim(by_segment)), np.float32)
                for i, c in enumerate(chunks):
                    seg = by_segment.get(c["segment"])
                    pos = int(np.searchsorted(seg.arrays.ids, c["id"])) if seg is not None else -1
                    if seg is None or pos >= seg.n or int(seg.arrays.ids[pos]) != c["id"]:
                        raise StoreError(f"{self.data_dir}: chunk {c['chunk_id']} has no vector in segment "
                                         f"{c['segment']}; the data directory is damaged")
                    vectors[i] = seg.arrays.vectors[pos]
                doc = Document(
                    doc_id=row["doc_id"], title=row["title"], date=row["date"], source=row["source"],
                    url=row["url"], original=row["original"], text=row["normalized"],
                    offsets=np.frombuffer(row["offsets"], dtype="<i8").astype(np.int64),
                    body_start=row["body_start"], content_hash=row["content_hash"],
                    chunks=[Chunk(c["chunk_id"], doc_id, c["position"], c["start"], c["end"], c["text"])
                            for c in chunks],
                    raw=row["raw"], path=row["path"], source_path=row["source_path"],
                    added_at=row["added_at"], updated_at=row["updated_at"],
                )
                out.append(StoredDocument(doc, vectors))
        return out

    def _dim(self, by_segment: dict[int, Segment]) -> int:
        for seg in by_segment.values():
            return int(seg.arrays.vectors.shape[1])
        return 0

    @contextlib.contextmanager
    def read(self) -> Iterator[LocalView]:
        """``with store.read() as view:`` one consistent snapshot (catalog rows, segments, statistics)."""
        conn = self._conn()
        for attempt in range(READ_RETRIES):
            conn.execute("BEGIN")
            try:
                view = LocalView(self, conn)
            except FileNotFoundError:  # merged away and removed before this reader loaded it
                conn.execute("COMMIT")
                if attempt == READ_RETRIES - 1:
                    raise
                continue
            try:
                yield view
            finally:
                conn.execute("COMMIT")
            return

    def _segment(self, segment: int) -> Segment:
        with self._seg_lock:
            seg = self._segments.get(segment)
            if seg is None:
                seg = self._segments[segment] = Segment(segment, segments.seg_dir(self.data_dir, segment))
            return seg

    def _live_mask(self, conn, seg: Segment, deleted: int) -> np.ndarray | None:
        key = (seg.id, deleted)
        with self._seg_lock:
            if key in self._masks:
                return self._masks[key]
        mask = seg.live_mask(catalog.tombstones(conn, seg.id)) if deleted else None
        with self._seg_lock:
            self._masks[key] = mask
        return mask

    def _forget(self, live: set[int]) -> None:
        """Drop cached segments and masks no longer published (their files may go)."""
        with self._seg_lock:
            for s in [s for s in self._segments if s not in live]:
                del self._segments[s]
            for key in [k for k in self._masks if k[0] not in live]:
                del self._masks[key]

    # ----- writes --------------------------------------------------------------------------
    def plan(self, docs: Iterable[Document], replace: bool = False) -> tuple[list[Document], WriteResult]:
        """Split documents into those that need writing and those unchanged, duplicates or conflicting
        with a stored document of the same id from another source file (unless ``replace``)."""
        return _plan(self._conn(), docs, replace)

    def embed(self, docs: list[Document], show_progress: bool = False) -> list[np.ndarray]:
        """Embeddings of every chunk of each document (title kept with each chunk)."""
        return embed_documents(lambda: self.embedder, docs, lambda: self.embedder.dim, show_progress)

    def write(
        self,
        docs: list[Document],
        embeddings: list[np.ndarray] | None = None,
        delete: Iterable[str] = (),
        lock_timeout: float | None = None,
        replace: bool = False,
    ) -> WriteResult:
        """Commit documents (upserts by doc_id) and deletions as one unit; returns what changed.

        Embedding and tokenizing happen before the write lock is taken; the lock wait is bounded by
        ``lock_timeout`` (default ``$POLICYQA_LOCK_TIMEOUT``, else 30 s). Merges the commit makes due
        run after it, under the same lock hold.
        """
        todo, result = self.plan(docs, replace)
        if embeddings is None:
            embeddings = self.embed(todo)
        else:
            embeddings = embeddings_for(docs, embeddings, todo)
        delete = list(delete)
        if not todo and not delete:
            return result
        tokens = {d.doc_id: [tokenize(embed_text(d.title, c.text)) for c in d.chunks] for d in todo}
        vectors = {d.doc_id: np.asarray(e, np.float32) for d, e in zip(todo, embeddings, strict=True)}
        timeout = lock_timeout if lock_timeout is not None else _lock_timeout()
        try:
            self.lock.acquire(timeout=timeout)
        except Timeout:
            raise WriterBusyError(
                f"another writer holds {self.data_dir / LOCK}; gave up after {timeout:.0f}s"
            ) from None
        try:
            self._commit(todo, tokens, vectors, delete, result, replace)
            self.merge()
        finally:
            self.lock.release()
        return result

    def _commit(
        self,
        docs: list[Document],
        tokens: dict[str, list[list[str]]],
        vectors: dict[str, np.ndarray],
        delete: list[str],
        result: WriteResult,
        replace: bool,
    ) -> None:
        with _Closing(catalog.connect(self.data_dir / "catalog.sqlite")) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                remove_temp_files(self.data_dir)
                gone: list[tuple[int, int, str, int]] = []  # (key, segment, tokens json, n_tokens)
                for doc_id in delete:
                    old = _chunks_of(conn, doc_id)
                    if conn.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,)).rowcount:
                        result.deleted.append(doc_id)
                        gone.extend(old)
                # Re-checked under the lock: a writer that committed meanwhile may hold the same text.
                todo, late = _plan(conn, docs, replace)
                result.unchanged.extend(late.unchanged)
                result.duplicates.extend(late.duplicates)
                result.conflicts.extend(late.conflicts)
                if not gone and not todo:
                    conn.execute("ROLLBACK")
                    return
                seg_id = catalog.meta_int(conn, "next_segment") + 1
                row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'chunks'").fetchone()
                next_key = (row[0] if row else 0) + 1
                sources = catalog.source_ids(conn, [d.source for d in todo])
                keys, vecs, dates, srcs, toks = [], [], [], [], []
                for doc in todo:
                    old = _chunks_of(conn, doc.doc_id)
                    gone.extend(old)
                    existed = conn.execute("DELETE FROM documents WHERE doc_id = ?", (doc.doc_id,)).rowcount
                    (result.updated if existed else result.added).append(doc.doc_id)
                    _insert_document(conn, doc)
                    doc_tokens = tokens[doc.doc_id]
                    rows = []
                    for chunk, chunk_tokens in zip(doc.chunks, doc_tokens, strict=True):
                        rows.append((next_key, chunk.chunk_id, doc.doc_id, chunk.position, chunk.start, chunk.end,
                                     chunk.text, json.dumps(chunk_tokens, ensure_ascii=False),
                                     max(1, len(chunk_tokens)), dedup_key(chunk.text), seg_id))
                        keys.append(next_key)
                        next_key += 1
                    conn.executemany(
                        "INSERT INTO chunks(id, chunk_id, doc_id, position, start, end, text, tokens, n_tokens, "
                        "dedup_key, segment) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                        rows,
                    )
                    vecs.append(vectors[doc.doc_id])
                    dates.extend([catalog.date_ordinal(doc.date)] * len(doc.chunks))
                    srcs.extend([sources.get(doc.source, -1)] * len(doc.chunks))
                    toks.extend(doc_tokens)
                self._update_statistics(conn, gone, toks)
                if gone:
                    conn.executemany("INSERT INTO tombstones(id, segment) VALUES (?, ?)", [(g[0], g[1]) for g in gone])
                    for seg, n in Counter(g[1] for g in gone).items():
                        conn.execute("UPDATE segments SET deleted = deleted + ? WHERE id = ?", (n, seg))
                if keys:
                    dim = int(vecs[0].shape[1])
                    stored_dim = catalog.get_meta(conn, "dim")
                    if stored_dim and int(stored_dim) != dim:
                        raise StoreError(f"{self.data_dir}: vectors of dimension {dim}, the store holds {stored_dim}")
                    catalog.set_meta(conn, "dim", str(dim))
                    arrays = segments.build(np.asarray(keys, np.int64), np.concatenate(vecs),
                                            np.asarray(dates, np.int32), np.asarray(srcs, np.int32), toks)
                    ann = segments.write(segments.seg_dir(self.data_dir, seg_id), arrays, self.ann_min)
                    conn.execute("INSERT INTO segments(id, n, deleted, ann) VALUES (?, ?, 0, ?)",
                                 (seg_id, len(keys), int(ann)))
                    catalog.set_meta(conn, "next_segment", str(seg_id))
                catalog.set_meta(conn, "generation", str(catalog.generation(conn) + 1))
                catalog.set_meta(conn, "commits", str(catalog.meta_int(conn, "commits") + 1))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    @staticmethod
    def _update_statistics(conn, gone: list[tuple], added: list[list[str]]) -> None:
        """Corpus-global BM25 statistics: chunk frequencies, chunk count, total length (exact after
        every commit, so scores never depend on how the rows are split into segments)."""
        delta: Counter = Counter()
        length = 0
        for _key, _seg, toks_json, n_tokens in gone:
            delta.subtract(set(json.loads(toks_json)))
            length -= n_tokens
        for toks in added:
            delta.update(set(toks))
            length += max(1, len(toks))
        changes = [(t, d) for t, d in delta.items() if d]
        if changes:
            new = [t for t, _d in changes]
            existing = set()
            for i in range(0, len(new), 500):
                part = new[i : i + 500]
                q = f"SELECT term FROM terms WHERE term IN ({','.join('?' * len(part))})"
                existing.update(r[0] for r in conn.execute(q, part))
            conn.executemany(
                "INSERT INTO terms(term, df, pinyin) VALUES (?, ?, ?)",
                [(t, d, romanize(t)) for t, d in changes if t not in existing],
            )
            conn.executemany("UPDATE terms SET df = df + ? WHERE term = ?",
                             [(d, t) for t, d in changes if t in existing])
        catalog.set_meta(conn, "n_chunks", str(catalog.meta_int(conn, "n_chunks") + len(added) - len(gone)))
        catalog.set_meta(conn, "total_len", str(catalog.meta_int(conn, "total_len") + length))

    # ----- merges --------------------------------------------------------------------------
    def merge(self, force: bool = False) -> int:
        """Run the merges the tiered policy makes due (all live segments into one with ``force``); call
        under the write lock. Each merge is one commit publishing the new live set. Returns merges run."""
        done = 0
        with _Closing(catalog.connect(self.data_dir / "catalog.sqlite")) as conn:
            while True:
                live = [(s, n - d) for s, n, d in catalog.manifest(conn)]
                if force:
                    groups = [[s for s, _n in live]] if len(live) > 1 or any(
                        d for _s, _n, d in catalog.manifest(conn)) else []
                    force = False
                else:
                    groups = segments.plan_merges(live, self.merge_factor)
                if not groups:
                    break
                for group in groups:
                    self._merge_group(conn, group)
                    done += 1
        return done

    def _merge_group(self, conn, group: list[int]) -> None:
        info = {s: (n, d) for s, n, d in catalog.manifest(conn)}
        parts = []
        for s in group:
            seg = self._segment(s)
            parts.append((seg.arrays, self._live_mask(conn, seg, info[s][1])))
        live_rows = sum(info[s][0] - info[s][1] for s in group)
        seg_id = catalog.meta_int(conn, "next_segment") + 1
        ann = False
        if live_rows:
            arrays = segments.merge(parts)
            ann = segments.write(segments.seg_dir(self.data_dir, seg_id), arrays, self.ann_min)
        marks = ",".join("?" * len(group))
        conn.execute("BEGIN IMMEDIATE")
        try:
            if live_rows:
                conn.execute(f"UPDATE chunks SET segment = ? WHERE segment IN ({marks})", (seg_id, *group))
                conn.execute("INSERT INTO segments(id, n, deleted, ann) VALUES (?, ?, 0, ?)",
                             (seg_id, live_rows, int(ann)))
            conn.execute(f"DELETE FROM tombstones WHERE segment IN ({marks})", group)
            conn.execute(f"DELETE FROM segments WHERE id IN ({marks})", group)
            catalog.set_meta(conn, "next_segment", str(seg_id))
            catalog.set_meta(conn, "retired", json.dumps(group))
            catalog.set_meta(conn, "generation", str(catalog.generation(conn) + 1))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        # What the merge before this one retired is two publishes old now: no new snapshot names it.
        keep = self._kept_segments(conn)
        segments.remove_orphans(self.data_dir, keep)
        self._forget(keep)

    def recover(self) -> int:
        """Repair what a crash left (call under the write lock, or let opening do it): temp files of
        atomic writes and segment directories no committed manifest names. Costs a listing of the
        segments directory; no segment is read or rebuilt. Returns the live generation."""
        with self.lock, _Closing(catalog.connect(self.data_dir / "catalog.sqlite")) as conn:
            remove_temp_files(self.data_dir)
            keep = self._kept_segments(conn)
            segments.remove_orphans(self.data_dir, keep)
            for s, _n, _d in catalog.manifest(conn):
                if not segments.is_sealed(segments.seg_dir(self.data_dir, s)):
                    raise StoreError(
                        f"{segments.seg_dir(self.data_dir, s)}: a published segment is missing or unsealed "
                        "(the disk lost files the catalog committed); re-ingest into a new --data-dir"
                    )
            return catalog.generation(conn)


class _SqlTermStats(TermStats):
    """Chunk frequencies read from the snapshot's term table, one query per batch of new tokens."""

    def __init__(self, conn, n_chunks: int) -> None:
        self._conn = conn
        self.n_chunks = n_chunks
        self._cache: dict[str, int] = {}

    def prefetch(self, tokens: Iterable[str]) -> dict[str, int]:
        """Frequencies of ``tokens`` (0 for unknown ones), fetched together."""
        missing = [t for t in dict.fromkeys(tokens) if t not in self._cache]
        if missing:
            found = catalog.document_frequencies(self._conn, missing)
            for t in missing:
                self._cache[t] = found.get(t, 0)
        return {t: self._cache[t] for t in tokens}

    def __getitem__(self, token: str) -> int:
        if token not in self._cache:
            self.prefetch([token])
        return self._cache[token]


class LocalView:
    """One snapshot of a local store (implements :class:`index.backend.ReadView`)."""

    def __init__(self, store: Store, conn) -> None:
        self._store = store
        self._conn = conn
        self.generation = catalog.generation(conn)
        self.n_chunks = catalog.meta_int(conn, "n_chunks")
        total = catalog.meta_int(conn, "total_len")
        self.avg_len = total / self.n_chunks if self.n_chunks else 1.0
        self.segments: list[tuple[Segment, np.ndarray | None]] = []
        for s, _n, deleted in catalog.manifest(conn):
            seg = store._segment(s)
            self.segments.append((seg, store._live_mask(conn, seg, deleted)))
        self.terms = _SqlTermStats(conn, self.n_chunks)
        self.bridge = PinyinBridge(lookup=self._bridge_lookup)

    def _bridge_lookup(self, key: str) -> list[str]:
        rows = self._conn.execute(
            "SELECT term FROM terms WHERE pinyin = ? AND df > 0 ORDER BY df DESC, term DESC", (key,)
        )
        return [r[0] for r in rows]

    def _masks(self, where: Filter) -> list[tuple[Segment, np.ndarray | None]]:
        """Each segment with the rows a search may return: live, and passing the filter."""
        if where.empty:
            return self.segments
        since = catalog.date_ordinal(where.since)
        until = catalog.date_ordinal(where.until)
        sources = catalog.matching_sources(self._conn, where.source) if where.source else None
        out = []
        for seg, live in self.segments:
            mask = seg.filter_mask(since, until, sources)
            out.append((seg, mask if live is None else mask & live))
        return out

    def dense(self, query: np.ndarray, k: int, where: Filter = NO_FILTER) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (scores, chunk keys) by inner product; exact or IVF per segment (see index.segments)."""
        q = np.asarray(query, np.float32).reshape(-1)
        masked = self._masks(where)
        with one_blas_thread():  # products of a few ms: BLAS threads would cost more than they save
            pool = _search_pool() if sum(seg.ann is not None for seg, _m in masked) > 1 else None
            if pool is None:
                parts = [seg.dense(q, k, mask) for seg, mask in masked]
            else:  # IVF segments side by side on the pool's threads (FAISS releases the GIL), the rest here
                running = {i: pool.submit(seg.dense, q, k, mask)
                           for i, (seg, mask) in enumerate(masked) if seg.ann is not None}
                parts = [running[i].result() if i in running else seg.dense(q, k, mask)
                         for i, (seg, mask) in enumerate(masked)]
        return _combine(parts, k)

    def idf(self, tokens: list[str]) -> dict[str, float]:
        """BM25 idf (Lucene variant) of the tokens held by some chunk."""
        n = self.n_chunks
        return {t: math.log(1 + (n - df + 0.5) / (df + 0.5)) for t, df in self.terms.prefetch(tokens).items() if df}

    def lexical(self, tokens: list[str], k: int, where: Filter = NO_FILTER) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (BM25 scores, chunk keys) with a positive score, from the tokens' postings only."""
        if k <= 0 or not tokens or not self.n_chunks:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        idf = self.idf(tokens)
        weighted = [(segments.term_hash(t), idf[t]) for t in tokens if t in idf]
        if not weighted:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        parts = []
        for seg, mask in self._masks(where):
            scores, keys = seg.bm25(weighted, self.avg_len, mask)
            keep = scores > 0
            parts.append(segments.contenders(scores[keep], keys[keep], k))
        return _combine(parts, k)

    def term_candidates(
        self, tokens: list[str], budget: int, where: Filter = NO_FILTER
    ) -> tuple[np.ndarray, bool]:
        """Keys of chunks holding any of ``tokens`` (rarest first), at most ``budget``; and whether cut."""
        dfs = self.terms.prefetch(tokens)
        order = sorted((t for t in dict.fromkeys(tokens) if dfs.get(t)), key=lambda t: (dfs[t], t))
        masked = self._masks(where)
        found: list[np.ndarray] = []
        total = 0
        for t in order:
            h = segments.term_hash(t)
            keys = np.concatenate([seg.holding(h, mask) for seg, mask in masked] or [np.zeros(0, np.int64)])
            if found:
                keys = keys[~np.isin(keys, np.concatenate(found))]
            if total + len(keys) > budget:
                found.append(keys[: budget - total])
                return np.concatenate(found), True
            found.append(keys)
            total += len(keys)
        return (np.concatenate(found) if found else np.zeros(0, np.int64)), False

    def chunks(self, keys: Iterable[int]) -> dict[int, ChunkRow]:
        """Chunk rows by key with their documents' citation fields."""
        return {r[0]: ChunkRow(*r) for r in catalog.chunk_rows(self._conn, [int(k) for k in keys])}

    def offsets(self, doc_ids: Iterable[str]) -> dict[str, np.ndarray]:
        """Each document's map from normalized to original character positions."""
        return catalog.document_offsets(self._conn, doc_ids)

    def document(self, doc_id: str) -> dict | None:
        """One document, or None."""
        return _document(self._conn, doc_id)


SEARCH_THREADS_ENV = "POLICYQA_SEARCH_THREADS"
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def search_threads() -> int:
    """Threads that search a query's IVF segments side by side: ``$POLICYQA_SEARCH_THREADS``, else the
    cores this process may use (at most 4); 1 searches them one after another in the caller's thread."""
    value = os.environ.get(SEARCH_THREADS_ENV, "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    return min(4, embed_threads())


def _search_pool() -> ThreadPoolExecutor | None:
    """One pool per process, shared by every query, so concurrent requests never run more segment
    searches at once than it has threads; None when searching on one thread."""
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                n = search_threads()
                if n < 2:
                    return None
                _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="policyqa-search")
    return _pool


def _combine(parts: list[tuple[np.ndarray, np.ndarray]], k: int) -> tuple[np.ndarray, np.ndarray]:
    parts = [p for p in parts if len(p[0])]
    if not parts:
        return np.zeros(0, np.float32), np.zeros(0, np.int64)
    scores = np.concatenate([p[0] for p in parts]).astype(np.float32)
    keys = np.concatenate([p[1] for p in parts]).astype(np.int64)
    return segments.top_k(scores, keys, k)


def _document(conn, doc_id: str) -> dict | None:
    row = conn.execute(
        "SELECT doc_id, title, date, source, url, path, source_path, original, normalized, body_start, raw, "
        "added_at, updated_at FROM documents WHERE doc_id = ?",
        (doc_id,),
    ).fetchone()
    return dict(row) if row else None


def _chunks_of(conn, doc_id: str) -> list[tuple[int, int, str, int]]:
    return [tuple(r) for r in conn.execute(
        "SELECT id, segment, tokens, n_tokens FROM chunks WHERE doc_id = ?", (doc_id,))]


def _insert_document(conn, doc: Document) -> None:
    conn.execute(
        "INSERT INTO documents(doc_id, title, date, source, url, path, source_path, original, normalized, "
        "offsets, body_start, raw, content_hash, added_at, updated_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,COALESCE(?, datetime('now')),COALESCE(?, datetime('now')))",
        (
            doc.doc_id, doc.title, doc.date, doc.source, doc.url, doc.path, getattr(doc, "source_path", None),
            doc.original, doc.text, np.asarray(doc.offsets, dtype="<i8").tobytes(), doc.body_start, doc.raw,
            doc.content_hash, getattr(doc, "added_at", None), getattr(doc, "updated_at", None),
        ),
    )


def _env_int(name: str, default: int) -> int:
    try:
        return max(2, int(os.environ.get(name, default)))
    except ValueError:
        return default


def spec_mismatch(data_dir: Path, stored: EmbedderSpec, requested: EmbedderSpec) -> str:
    """The message for opening a data directory with another embedder than its vectors came from."""
    how = ""
    if stored.backend == requested.backend == "sentence-transformers" and stored.model == requested.model:
        how = (
            f"; to convert it, run `policyqa --data-dir {data_dir} reembed "
            f"{requested.runtime}-{requested.precision}`"
        )
    return (
        f"{data_dir} was built with embedder {stored.label}, not the requested {requested.label}; "
        f"one data directory never mixes vectors of two embedders{how}, or use another --data-dir"
    )


def _lock_timeout() -> float:
    try:
        return float(os.environ.get("POLICYQA_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT))
    except ValueError:
        return DEFAULT_LOCK_TIMEOUT


def _plan(conn, docs: Iterable[Document], replace: bool = False) -> tuple[list[Document], WriteResult]:
    """Documents that need writing; the others recorded as unchanged, duplicates of stored text, or
    conflicts.

    A conflict is a document whose id was derived from its file (not ``id_explicit``) while the stored
    document of that id came from another file: both ``source_path`` are known and differ. Unless
    ``replace``, it is not written, whatever its text. A stored document with no known source file
    (stored before paths were kept, or sent with an explicit id over HTTP) never conflicts: it is
    updated as before, and records the new file's path when its text or metadata change.
    """
    result = WriteResult()
    todo: list[Document] = []
    seen_hashes: dict[str, str] = {}
    for doc in docs:
        row = conn.execute(
            "SELECT content_hash, title, date, source, url, source_path FROM documents WHERE doc_id = ?",
            (doc.doc_id,),
        ).fetchone()
        stored_path = row["source_path"] if row else None
        new_path = getattr(doc, "source_path", None)
        moved = bool(stored_path and new_path and stored_path != new_path)
        if moved and not getattr(doc, "id_explicit", False) and not replace:
            result.conflicts.append((doc.doc_id, stored_path, new_path))
            continue
        same = row and tuple(row)[:5] == (doc.content_hash, doc.title, doc.date, doc.source, doc.url)
        if same and not (moved and replace):  # a replacement is written, so the new path is kept
            result.unchanged.append(doc.doc_id)
            continue
        other = conn.execute(
            "SELECT doc_id FROM documents WHERE content_hash = ? AND doc_id != ? LIMIT 1",
            (doc.content_hash, doc.doc_id),
        ).fetchone()
        twin = other[0] if other else seen_hashes.get(doc.content_hash)
        if twin is not None and twin != doc.doc_id:
            result.duplicates.append((doc.doc_id, twin))
            continue
        seen_hashes[doc.content_hash] = doc.doc_id
        todo.append(doc)
    return todo, result


class _Closing:
    def __init__(self, conn) -> None:
        self.conn = conn

    def __enter__(self):
        return self.conn

    def __exit__(self, *exc) -> None:
        self.conn.close()

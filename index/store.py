"""The data directory: catalog, derived index generations, config and the writer lock.

Writes are batched commits. Embedding happens before the lock is taken; the lock is held only while a
batch commits (catalog rows, then derived files of a new generation, then the CURRENT switch). Readers
never lock: each query runs inside one SQLite read transaction and uses the derived files of exactly
the generation that transaction sees.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from corpus.prepare import Document
from index import catalog, generations
from index.backend import WriteResult
from index.dir_swap import finish_swap
from index.embedder import Embedder, EmbedderSpec, create_embedder
from index.lexical_store import LexicalStore, create_lexical_store
from index.pinyin_bridge import PinyinBridge, romanize_vocabulary
from index.tokenizer import tokenize
from index.vector_store import VectorStore, create_vector_store

CONFIG = "config.json"
LOCK = "write.lock"
DEFAULT_LOCK_TIMEOUT = 30.0  # seconds; $POLICYQA_LOCK_TIMEOUT overrides


class StoreError(Exception):
    """A problem with the data directory, with a message for the user."""


class WriterBusyError(StoreError):
    """Another process held the write lock for longer than the bounded wait."""


@dataclass
class Generation:
    """The derived stores of one committed generation, loaded in memory."""

    number: int
    vectors: VectorStore
    lexical: LexicalStore
    romanized: dict[str, str]  # corpus token -> toneless pinyin, for the tokens that have one
    bridge: PinyinBridge

    PINYIN = "pinyin.json"

    def save(self, directory: Path) -> None:
        """Write the derived files of this generation into ``directory``."""
        self.vectors.save(directory)
        self.lexical.save(directory)
        (directory / self.PINYIN).write_text(json.dumps(self.romanized, ensure_ascii=False), encoding="utf-8")


def dedup_key(text: str) -> str:
    """Key under which near-identical chunks (same characters, other spacing/punctuation) collapse."""
    core = re.sub(r"[\W_]+", "", text.lower())
    return hashlib.sha1(core.encode("utf-8")).hexdigest()[:16]


def _embed_text(title: str, text: str) -> str:
    return f"{title}\n{text}" if title else text


class Store:
    """One policyqa data directory."""

    def __init__(self, data_dir: Path | str, embedder: EmbedderSpec | None = None) -> None:
        self.data_dir = Path(data_dir).expanduser()
        finish_swap(self.data_dir)  # an interrupted `policyqa reembed` is completed or rolled back first
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config = self._load_config(embedder)
        self.spec = EmbedderSpec.from_dict(self.config["embedder"])
        self._embedder: Embedder | None = None
        self._embedder_lock = threading.Lock()
        self._local = threading.local()
        self._gen: Generation | None = None
        self._gen_lock = threading.Lock()
        self.lock = FileLock(str(self.data_dir / LOCK))
        with self._connection_for_write() as conn:
            number = catalog.generation(conn)
        if number and not (
            generations.read_current(self.data_dir) == number
            and generations.is_complete(generations.gen_dir(self.data_dir, number))
        ):
            self._try_recover()

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
        config = {"embedder": spec.as_dict(), "vector_store": "faiss", "lexical_store": "bm25s"}
        generations.atomic_write(path, json.dumps(config, indent=2))
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

    def _connection_for_write(self):
        return _Closing(catalog.connect(self.data_dir / "catalog.sqlite"))

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
        chunks = conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
        return {
            "data_dir": str(self.data_dir),
            "documents": docs,
            "chunks": chunks,
            "generation": catalog.generation(conn),
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
        row = self._conn().execute(
            "SELECT doc_id, title, date, source, url, path, source_path, original, normalized, body_start, raw, "
            "added_at, updated_at FROM documents WHERE doc_id = ?",
            (doc_id,),
        ).fetchone()
        return dict(row) if row else None

    def offsets(self, doc_id: str) -> np.ndarray:
        """The map from a document's normalized text to its original text."""
        maps = catalog.document_offsets(self._conn(), [doc_id])
        if doc_id not in maps:
            raise KeyError(doc_id)
        return maps[doc_id]

    def read(self) -> _ReadTransaction:
        """A consistent read: the catalog snapshot and the derived stores of the same generation."""
        return _ReadTransaction(self)

    def _generation_for(self, number: int) -> Generation:
        with self._gen_lock:
            if self._gen is not None and self._gen.number == number:
                return self._gen
            directory = generations.gen_dir(self.data_dir, number)
            if number == 0:
                gen = self._empty_generation()
            elif generations.is_complete(directory):
                try:
                    gen = self._load_generation(number, directory)
                except (OSError, RuntimeError, ValueError):  # pruned by a writer two commits on
                    gen = self._rebuild_in_memory(number)
            else:
                gen = self._rebuild_in_memory(number)
            self._gen = gen
            return gen

    def _empty_generation(self) -> Generation:
        vectors = create_vector_store(self.config["vector_store"], self._dim())
        lexical = create_lexical_store(self.config["lexical_store"])
        return Generation(0, vectors, lexical, {}, PinyinBridge([]))

    def _dim(self) -> int:
        stored = catalog.get_meta(self._conn(), "dim")
        return int(stored) if stored else self.embedder.dim

    def _load_generation(self, number: int, directory: Path) -> Generation:
        vectors = create_vector_store(self.config["vector_store"], self._dim())
        vectors.load(directory)
        lexical = create_lexical_store(self.config["lexical_store"])
        lexical.load(directory)
        romanized = json.loads((directory / Generation.PINYIN).read_text(encoding="utf-8"))
        return Generation(number, vectors, lexical, romanized, _bridge(lexical, romanized))

    def _rebuild_in_memory(self, number: int) -> Generation:
        """Derive the stores from the catalog (the generation's files are missing or unsealed)."""
        return self._build_generation(self._conn(), number)

    # ----- writes --------------------------------------------------------------------------
    def plan(self, docs: Iterable[Document]) -> tuple[list[Document], WriteResult]:
        """Split documents into those that need writing and those unchanged, duplicates or conflicts
        (an id stored from another source file; see :func:`_plan`)."""
        return _plan(self._conn(), docs)

    def embed(self, docs: list[Document], show_progress: bool = False) -> list[np.ndarray]:
        """Embeddings of every chunk of each document (title kept with each chunk)."""
        texts = [_embed_text(d.title, c.text) for d in docs for c in d.chunks]
        vecs = self.embedder.encode_passages(texts, show_progress=show_progress) if texts else None
        out, i = [], 0
        for d in docs:
            n = len(d.chunks)
            out.append(vecs[i : i + n] if vecs is not None else np.zeros((0, self.embedder.dim), np.float32))
            i += n
        return out

    def write(
        self,
        docs: list[Document],
        embeddings: list[np.ndarray] | None = None,
        delete: Iterable[str] = (),
        lock_timeout: float | None = None,
        replace: bool = False,
    ) -> WriteResult:
        """Commit documents (and deletions) as one unit; returns what changed.

        A document whose id is stored from another source file is not written but listed in
        ``conflicts``, unless ``replace``. Embedding and tokenizing happen before the write lock is
        taken; the lock wait is bounded by ``lock_timeout`` (default ``$POLICYQA_LOCK_TIMEOUT``, else 30 s).
        """
        todo, result = _plan(self._conn(), docs, replace=True) if replace else self.plan(docs)
        if embeddings is None:
            embeddings = self.embed(todo)
        else:
            by_id = {d.doc_id: e for d, e in zip(docs, embeddings, strict=True)}
            embeddings = [by_id[d.doc_id] for d in todo]
        delete = list(delete)
        if not todo and not delete:
            return result
        rows = [_chunk_rows(doc, vecs) for doc, vecs in zip(todo, embeddings, strict=True)]
        timeout = lock_timeout if lock_timeout is not None else _lock_timeout()
        try:
            self.lock.acquire(timeout=timeout)
        except Timeout:
            raise WriterBusyError(
                f"another writer holds {self.data_dir / LOCK}; gave up after {timeout:.0f}s"
            ) from None
        try:
            dim = int(embeddings[0].shape[1]) if embeddings else 0
            self._commit(todo, rows, delete, result, dim, replace)
        finally:
            self.lock.release()
        return result

    def _commit(
        self,
        docs: list[Document],
        rows: list[list[tuple]],
        delete: list[str],
        result: WriteResult,
        dim: int,
        replace: bool,
    ) -> None:
        with self._connection_for_write() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                generations.remove_temp_files(self.data_dir)
                for doc_id in delete:
                    if conn.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,)).rowcount:
                        result.deleted.append(doc_id)
                # Re-checked under the lock: a writer that committed meanwhile may hold the same text.
                todo, late = _plan(conn, docs, replace)
                result.unchanged.extend(late.unchanged)
                result.duplicates.extend(late.duplicates)
                result.conflicts.extend(late.conflicts)
                by_id = {d.doc_id: r for d, r in zip(docs, rows, strict=True)}
                for doc in todo:
                    self._insert(conn, doc, by_id[doc.doc_id], result)
                if not result.deleted and not todo:
                    conn.execute("ROLLBACK")
                    return
                if todo:
                    catalog.set_meta(conn, "dim", str(dim))
                number = catalog.generation(conn) + 1
                catalog.set_meta(conn, "generation", str(number))
                directory = generations.gen_dir(self.data_dir, number)
                generations.prune(self.data_dir, keep={number - 1})  # also a crashed try at `number`
                directory.mkdir(parents=True)
                gen = self._build_generation(conn, number)
                gen.save(directory)
                generations.mark_done(directory, number)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        generations.write_current(self.data_dir, number)
        generations.prune(self.data_dir, keep={number, number - 1})
        with self._gen_lock:
            self._gen = gen

    def _insert(self, conn, doc: Document, rows: list[tuple], result: WriteResult) -> None:
        existed = conn.execute("DELETE FROM documents WHERE doc_id = ?", (doc.doc_id,)).rowcount
        (result.updated if existed else result.added).append(doc.doc_id)
        conn.execute(
            "INSERT INTO documents(doc_id, title, date, source, url, path, original, normalized, offsets, "
            "body_start, raw, content_hash, source_path) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                doc.doc_id,
                doc.title,
                doc.date,
                doc.source,
                doc.url,
                doc.path,
                doc.original,
                doc.text,
                np.asarray(doc.offsets, dtype="<i8").tobytes(),
                doc.body_start,
                doc.raw,
                doc.content_hash,
                doc.source_path,
            ),
        )
        conn.executemany(
            "INSERT INTO chunks(chunk_id, doc_id, position, start, end, text, tokens, dedup_key, embedding) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            rows,
        )

    def _build_generation(self, conn, number: int) -> Generation:
        ids, blobs, token_lists = catalog.all_chunks_for_index(conn)
        dim = int(catalog.get_meta(conn, "dim") or self.embedder.dim)
        vectors = create_vector_store(self.config["vector_store"], dim)
        vectors.build(ids, catalog.decode_vectors(blobs, dim))
        lexical = create_lexical_store(self.config["lexical_store"])
        lexical.build(ids, token_lists)
        known = self._gen.romanized if self._gen is not None else {}
        romanized = romanize_vocabulary(lexical.vocabulary(), known)
        return Generation(number, vectors, lexical, romanized, _bridge(lexical, romanized))

    def recover(self) -> int:
        """Make the derived files match the committed catalog; returns the live generation.

        Run under the write lock: finishes a commit interrupted between the catalog commit and the
        CURRENT switch, rebuilds missing or unsealed generation files, and removes orphans.
        """
        with self.lock, self._connection_for_write() as conn:
            generations.remove_temp_files(self.data_dir)
            number = catalog.generation(conn)
            directory = generations.gen_dir(self.data_dir, number)
            if number and not generations.is_complete(directory):
                generations.prune(self.data_dir, keep={n for n in (number - 1,) if n > 0})
                directory.mkdir(parents=True, exist_ok=True)
                self._build_generation(conn, number).save(directory)
                generations.mark_done(directory, number)
            if number and generations.read_current(self.data_dir) != number:
                generations.write_current(self.data_dir, number)
            generations.prune(self.data_dir, keep={number, number - 1})
            return number


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
        moved = bool(stored_path and doc.source_path and stored_path != doc.source_path)
        if moved and not doc.id_explicit and not replace:
            result.conflicts.append((doc.doc_id, stored_path, doc.source_path))
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


def _chunk_rows(doc: Document, vecs: np.ndarray) -> list[tuple]:
    """The catalog rows of a document's chunks: ids, spans, tokens, dedup key, embedding."""
    return [
        (
            chunk.chunk_id,
            doc.doc_id,
            chunk.position,
            chunk.start,
            chunk.end,
            chunk.text,
            json.dumps(tokenize(_embed_text(doc.title, chunk.text)), ensure_ascii=False),
            dedup_key(chunk.text),
            catalog.encode_vector(vec),
        )
        for chunk, vec in zip(doc.chunks, vecs, strict=True)
    ]


def _bridge(lexical: LexicalStore, romanized: dict[str, str]) -> PinyinBridge:
    vocab = lexical.vocabulary()
    return PinyinBridge([(key, tok, vocab[tok]) for tok, key in romanized.items() if tok in vocab])


class _Closing:
    def __init__(self, conn) -> None:
        self.conn = conn

    def __enter__(self):
        return self.conn

    def __exit__(self, *exc) -> None:
        self.conn.close()


class _ReadTransaction:
    """``with store.read() as (conn, gen):`` -- a catalog snapshot and its generation's stores."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> tuple:
        conn = self.store._conn()
        conn.execute("BEGIN")
        number = catalog.generation(conn)
        return conn, self.store._generation_for(number)

    def __exit__(self, *exc) -> None:
        self.store._conn().execute("COMMIT")

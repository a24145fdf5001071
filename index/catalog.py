"""The SQLite catalog: documents, chunks, term statistics and the manifest of live segments.

SQLite is the source of truth for text, metadata and lexical tokens; each chunk's vector lives in
exactly one immutable segment (``index.segments``), written and sealed before the catalog transaction
that names it in ``segments`` commits. One transaction therefore publishes a batch: its rows, the
corpus-global BM25 statistics (``terms``, ``meta.n_chunks``/``meta.total_len``), tombstones of the
chunks it replaced and the new live set of segments.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

SCHEMA_VERSION = "2"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    date TEXT,
    source TEXT,
    url TEXT,
    path TEXT,
    source_path TEXT,
    original TEXT NOT NULL,
    normalized TEXT NOT NULL,
    offsets BLOB NOT NULL,
    body_start INTEGER NOT NULL,
    raw TEXT,
    content_hash TEXT NOT NULL,
    added_at TEXT NOT NULL DEFAULT (datetime('now')),
    updated_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE INDEX IF NOT EXISTS documents_hash ON documents(content_hash);
CREATE INDEX IF NOT EXISTS documents_date ON documents(date);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chunk_id TEXT NOT NULL UNIQUE,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL,
    tokens TEXT NOT NULL,
    n_tokens INTEGER NOT NULL,
    dedup_key TEXT NOT NULL,
    segment INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE INDEX IF NOT EXISTS chunks_segment ON chunks(segment);
CREATE TABLE IF NOT EXISTS terms (term TEXT PRIMARY KEY, df INTEGER NOT NULL, pinyin TEXT);
CREATE INDEX IF NOT EXISTS terms_pinyin ON terms(pinyin) WHERE pinyin IS NOT NULL;
CREATE TABLE IF NOT EXISTS sources (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS segments (
    id INTEGER PRIMARY KEY,
    n INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    ann INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS tombstones (id INTEGER PRIMARY KEY, segment INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS tombstones_segment ON tombstones(segment);
"""


def connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    """Open the catalog in WAL mode with foreign keys on; creates the schema when writable."""
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        if _schema_ready(conn):
            conn.execute("PRAGMA foreign_keys=ON")
            conn.row_factory = sqlite3.Row
            return conn
        conn.execute("BEGIN IMMEDIATE")  # two processes creating one catalog: one creates, one checks
        try:
            _check_version(conn, path)
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            if get_meta(conn, "schema") is None:
                set_meta(conn, "schema", SCHEMA_VERSION)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    conn.execute("PRAGMA foreign_keys=ON")
    conn.row_factory = sqlite3.Row
    return conn


def _schema_ready(conn: sqlite3.Connection) -> bool:
    """True when the catalog already has this version's schema (a plain read: no write lock taken)."""
    try:
        return get_meta(conn, "schema") == SCHEMA_VERSION
    except sqlite3.OperationalError:  # no meta table yet
        return False


def _check_version(conn: sqlite3.Connection, path: Path) -> None:
    has_meta = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone()
    if not has_meta:
        return
    version = get_meta(conn, "schema")
    has_docs = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'documents'").fetchone()
    if version != SCHEMA_VERSION and has_docs:
        from index.backend import StoreError

        raise StoreError(
            f"{path}: written by an older policyqa (whole-corpus generations, schema {version or 1}); "
            "re-ingest into a new --data-dir"
        )


def get_meta(conn: sqlite3.Connection, key: str, default: str | None = None) -> str | None:
    """Read one metadata value."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else default


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    """Write one metadata value."""
    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))


def meta_int(conn: sqlite3.Connection, key: str) -> int:
    """An integer metadata value (0 when unset)."""
    return int(get_meta(conn, key, "0") or 0)


def generation(conn: sqlite3.Connection) -> int:
    """The committed generation number: commits and merges so far (0 for an empty catalog)."""
    return meta_int(conn, "generation")


def manifest(conn: sqlite3.Connection) -> list[tuple[int, int, int]]:
    """The live segments: (segment id, rows written, rows deleted since), oldest first."""
    return [tuple(r) for r in conn.execute("SELECT id, n, deleted FROM segments ORDER BY id")]


def tombstones(conn: sqlite3.Connection, segment: int) -> np.ndarray:
    """Chunk keys deleted from one segment since it was written, sorted."""
    ids = [r[0] for r in conn.execute("SELECT id FROM tombstones WHERE segment = ? ORDER BY id", (segment,))]
    return np.asarray(ids, dtype=np.int64)


def document_frequencies(conn: sqlite3.Connection, tokens) -> dict[str, int]:
    """Chunk frequencies of the given tokens (absent ones left out)."""
    tokens = list(dict.fromkeys(tokens))
    out: dict[str, int] = {}
    for i in range(0, len(tokens), 500):
        part = tokens[i : i + 500]
        q = f"SELECT term, df FROM terms WHERE df > 0 AND term IN ({','.join('?' * len(part))})"
        out.update((r[0], r[1]) for r in conn.execute(q, part))
    return out


def source_ids(conn: sqlite3.Connection, names) -> dict[str, int]:
    """Ids of source names, adding the ones not seen before (call inside a write transaction)."""
    out: dict[str, int] = {}
    for name in dict.fromkeys(n for n in names if n):
        conn.execute("INSERT OR IGNORE INTO sources(name) VALUES (?)", (name,))
        out[name] = conn.execute("SELECT id FROM sources WHERE name = ?", (name,)).fetchone()[0]
    return out


def matching_sources(conn: sqlite3.Connection, fragment: str) -> np.ndarray:
    """Ids of the sources whose name holds ``fragment`` (as SQL LIKE, case-insensitive for ASCII)."""
    rows = conn.execute("SELECT id FROM sources WHERE name LIKE ?", (f"%{fragment}%",))
    return np.asarray([r[0] for r in rows], dtype=np.int32)


def chunk_rows(conn: sqlite3.Connection, ids: list[int]) -> list[tuple]:
    """Chunks by row id with their documents' citation fields, as tuples in ChunkRow field order."""
    out: list[tuple] = []
    for i in range(0, len(ids), 500):
        part = ids[i : i + 500]
        q = (
            "SELECT c.id, c.chunk_id, c.doc_id, c.start, c.end, c.text, c.dedup_key, "
            "d.title, d.date, d.source, d.url FROM chunks c JOIN documents d USING(doc_id) "
            f"WHERE c.id IN ({','.join('?' * len(part))})"
        )
        out.extend(tuple(r) for r in conn.execute(q, part))
    return out


def document_offsets(conn: sqlite3.Connection, doc_ids) -> dict[str, np.ndarray]:
    """Each document's map from normalized to original character positions."""
    ids = list(dict.fromkeys(doc_ids))
    found: dict[str, bytes] = {}
    for i in range(0, len(ids), 500):  # one query per search (its hits' documents), not one per document
        part = ids[i : i + 500]
        q = f"SELECT doc_id, offsets FROM documents WHERE doc_id IN ({','.join('?' * len(part))})"
        found.update((r[0], r[1]) for r in conn.execute(q, part))
    return {d: np.frombuffer(found[d], dtype="<i8") for d in ids if d in found}


def date_ordinal(date: str | None) -> int:
    """An ISO date (or the padded bounds of a filter, "2024-12-99") as YYYYMMDD; 0 when absent."""
    if not date:
        return 0
    digits = "".join(ch for ch in date[:10] if ch.isdigit())
    if len(digits) < 4:
        return 0
    return int(digits.ljust(8, "0")[:8])

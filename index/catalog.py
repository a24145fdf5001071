"""The SQLite catalog: documents, chunks (with their embeddings and tokens) and index metadata.

SQLite is the source of truth. The vector and lexical stores are derived from it and rebuilt per
generation; the ``meta`` table's ``generation`` says which derived files match the committed rows.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    date TEXT,
    source TEXT,
    url TEXT,
    path TEXT,
    original TEXT NOT NULL,
    normalized TEXT NOT NULL,
    offsets BLOB NOT NULL,
    body_start INTEGER NOT NULL,
    raw TEXT,
    content_hash TEXT NOT NULL,
    source_path TEXT,
    added_at TEXT NOT NULL DEFAULT (datetime('now')),
    updated_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE INDEX IF NOT EXISTS documents_hash ON documents(content_hash);
CREATE INDEX IF NOT EXISTS documents_date ON documents(date);
CREATE INDEX IF NOT EXISTS documents_source ON documents(source);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chunk_id TEXT NOT NULL UNIQUE,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL,
    tokens TEXT NOT NULL,
    dedup_key TEXT NOT NULL,
    embedding BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
"""


@dataclass
class ChunkRow:
    """A chunk joined with its document's citation fields."""

    id: int
    chunk_id: str
    doc_id: str
    start: int
    end: int
    text: str
    dedup_key: str
    title: str
    date: str | None
    source: str | None
    url: str | None


def connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    """Open the catalog in WAL mode with foreign keys on; creates the schema when writable."""
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.executescript(SCHEMA)
        _migrate(conn)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.row_factory = sqlite3.Row
    return conn


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a catalog made by an older version up to SCHEMA: ``documents.source_path`` (NULL in the
    rows stored before it existed: their source file is unknown)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(documents)")}
    if "source_path" not in columns:
        try:
            conn.execute("ALTER TABLE documents ADD COLUMN source_path TEXT")
        except sqlite3.OperationalError as e:  # another process added it between the check and here
            if "duplicate column" not in str(e):
                raise


def get_meta(conn: sqlite3.Connection, key: str, default: str | None = None) -> str | None:
    """Read one metadata value."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else default


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    """Write one metadata value."""
    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))


def generation(conn: sqlite3.Connection) -> int:
    """The committed generation number (0 for an empty catalog)."""
    return int(get_meta(conn, "generation", "0") or 0)


def encode_vector(vec: np.ndarray) -> bytes:
    """Embedding to bytes (float32, little-endian)."""
    return np.asarray(vec, dtype="<f4").tobytes()


def decode_vectors(blobs: list[bytes], dim: int) -> np.ndarray:
    """Bytes back to an (n, dim) float32 matrix."""
    if not blobs:
        return np.zeros((0, dim), np.float32)
    return np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), dim).astype(np.float32)


def all_chunks_for_index(conn: sqlite3.Connection) -> tuple[np.ndarray, list[bytes], list[list[str]]]:
    """Row ids, embedding blobs and token lists of every chunk, in row-id order."""
    ids: list[int] = []
    blobs: list[bytes] = []
    tokens: list[list[str]] = []
    for row in conn.execute("SELECT id, embedding, tokens FROM chunks ORDER BY id"):
        ids.append(row[0])
        blobs.append(row[1])
        tokens.append(json.loads(row[2]))
    return np.asarray(ids, dtype=np.int64), blobs, tokens


def chunk_rows(conn: sqlite3.Connection, ids: list[int]) -> dict[int, ChunkRow]:
    """Chunks by row id with their documents' citation fields."""
    out: dict[int, ChunkRow] = {}
    for i in range(0, len(ids), 500):
        part = ids[i : i + 500]
        q = (
            "SELECT c.id, c.chunk_id, c.doc_id, c.start, c.end, c.text, c.dedup_key, "
            "d.title, d.date, d.source, d.url FROM chunks c JOIN documents d USING(doc_id) "
            f"WHERE c.id IN ({','.join('?' * len(part))})"
        )
        for r in conn.execute(q, part):
            out[r[0]] = ChunkRow(*r)
    return out


def document_offsets(conn: sqlite3.Connection, doc_ids: list[str]) -> dict[str, np.ndarray]:
    """Each document's map from normalized to original character positions."""
    out: dict[str, np.ndarray] = {}
    for doc_id in dict.fromkeys(doc_ids):
        row = conn.execute("SELECT offsets FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        if row is not None:
            out[doc_id] = np.frombuffer(row[0], dtype="<i8")
    return out


def filtered_chunk_ids(
    conn: sqlite3.Connection, since: str | None, until: str | None, source: str | None
) -> np.ndarray | None:
    """Row ids of chunks whose documents pass the filters; None when there is no filter."""
    where, args = [], []
    if since:
        where.append("d.date >= ?")
        args.append(since)
    if until:
        where.append("d.date <= ?")
        args.append(until)
    if source:
        where.append("d.source LIKE ?")
        args.append(f"%{source}%")
    if not where:
        return None
    q = "SELECT c.id FROM chunks c JOIN documents d USING(doc_id) WHERE " + " AND ".join(where)
    return np.asarray([r[0] for r in conn.execute(q, args)], dtype=np.int64)

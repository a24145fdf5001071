"""Deterministic keys, Milvus expressions, BM25 term weights and document (de)serialization."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import zlib
from collections import Counter

import numpy as np

from index.backend import Filter

K1, B = 1.2, 0.75  # BM25 parameters of the embedded default (bm25s, Lucene variant)
_SPARSE_DIMS = 2**32 - 1


def key(*parts: str) -> int:
    """A positive int64 primary key: the first 8 bytes of blake2b over the parts, sign bit cleared."""
    h = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(h, "big") & 0x7FFF_FFFF_FFFF_FFFF


def token_dim(token: str) -> int:
    """The sparse-vector dimension of a token (32-bit blake2b; a collision merges two tokens' weights)."""
    h = hashlib.blake2b(token.encode("utf-8"), digest_size=4).digest()
    return int.from_bytes(h, "big") % _SPARSE_DIMS


def lit(value: str) -> str:
    """A Milvus expression string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def in_list(field: str, values) -> str:
    """``field in [...]`` for strings or ints."""
    vals = list(values)
    if vals and isinstance(vals[0], str):
        return f"{field} in [{','.join(lit(v) for v in vals)}]"
    return f"{field} in [{','.join(str(int(v)) for v in vals)}]"


def where_expr(where: Filter) -> str:
    """The filter as a Milvus boolean expression over the ``date`` and ``source`` scalars ("" when none)."""
    parts = []
    if where.since:
        parts.append(f"date >= {lit(where.since)}")
    if where.until:
        parts.append(f'date <= {lit(where.until)} and date != ""')
    if where.source:
        escaped = where.source.replace("%", "\\%").replace("_", "\\_")
        parts.append(f"source like {lit('%' + escaped + '%')}")
    return " and ".join(parts)


def both(*exprs: str) -> str:
    """Conjunction of the non-empty expressions."""
    return " and ".join(f"({e})" for e in exprs if e)


def tf_weights(tokens: list[str], avgdl: float) -> dict[str, float]:
    """Document-side BM25 term weights: tf / (tf + k1 (1 - b + b dl/avgdl)); idf is applied per query."""
    counts = Counter(tokens)
    dl = max(1, len(tokens))
    norm = K1 * ((1 - B) + B * dl / max(avgdl, 1e-9))
    return {t: n / (n + norm) for t, n in counts.items()}


def idf(df: int, n: int) -> float:
    """BM25 idf (Lucene variant, as the embedded default)."""
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def sparse_vector(weights: dict[str, float]) -> dict[int, float]:
    """Term weights keyed by sparse dimension (colliding tokens add up)."""
    out: dict[int, float] = {}
    for t, w in weights.items():
        d = token_dim(t)
        out[d] = out.get(d, 0.0) + float(w)
    return out


def encode_document(doc: dict) -> list[str]:
    """A document dict (offsets as an int array) as JSON, compressed, base64, in row-sized slices."""
    from index.milvus.schema import PART_CHARS

    body = dict(doc)
    body["offsets"] = base64.b64encode(
        zlib.compress(np.diff(np.asarray(doc["offsets"], dtype="<i8"), prepend=0).astype("<i8").tobytes())
    ).decode("ascii")
    blob = base64.b64encode(zlib.compress(json.dumps(body, ensure_ascii=False).encode("utf-8"), 6)).decode("ascii")
    return [blob[i : i + PART_CHARS] for i in range(0, len(blob), PART_CHARS)] or [""]


def decode_document(parts: list[str]) -> dict:
    """Inverse of :func:`encode_document`."""
    body = json.loads(zlib.decompress(base64.b64decode("".join(parts))).decode("utf-8"))
    deltas = np.frombuffer(zlib.decompress(base64.b64decode(body["offsets"])), dtype="<i8")
    body["offsets"] = np.cumsum(deltas).astype(np.int64)
    return body


def vector_checksum(vectors: np.ndarray) -> str:
    """sha256 of float32 little-endian vectors, rounded to 6 decimals (what survives a store round trip)."""
    arr = np.round(np.asarray(vectors, dtype=np.float64), 6).astype("<f4")
    return hashlib.sha256(arr.tobytes()).hexdigest()


DOCUMENT_FIELDS = ("doc_id", "title", "date", "source", "url", "path", "source_path", "original", "normalized",
                   "body_start", "raw", "added_at", "updated_at")


def public_document(stored: dict) -> dict:
    """A stored document as the store interface shows it (no offsets array, no hash)."""
    return {k: stored.get(k) for k in DOCUMENT_FIELDS}

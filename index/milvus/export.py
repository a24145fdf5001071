"""The export side of the Milvus store: committed documents with their chunk vectors, as values that any
store's ``write`` takes back (``policyqa migrate``).

A document's committed version is the largest version among its part-0 rows (see
:mod:`index.milvus.store`); only that version's chunk rows are returned, in chunk-position order, with
the float32 vectors exactly as Milvus holds them. A version deleted under the reader (a concurrent
writer settling) leaves the document out rather than half-read.
"""

from __future__ import annotations

import numpy as np

from corpus.models import Chunk
from corpus.prepare import Document
from index.backend import StoredDocument
from index.milvus import rows as R

EXPORT_DOCS = 100  # documents per query (their part rows; a few thousand chunk rows with their vectors)
CHUNK_FIELDS = ["chunk_id", "doc_id", "version", "position", "start", "end", "text", "vector"]


def export_documents(store, doc_ids: list[str]) -> list[StoredDocument]:
    """The committed documents among ``doc_ids``, in that order, each with its (chunks x dim) vectors: two
    queries per batch of documents (every part row of theirs, every chunk row of theirs)."""
    ids = list(dict.fromkeys(doc_ids))
    out: dict[str, StoredDocument] = {}
    dim = int(store.config["dim"])
    for i in range(0, len(ids), EXPORT_DOCS):
        part = ids[i : i + EXPORT_DOCS]
        bodies = _committed_documents(store, part)
        if not bodies:
            continue
        rows = store.query_all(store.names.chunks, R.in_list("doc_id", list(bodies)), CHUNK_FIELDS)
        chunks: dict[str, list[dict]] = {}
        for r in rows:
            if bodies.get(r["doc_id"], (None,))[0] == r["version"]:
                chunks.setdefault(r["doc_id"], []).append(r)
        for doc_id, (_version, body) in bodies.items():
            mine = sorted(chunks.get(doc_id, []), key=lambda r: r["position"])
            vectors = np.zeros((len(mine), dim), np.float32)
            for n, r in enumerate(mine):
                vectors[n] = np.asarray(r["vector"], dtype=np.float32)
            out[doc_id] = StoredDocument(_document(body, mine), vectors)
    return [out[d] for d in ids if d in out]


def _committed_documents(store, doc_ids: list[str]) -> dict[str, tuple[str, dict]]:
    """doc_id -> (committed version, stored document dict) for those of ``doc_ids`` that have one."""
    rows = store.query_all(store.names.documents, R.in_list("doc_id", doc_ids),
                           ["doc_id", "version", "part", "n_parts", "data"])
    heads: dict[str, str] = {}
    for r in rows:
        if r["part"] == 0 and r["version"] > heads.get(r["doc_id"], ""):
            heads[r["doc_id"]] = r["version"]
    parts: dict[str, list[dict]] = {}
    for r in rows:
        if heads.get(r["doc_id"]) == r["version"]:
            parts.setdefault(r["doc_id"], []).append(r)
    out: dict[str, tuple[str, dict]] = {}
    for doc_id, mine in parts.items():
        mine.sort(key=lambda r: r["part"])
        if len(mine) != mine[0]["n_parts"]:
            continue  # a version being deleted under us
        out[doc_id] = (heads[doc_id], R.decode_document([r["data"] for r in mine]))
    return out


def _document(body: dict, rows: list[dict]) -> Document:
    doc_id = body["doc_id"]
    return Document(
        doc_id=doc_id, title=body.get("title") or "", date=body.get("date"), source=body.get("source"),
        url=body.get("url"), original=body["original"], text=body["normalized"],
        offsets=np.asarray(body["offsets"], dtype=np.int64), body_start=int(body["body_start"]),
        content_hash=body["content_hash"],
        chunks=[Chunk(r["chunk_id"], doc_id, int(r["position"]), int(r["start"]), int(r["end"]), r["text"])
                for r in rows],
        raw=body.get("raw"), path=body.get("path"), source_path=body.get("source_path"),
        added_at=body.get("added_at"), updated_at=body.get("updated_at"),
    )

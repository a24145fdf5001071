"""Copy a corpus from one store backend to another without re-embedding (``policyqa migrate``).

The copy goes through the store interface only (:meth:`StoreBackend.document_ids`,
:meth:`StoreBackend.export`, :meth:`StoreBackend.write`), so it runs between any two backends. Per batch
of documents (sorted by id) it exports the source's documents with their stored vectors, reads what the
target already holds under those ids, writes the missing ones (the vectors given, so no model is
loaded), reads them back from the target and compares fingerprints.

Fingerprint of a document: ``content``, the sha256 of a canonical JSON of everything a query and a
citation read (doc id, title, date, source, url, path, source file, original and normalized text, the
offset map, body start, raw, content hash, and each chunk's id, position, span and text, in chunk
order); ``vectors``, the sha256 of the float32 little-endian bytes of its chunk vectors in chunk order.
Both backends store float32 and give it back bit for bit, so the checksums are compared for equality.
Timestamps are copied but not compared (a target that ingested the same text itself holds the same
document).

Resume: each batch is one write per backend commit rule (a local commit; Milvus commit markers), and a
document the target already holds with the same fingerprint is skipped, so a run killed at any point
and re-run continues where it stopped and never writes a chunk twice. A document the target holds under
the same id with another fingerprint is a conflict: reported, left as it is, unless ``replace``. A
document whose text the target holds under another id is reported as a duplicate (the stores' rule).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from index.backend import StoreBackend, StoreConfig, StoredDocument, StoreError, StoreUnavailableError

BATCH_DOCS = 64
KILL_AFTER_ENV = "POLICYQA_MIGRATE_KILL_AFTER"  # tests: SIGKILL this process after that many batches


@dataclass(frozen=True)
class Fingerprint:
    """What must be equal for a copied document to count as verified."""

    chunks: int
    content: str
    vectors: str


def fingerprint(stored: StoredDocument) -> Fingerprint:
    """The document's content hash and vector checksum (see the module docstring)."""
    d = stored.document
    body = [
        d.doc_id, d.title or "", d.date, d.source, d.url, d.path, getattr(d, "source_path", None), d.original,
        d.text, np.asarray(d.offsets, dtype=np.int64).tolist(), int(d.body_start), d.raw, d.content_hash,
        [[c.chunk_id, int(c.position), int(c.start), int(c.end), c.text] for c in d.chunks],
    ]
    content = hashlib.sha256(json.dumps(body, ensure_ascii=False).encode("utf-8")).hexdigest()
    vectors = np.ascontiguousarray(np.asarray(stored.vectors, dtype="<f4")).reshape(len(d.chunks), -1)
    return Fingerprint(len(d.chunks), content, hashlib.sha256(vectors.tobytes()).hexdigest())


@dataclass
class Progress:
    """Where a migration stands after a batch."""

    documents: int  # source documents handled so far
    total_documents: int
    chunks: int
    total_chunks: int
    copied: int  # documents written by this run so far
    already: int  # documents the target held identical already (a resumed run)


@dataclass
class MigrateReport:
    """What a migration did and found."""

    source: str
    target: str
    documents: int = 0  # source documents
    chunks: int = 0  # their chunks
    copied: int = 0  # documents written by this run
    copied_chunks: int = 0
    already: int = 0  # documents found identical in the target (copied by an earlier, interrupted run)
    replaced: list[str] = field(default_factory=list)
    conflicts: list[tuple[str, str]] = field(default_factory=list)  # (doc_id, why it was not copied)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (doc_id, target id with the same text)
    mismatched: list[str] = field(default_factory=list)  # written, but read back with another fingerprint
    target_documents: int = 0
    target_chunks: int = 0
    stray_chunks: int = 0  # target chunk rows that no document's chunk count accounts for
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def verified(self) -> bool:
        """Every source document is in the target with an equal fingerprint, and the counts agree."""
        return not self.problems

    def as_dict(self) -> dict:
        return {
            "source": self.source, "target": self.target, "documents": self.documents, "chunks": self.chunks,
            "copied": self.copied, "copied_chunks": self.copied_chunks, "already_there": self.already,
            "replaced": self.replaced, "conflicts": [{"doc_id": d, "reason": r} for d, r in self.conflicts],
            "duplicates": [{"doc_id": d, "same_text_as": t} for d, t in self.duplicates],
            "mismatched": self.mismatched, "target_documents": self.target_documents,
            "target_chunks": self.target_chunks, "stray_chunks": self.stray_chunks, "verified": self.verified,
            "problems": self.problems, "seconds": round(self.seconds, 3),
            "chunks_per_s": round(self.copied_chunks / self.seconds, 1) if self.seconds else None,
        }


def open_stores(source: StoreConfig, target: StoreConfig) -> tuple[StoreBackend, StoreBackend]:
    """Open an existing source store and the target, created (when absent) with the source's embedder and
    dimension, so that no model is loaded. A target built with another embedder or dimension raises
    :class:`StoreUnavailableError` before anything is written."""
    from index.stores import open_store, store_exists

    if not store_exists(source):
        raise StoreError(f"{source.data_dir}: not a policyqa data directory (nothing to migrate)")
    src = open_store(replace(source, embedder=None, create=False))
    first = src.export(src.document_ids()[:1])
    if not first:
        raise StoreError(f"{src.location} holds no documents; nothing to migrate")
    dim = int(first[0].vectors.shape[1])
    if target.kind == "local" and store_exists(target):
        stored = _local_spec(target.data_dir)
        if stored is not None and stored != src.spec:
            raise StoreUnavailableError(
                f"{target.data_dir} was built with embedder {stored.label}, not the source's {src.spec.label}; "
                "a store never mixes vectors of two embedders: use another --data-dir"
            )
    return src, open_store(replace(target, embedder=src.spec, dim=dim, create=True))


def _local_spec(data_dir: Path | None):
    from index.embedder import EmbedderSpec

    try:
        config = json.loads((Path(data_dir) / "config.json").read_text(encoding="utf-8"))
        return EmbedderSpec.from_dict(config["embedder"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # the store's own open says what is wrong with it


def migrate(
    source: StoreBackend,
    target: StoreBackend,
    batch_docs: int = BATCH_DOCS,
    replace_conflicts: bool = False,
    on_batch: Callable[[Progress], None] | None = None,
) -> MigrateReport:
    """Copy every document of ``source`` with its chunk vectors into ``target`` and verify the copy."""
    if source.spec != target.spec:
        raise StoreUnavailableError(
            f"{target.location} holds vectors of embedder {target.spec.label}, the source "
            f"{source.location} of {source.spec.label}; nothing was copied"
        )
    started = time.perf_counter()
    report = MigrateReport(source.location, target.location)
    ids = source.document_ids()
    held = set(target.document_ids())  # only these are read from the target before a batch is written
    total_chunks = int(source.stats()["chunks"])
    seen_chunks = 0
    for n, i in enumerate(range(0, len(ids), batch_docs), 1):
        batch = source.export(ids[i : i + batch_docs])
        report.documents += len(batch)
        seen_chunks += sum(len(d.document.chunks) for d in batch)
        _copy_batch(batch, target, held, replace_conflicts, report)
        if on_batch:
            on_batch(Progress(min(i + batch_docs, len(ids)), len(ids), seen_chunks, total_chunks, report.copied,
                              report.already))
        _kill_point(n)
    report.chunks = seen_chunks
    _check_counts(source, target, ids, report)
    report.seconds = time.perf_counter() - started
    return report


def _copy_batch(batch: list[StoredDocument], target: StoreBackend, held_ids: set[str], replace_conflicts: bool,
                report: MigrateReport) -> None:
    prints = {d.document.doc_id: fingerprint(d) for d in batch}
    check = [doc_id for doc_id in prints if doc_id in held_ids]
    held = {d.document.doc_id: fingerprint(d) for d in target.export(check)} if check else {}
    todo: list[StoredDocument] = []
    clear: list[str] = []
    for d in batch:
        doc_id = d.document.doc_id
        have = held.get(doc_id)
        if have is None:
            todo.append(d)
        elif have == prints[doc_id]:
            report.already += 1
        elif replace_conflicts:
            clear.append(doc_id)
            todo.append(d)
        else:
            report.conflicts.append((doc_id, _difference(have, prints[doc_id])))
    if clear:  # another document under the same id: removed first, so the write cannot call it unchanged
        target.write([], delete=clear)
        report.replaced.extend(clear)
    if not todo:
        return
    result = target.write([d.document for d in todo], [d.vectors for d in todo], replace=replace_conflicts)
    report.duplicates.extend(result.duplicates)
    report.conflicts.extend((doc_id, f"the target's document of this id came from {old}, not {new}")
                            for doc_id, old, new in result.conflicts)
    refused = {d for d, _t in result.duplicates} | {d for d, _o, _n in result.conflicts}
    back = {d.document.doc_id: fingerprint(d) for d in target.export([d.document.doc_id for d in todo])}
    for d in todo:
        doc_id = d.document.doc_id
        if doc_id in refused:
            continue
        if back.get(doc_id) != prints[doc_id]:
            report.mismatched.append(doc_id)
            continue
        report.copied += 1
        report.copied_chunks += prints[doc_id].chunks


def _difference(have: Fingerprint, want: Fingerprint) -> str:
    if have.content != want.content:
        return "the target holds another document under this id (other text or metadata)"
    return "the target holds this document with other vectors"


def _check_counts(source: StoreBackend, target: StoreBackend, ids: list[str], report: MigrateReport) -> None:
    after = source.list_documents()  # committed documents and their chunk counts, as each store keeps them
    now = (len(after), sum(int(d["chunks"]) for d in after))
    if now != (report.documents, report.chunks) or len(ids) != report.documents:
        report.problems.append(
            f"the source changed during the migration: it now holds {now[0]} documents / {now[1]} chunks, "
            f"{report.documents} / {report.chunks} were copied; run it again"
        )
    listed = target.list_documents()
    stats = target.stats()
    report.target_documents = int(stats["documents"])
    report.target_chunks = int(stats["chunks"])
    report.stray_chunks = report.target_chunks - sum(int(d["chunks"]) for d in listed)
    wanted = set(ids)
    held = sum(int(d["chunks"]) for d in listed if d["doc_id"] in wanted)
    if report.conflicts:
        report.problems.append(f"{len(report.conflicts)} documents conflict with the target's (not copied)")
    if report.duplicates:
        report.problems.append(f"{len(report.duplicates)} documents' text is in the target under another id")
    if report.mismatched:
        report.problems.append(f"{len(report.mismatched)} documents read back from the target differ")
    if not report.conflicts and not report.duplicates and held != report.chunks:
        report.problems.append(f"the target holds {held} chunks of the source's documents, not {report.chunks}")
    if report.stray_chunks:
        report.problems.append(f"the target holds {report.stray_chunks} chunk rows no document accounts for")


def _kill_point(batches_done: int) -> None:
    """Tests kill a migration here: ``$POLICYQA_MIGRATE_KILL_AFTER=N`` SIGKILLs after batch N."""
    if os.environ.get(KILL_AFTER_ENV) == str(batches_done):
        os.kill(os.getpid(), signal.SIGKILL)

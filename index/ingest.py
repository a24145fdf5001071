"""Ingestion: read inputs, prepare documents, embed and commit them in batches."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from corpus.models import Article, Rejection
from corpus.prepare import Document, EmptyDocumentError, prepare
from index.backend import WriteResult
from index.store import Store

BATCH_CHUNKS = 1024  # chunks embedded per commit: a crash loses at most one batch of work


@dataclass
class IngestReport:
    """Counts of what an ingest did, every rejected input with its reason, and the files skipped.

    An article whose id is stored from another file (``result.conflicts``) is also in ``rejected``.
    """

    result: WriteResult = field(default_factory=WriteResult)
    rejected: list[Rejection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # unsupported files found in folders, not read

    def as_dict(self) -> dict:
        """The JSON summary: counts, rejections (path, line, reason), conflicts and skipped files."""
        r = self.result
        return {
            "added": len(r.added),
            "updated": len(r.updated),
            "unchanged": len(r.unchanged),
            "duplicates": len(r.duplicates),
            "rejected": [x.as_dict() for x in self.rejected],
            "conflicts": [
                {"doc_id": doc_id, "stored_path": stored, "path": new} for doc_id, stored, new in r.conflicts
            ],
            "skipped": list(self.skipped),
        }


def prepare_all(items: Iterable[Article | Rejection], report: IngestReport) -> Iterable[Document]:
    """Prepare each article; inputs that cannot be prepared are recorded as rejections."""
    for item in items:
        if isinstance(item, Rejection):
            report.rejected.append(item)
            continue
        try:
            doc = prepare(item)
        except EmptyDocumentError as e:
            report.rejected.append(Rejection(item.path or item.doc_id, str(e), item.line))
            continue
        except Exception as e:  # one bad article must not stop the batch
            report.rejected.append(Rejection(item.path or item.doc_id, f"could not prepare: {e}", item.line))
            continue
        report.warnings.extend(f"{item.path or item.doc_id}: {w}" for w in item.warnings)
        yield doc


def ingest_items(
    store: Store,
    items: Iterable[Article | Rejection],
    batch_chunks: int | None = None,
    on_batch: Callable[[int, int], None] | None = None,
    replace: bool = False,
    report: IngestReport | None = None,
) -> IngestReport:
    """Ingest articles, committing every ``batch_chunks`` chunks; ``on_batch(docs, chunks)`` reports progress.

    ``batch_chunks`` defaults to ``$POLICYQA_BATCH_CHUNKS``, else BATCH_CHUNKS. An article whose id is
    stored from another source file is rejected (the rest of its batch is stored) unless ``replace``.
    Results are added to ``report`` when one is given.
    """
    if batch_chunks is None:
        batch_chunks = int(os.environ.get("POLICYQA_BATCH_CHUNKS", BATCH_CHUNKS))
    report = report if report is not None else IngestReport()
    batch: list[Document] = []
    size = 0
    for doc in prepare_all(items, report):
        batch.append(doc)
        size += len(doc.chunks)
        if size >= batch_chunks:
            _commit(store, batch, report, on_batch, replace)
            batch, size = [], 0
    if batch:
        _commit(store, batch, report, on_batch, replace)
    return report


def _commit(
    store: Store,
    batch: list[Document],
    report: IngestReport,
    on_batch: Callable[[int, int], None] | None,
    replace: bool,
) -> None:
    result = store.write(batch, replace=replace)
    report.result.merge(result)
    by_id = {d.doc_id: d for d in batch}
    for doc_id, stored, new in result.conflicts:
        doc = by_id[doc_id]
        reason = f"id {doc_id!r} already names the document read from {stored}; this is another file ({new}), so it was not stored"
        report.rejected.append(Rejection(doc.path or new, reason, doc.line))
    if on_batch:
        on_batch(len(batch), sum(len(d.chunks) for d in batch))


def ingest_paths(
    store: Store, paths: list[Path | str], id_prefix: str = "", **kwargs
) -> IngestReport:
    """Read files and folders, then ingest them (see :func:`ingest_items`); ``id_prefix`` is put before
    every document id, and unsupported files found in folders are listed in ``report.skipped``."""
    from corpus.readers import read_paths

    report = kwargs.pop("report", None) or IngestReport()
    items = read_paths(paths, id_prefix=id_prefix, skipped=report.skipped)
    return ingest_items(store, items, report=report, **kwargs)

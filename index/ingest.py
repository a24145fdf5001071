"""Ingestion: read inputs, prepare documents, embed and commit them in batches."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from corpus.models import Article, Rejection
from corpus.prepare import Document, EmptyDocumentError, prepare
from index.store import Store, WriteResult

BATCH_CHUNKS = 1024  # chunks embedded per commit: a crash loses at most one batch of work


@dataclass
class IngestReport:
    """Counts of what an ingest did, and every rejected input with its reason."""

    result: WriteResult = field(default_factory=WriteResult)
    rejected: list[Rejection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        r = self.result
        return {
            "added": len(r.added),
            "updated": len(r.updated),
            "unchanged": len(r.unchanged),
            "duplicates": len(r.duplicates),
            "rejected": [x.as_dict() for x in self.rejected],
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
) -> IngestReport:
    """Ingest articles, committing every ``batch_chunks`` chunks; ``on_batch(docs, chunks)`` reports progress.

    ``batch_chunks`` defaults to ``$POLICYQA_BATCH_CHUNKS``, else BATCH_CHUNKS.
    """
    if batch_chunks is None:
        batch_chunks = int(os.environ.get("POLICYQA_BATCH_CHUNKS", BATCH_CHUNKS))
    report = IngestReport()
    batch: list[Document] = []
    size = 0
    for doc in prepare_all(items, report):
        batch.append(doc)
        size += len(doc.chunks)
        if size >= batch_chunks:
            _commit(store, batch, report, on_batch)
            batch, size = [], 0
    if batch:
        _commit(store, batch, report, on_batch)
    return report


def _commit(
    store: Store, batch: list[Document], report: IngestReport, on_batch: Callable[[int, int], None] | None
) -> None:
    report.result.merge(store.write(batch))
    if on_batch:
        on_batch(len(batch), sum(len(d.chunks) for d in batch))


def ingest_paths(store: Store, paths: list[Path | str], **kwargs) -> IngestReport:
    """Read files and folders, then ingest them (see :func:`ingest_items`)."""
    from corpus.readers import read_paths

    return ingest_items(store, read_paths(paths), **kwargs)

"""Ingestion: read inputs, prepare documents, embed and commit them in batches, as a pipeline.

Three stages overlap: a reader thread reads, normalizes and chunks the next batch; the calling thread
embeds the current one (the model runs outside the GIL); a committer thread tokenizes and commits the
previous one. Queues between them are bounded (two batches), so memory stays that of a few batches.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
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


EMBED_SLICE = 64  # chunks embedded between progress reports
_END = object()


def _batches(docs: Iterable[Document], batch_chunks: int) -> Iterator[list[Document]]:
    """Consecutive groups of documents holding at least ``batch_chunks`` chunks each (the last: the rest)."""
    batch: list[Document] = []
    size = 0
    for doc in docs:
        batch.append(doc)
        size += len(doc.chunks)
        if size >= batch_chunks:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _read_ahead(batches: Iterator[list[Document]], depth: int = 2) -> Iterator[list[Document]]:
    """Iterate ``batches`` with a thread preparing up to ``depth`` batches ahead; its errors re-raise here."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for batch in batches:
                while not stop.is_set():
                    try:
                        q.put(batch, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(_END)
        except BaseException as e:  # handed to the consumer
            q.put(e)

    thread = threading.Thread(target=produce, name="policyqa-ingest-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


def _tap(docs: Iterable[Document], on_prepared: Callable[[int], None]) -> Iterator[Document]:
    for doc in docs:
        on_prepared(len(doc.chunks))
        yield doc


def _embed(
    store: Store, todo: list[Document], on_chunks: Callable[[int], None] | None
) -> list:
    """Embeddings of ``todo``, in slices of about EMBED_SLICE chunks, reporting each slice."""
    out: list = []
    for group in _batches(todo, EMBED_SLICE):
        out.extend(store.embed(group))
        if on_chunks:
            on_chunks(sum(len(d.chunks) for d in group))
    return out


def ingest_items(
    store: Store,
    items: Iterable[Article | Rejection],
    batch_chunks: int | None = None,
    on_batch: Callable[[int, int], None] | None = None,
    replace: bool = False,
    report: IngestReport | None = None,
    on_chunks: Callable[[int], None] | None = None,
    on_prepared: Callable[[int], None] | None = None,
) -> IngestReport:
    """Ingest articles, committing every ``batch_chunks`` chunks; ``on_batch(docs, chunks)`` reports each
    commit, ``on_chunks(n)`` every few embedded chunks and ``on_prepared(chunks)`` each prepared document
    (from the reader thread, which runs up to two batches ahead).

    ``batch_chunks`` defaults to ``$POLICYQA_BATCH_CHUNKS``, else BATCH_CHUNKS. An article whose id is
    stored from another source file is rejected (the rest of its batch is stored) unless ``replace``.
    Results are added to ``report`` when one is given. Reading and preparing the next batch, embedding
    this one and committing the previous one run at the same time.
    """
    if batch_chunks is None:
        batch_chunks = int(os.environ.get("POLICYQA_BATCH_CHUNKS", BATCH_CHUNKS))
    report = report if report is not None else IngestReport()
    pending: Future | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="policyqa-ingest-commit") as committer:
        docs = prepare_all(items, report)
        if on_prepared is not None:
            docs = _tap(docs, on_prepared)
        for batch in _read_ahead(_batches(docs, batch_chunks)):
            # Planned again under the write lock; this first pass only spares embedding what is not written.
            todo, planned = (batch, WriteResult()) if replace else store.plan(batch)
            if on_chunks is not None:  # unchanged, duplicate and conflicting documents need no embedding
                on_chunks(sum(len(d.chunks) for d in batch) - sum(len(d.chunks) for d in todo))
            embeddings = _embed(store, todo, on_chunks)
            if pending is not None:
                pending.result()  # commits stay in order, one in flight
            report.result.merge(planned)
            _reject_conflicts(planned, batch, report)
            pending = committer.submit(_commit, store, batch, todo, embeddings, report, on_batch, replace)
        if pending is not None:
            pending.result()
    return report


def _reject_conflicts(result: WriteResult, batch: list[Document], report: IngestReport) -> None:
    by_id = {d.doc_id: d for d in batch}
    for doc_id, stored, new in result.conflicts:
        doc = by_id[doc_id]
        reason = f"id {doc_id!r} already names the document read from {stored}; this is another file ({new}), so it was not stored"
        report.rejected.append(Rejection(doc.path or new, reason, doc.line))


def _commit(
    store: Store,
    batch: list[Document],
    todo: list[Document],
    embeddings: list,
    report: IngestReport,
    on_batch: Callable[[int, int], None] | None,
    replace: bool,
) -> None:
    if todo:
        result = store.write(todo, embeddings, replace=replace)
        report.result.merge(result)
        _reject_conflicts(result, batch, report)
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

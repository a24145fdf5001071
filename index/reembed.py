"""Re-embed every chunk of a data directory with another embedder spec (``policyqa reembed RUNTIME``).

The stored documents are re-prepared from their stored original text into a new directory beside the
old one, written through the ordinary write path with the new embedder, sealed, and swapped in (see
:mod:`index.dir_swap`). The old directory's write lock is held throughout, so no write is lost; a crash
at any point leaves either the old directory or the finished new one. Readers should be stopped first
(a running server keeps answering from the old files until it restarts).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from corpus.models import Article
from corpus.normalize import normalize
from corpus.prepare import Document, prepare
from index import dir_swap
from index.embedder import EmbedderSpec
from index.store import LOCK, Store, StoreError

BATCH_DOCS = 64


@dataclass
class ReembedReport:
    """What a re-embed did."""

    old: EmbedderSpec
    new: EmbedderSpec
    documents: int = 0
    chunks: int = 0

    def as_dict(self) -> dict:
        return {"old": self.old.as_dict(), "new": self.new.as_dict(), "documents": self.documents,
                "chunks": self.chunks}


def stored_documents(store: Store) -> Iterator[Document]:
    """Every stored document, re-prepared from its stored original text (identical chunks, checked)."""
    for meta in store.list_documents():
        row = store.get_document(meta["doc_id"])
        if row is None:  # deleted meanwhile: impossible under the write lock, harmless otherwise
            continue
        source_of = normalize(row["original"]).source  # normalized position -> original position
        body_start = int(source_of[row["body_start"]]) if row["body_start"] < len(source_of) else 0
        article = Article(
            doc_id=row["doc_id"],
            text=row["original"],
            title=row["title"] or "",
            date=row["date"],
            source=row["source"],
            url=row["url"],
            body_start=body_start,
            raw=row["raw"],
            path=row["path"],
            source_path=row.get("source_path"),
        )
        doc = prepare(article)
        if doc.text != row["normalized"] or doc.body_start != row["body_start"]:
            raise StoreError(
                f"document {row['doc_id']!r} no longer normalizes to its stored text; re-ingest it from "
                "its source file instead of re-embedding"
            )
        yield doc


def reembed(
    data_dir: Path,
    new: EmbedderSpec,
    on_batch: Callable[[int, int], None] | None = None,
) -> ReembedReport:
    """Rebuild ``data_dir`` with embedder ``new``; ``on_batch(docs, chunks)`` reports progress."""
    data_dir = Path(data_dir).expanduser()
    if not (data_dir / "config.json").is_file():
        raise StoreError(f"{data_dir} is not a policyqa data directory (no config.json)")
    source = Store(data_dir)
    report = ReembedReport(source.spec, new)
    if source.spec == new:
        return report
    copy = dir_swap.new_copy(data_dir)
    try:
        source.lock.acquire(timeout=30)
    except Exception as e:
        raise StoreError(f"another writer holds {data_dir / LOCK}; stop it and try again ({e})") from None
    try:
        if copy.exists():
            shutil.rmtree(copy)  # a re-embed that crashed before it was sealed
        target = Store(copy, new)
        batch: list[Document] = []

        def flush() -> None:
            target.write(batch)
            report.documents += len(batch)
            n = sum(len(d.chunks) for d in batch)
            report.chunks += n
            if on_batch:
                on_batch(len(batch), n)
            batch.clear()

        for doc in stored_documents(source):
            batch.append(doc)
            if len(batch) >= BATCH_DOCS:
                flush()
        if batch:
            flush()
        expected = source.stats()
        got = target.stats()
        if (got["documents"], got["chunks"]) != (expected["documents"], expected["chunks"]):
            raise StoreError(
                f"re-embedded copy has {got['documents']} documents / {got['chunks']} chunks, the original "
                f"{expected['documents']} / {expected['chunks']}; {data_dir} is left as it was"
            )
        target.close()
        source.close()
        dir_swap.seal(copy)
        dir_swap.swap(data_dir)
    finally:
        source.lock.release()
    return report

"""Turn an Article into a normalized, chunked document ready for indexing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from corpus.chunking import chunk_text
from corpus.models import Article, Chunk
from corpus.normalize import normalize


class EmptyDocumentError(ValueError):
    """The article has no text left to index after normalization."""


@dataclass
class Document:
    """A normalized article: text, map back to the original, and its chunks."""

    doc_id: str
    title: str
    date: str | None
    source: str | None
    url: str | None
    original: str
    text: str
    offsets: np.ndarray  # offsets[i] = index in ``original`` of text[i]
    body_start: int  # where the body starts in ``text``
    content_hash: str
    chunks: list[Chunk]
    raw: str | None = None
    path: str | None = None
    warnings: list[str] = field(default_factory=list)
    source_path: str | None = None  # absolute path of the source file (see Article)
    id_explicit: bool = False  # the input named its id (see Article)
    line: int | None = None  # JSONL line number, for messages
    added_at: str | None = None  # when copied from another store: its timestamps, kept (else the store's now)
    updated_at: str | None = None

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map the normalized span [start, end) to the original text's span."""
        if start == end:
            at = int(self.offsets[start]) if start < len(self.text) else len(self.original)
            return at, at
        return int(self.offsets[start]), int(self.offsets[end - 1]) + 1


def content_hash(text: str) -> str:
    """Hash of a document's normalized body, used to spot the same text under another id."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def prepare(article: Article) -> Document:
    """Normalize and chunk an article; raises EmptyDocumentError when no body text remains."""
    norm = normalize(article.text)
    body_start = int(np.searchsorted(norm.source, article.body_start)) if len(norm.text) else 0
    body = norm.text[body_start:]
    if not body.strip():
        raise EmptyDocumentError("no text left after normalization")
    title = normalize(article.title).text if article.title else ""
    chunks = chunk_text(article.doc_id, norm.text, body_start)
    return Document(
        doc_id=article.doc_id,
        title=title,
        date=article.date,
        source=normalize(article.source).text if article.source else None,
        url=article.url,
        original=article.text,
        text=norm.text,
        offsets=norm.source,
        body_start=body_start,
        content_hash=content_hash(body),
        chunks=chunks,
        raw=article.raw,
        path=article.path,
        warnings=list(article.warnings),
        source_path=article.source_path,
        id_explicit=article.id_explicit,
        line=article.line,
    )

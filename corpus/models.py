"""Plain data records that flow out of the corpus layer."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Article:
    """One article as read from disk, before normalization.

    ``text`` is the original text that citation offsets (``orig_start``/``orig_end``) point into:
    the decoded file for .txt/.md, the ``content`` field for JSONL, the extracted main text for HTML.
    ``body_start`` is where the body begins inside ``text`` (after a title line and metadata lines).
    ``source_path`` is the absolute path of the file it was read from (None when not read from a file);
    ``id_explicit`` says the input named its id itself (a JSONL ``id``/``_id``, an HTTP document), so
    it upserts whatever stored document has that id instead of being bound to ``source_path``.
    """

    doc_id: str
    text: str
    title: str = ""
    date: str | None = None
    source: str | None = None
    url: str | None = None
    body_start: int = 0
    raw: str | None = None
    path: str | None = None
    line: int | None = None
    warnings: list[str] = field(default_factory=list)
    source_path: str | None = None
    id_explicit: bool = False


@dataclass
class Rejection:
    """An input that could not become an article, with the place and the reason."""

    path: str
    reason: str
    line: int | None = None

    def as_dict(self) -> dict:
        return {"path": self.path, "line": self.line, "reason": self.reason}


@dataclass
class Chunk:
    """A span of a document's normalized text, the unit that is embedded and searched."""

    chunk_id: str
    doc_id: str
    position: int
    start: int
    end: int
    text: str

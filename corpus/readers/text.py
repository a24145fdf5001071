"""Plain-text and Markdown articles: a title line, metadata lines, then the body."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from corpus import encoding
from corpus.metadata import parse_header
from corpus.models import Article, Rejection


def read_text(path: Path, rel: str) -> Iterator[Article | Rejection]:
    """One Article for a .txt/.md file (``text`` is the whole decoded file), or one Rejection.

    The id is the url from the metadata lines, else ``rel``."""
    shown = str(path)
    try:
        text, warnings = encoding.read_text_file(path)
    except encoding.DecodeError as exc:
        yield Rejection(shown, exc.reason)
        return
    header = parse_header(text)
    if not text[header.body_start :].strip():
        yield Rejection(shown, "no body text after the title and metadata lines")
        return
    yield Article(
        doc_id=header.url or rel,
        text=text,
        title=header.title,
        date=header.date,
        source=header.source,
        url=header.url,
        body_start=header.body_start,
        path=shown,
        warnings=warnings + header.warnings,
    )

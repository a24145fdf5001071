"""Sentence-aware chunking of normalized documents."""

from __future__ import annotations

import hashlib
import re

from corpus.models import Chunk
from corpus.sentences import split_sentences

TARGET_CHARS = 300
MAX_CHARS = 450
# Inside an over-long sentence, clauses end after a comma or colon (never inside 12.92 or 1,000).
_CLAUSE = re.compile(r"[，,：:、](?!\d)")


def chunk_id(doc_id: str, position: int, text: str) -> str:
    """Deterministic chunk id: document id, position and a hash of the chunk's text."""
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
    return f"{doc_id}#{position}:{digest}"


def _pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentences, with any sentence longer than MAX_CHARS cut at clause marks, else hard-cut."""
    out: list[tuple[int, int]] = []
    for a, b in split_sentences(text, start, end):
        while b - a > MAX_CHARS:
            cut = None
            for m in _CLAUSE.finditer(text, a + TARGET_CHARS // 2, a + MAX_CHARS):
                cut = m.end()
            if cut is None:
                cut = a + MAX_CHARS
                while cut > a + TARGET_CHARS and text[cut - 1].isdigit() and text[cut].isdigit():
                    cut -= 1
            out.append((a, cut))
            a = cut
        out.append((a, b))
    return out


def chunk_text(doc_id: str, text: str, start: int = 0, end: int | None = None) -> list[Chunk]:
    """Cut ``text[start:end]`` into chunks of whole sentences, about TARGET_CHARS each.

    Consecutive chunks share one sentence (the last of one is the first of the next) unless that
    sentence is long; every chunk's text is exactly ``text[chunk.start:chunk.end]``.
    """
    pieces = _pieces(text, start, len(text) if end is None else end)
    chunks: list[Chunk] = []
    i = 0
    while i < len(pieces):
        j = i + 1
        while j < len(pieces) and pieces[j][1] - pieces[i][0] <= TARGET_CHARS:
            j += 1
        a, b = pieces[i][0], pieces[j - 1][1]
        body = text[a:b]
        chunks.append(Chunk(chunk_id(doc_id, len(chunks), body), doc_id, len(chunks), a, b, body))
        if j >= len(pieces):
            break
        last = pieces[j - 1]
        overlap = j - 1 > i and last[1] - last[0] <= TARGET_CHARS // 3
        i = j - 1 if overlap else j
    return chunks

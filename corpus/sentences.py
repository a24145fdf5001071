"""Sentence boundaries for Chinese news text."""

from __future__ import annotations

import re

# A sentence ends after a terminator (plus any closing quotes/brackets) or at a line break.
# "." is no terminator in Chinese text, so numbers such as 12.92亿元 are never split. ASCII "!" and
# "?" end a sentence only before a space, a line break or the end: scraped mojibake is full of "?".
_END = re.compile(r"(?:[。！？；;]|[!?](?=[\s”’」』）)》]|$))+[”’」』）)》]*|\n+")


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Return [start, end) spans of the sentences of ``text[start:end]``, whitespace trimmed."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    for m in _END.finditer(text, start, end):
        _add(text, pos, m.end(), spans)
        pos = m.end()
    _add(text, pos, end, spans)
    return spans


def _add(text: str, a: int, b: int, spans: list[tuple[int, int]]) -> None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if b > a:
        spans.append((a, b))

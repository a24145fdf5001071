"""Clauses and protected spans of a sentence. Balanced quotes and brackets (“…”, 《…》, （…）) are one unit
that is never cut into clauses or list items; ``protected_spans`` marks their insides and returns the
quote and title spans, and ``clause_spans`` cuts a sentence at its clause punctuation outside them.
"""

from __future__ import annotations

import re

# Balanced quotes and brackets whose inside is one unit (never split into clauses or list items).
_PAIRS = re.compile(
    r"“[^“”\n]{1,40}”|《[^《》\n]{1,80}》|「[^「」\n]{1,40}」|『[^『』\n]{1,40}』|‘[^‘’\n]{1,30}’|"
    r'"[^"\n]{1,40}"|\([^()\n]{1,24}\)|（[^（）\n]{1,24}）|【[^【】\n]{1,30}】'
)
QUOTE_OPEN = '“「『‘"《'


def protected_spans(text: str) -> tuple[list[bool], list[tuple[int, int]]]:
    """Mask of characters inside balanced quotes/brackets, and the quote/title spans themselves."""
    mask = [False] * len(text)
    quotes: list[tuple[int, int]] = []
    for m in _PAIRS.finditer(text):
        for k in range(m.start() + 1, m.end() - 1):
            mask[k] = True
        if text[m.start()] in QUOTE_OPEN:
            quotes.append((m.start(), m.end()))
    return mask, quotes


_CLAUSE_DELIMS = set("，,；;：:。！？!?")


def clause_spans(text: str, mask: list[bool]) -> list[tuple[int, int]]:
    """Clause spans of a sentence: cut at ，,；;：:。！？ outside quotes (ASCII , : not between digits)."""
    out: list[tuple[int, int]] = []
    start = 0
    for i, ch in enumerate(text):
        if ch not in _CLAUSE_DELIMS or mask[i]:
            continue
        if ch in ",:" and 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit():
            continue
        if start < i:
            out.append((start, i))
        start = i + 1
    if start < len(text):
        out.append((start, len(text)))
    return out

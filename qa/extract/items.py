"""The records extraction reads and writes: a caller-scored ``Sentence`` with its document offset, and an
answer ``Item`` whose ``start``/``end`` index the document's normalized text. ``item_at`` cuts an item
out of a sentence, so the offset arithmetic lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Sentence:
    """A sentence of a retrieved passage."""

    text: str  # normalized (Simplified) sentence text
    start: int  # offset of the sentence in its document's normalized text
    citation: int  # 1-based citation number of the passage it came from
    score: float  # relevance of the sentence to the question (higher is better), precomputed by the caller


@dataclass
class Item:
    """One answer span; ``text == doc_text[start:end]`` for the document the citation points to."""

    text: str
    citation: int
    start: int
    end: int


def item_at(sent: Sentence, a: int, b: int) -> Item:
    """The item for ``sent.text[a:b]``, with document offsets."""
    return Item(sent.text[a:b], sent.citation, sent.start + a, sent.start + b)

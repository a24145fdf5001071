"""Near-duplicate detection for result lists: reposted articles carry the same sentences."""

from __future__ import annotations

import re

_NOISE = re.compile(r"[\W_]+")
NEAR_DUPLICATE = 0.6  # Jaccard similarity of character trigrams at or above which two passages are one


def shingles(text: str, n: int = 3) -> frozenset[str]:
    """Character n-grams of the text without punctuation and spaces."""
    core = _NOISE.sub("", text.lower())
    return frozenset([core[i : i + n] for i in range(max(1, len(core) - n + 1))])


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """|a ∩ b| / |a ∪ b| (0 for two empty sets)."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def is_near_duplicate(candidate: frozenset[str], kept: list[frozenset[str]]) -> bool:
    """Whether the candidate repeats a passage already kept (most of its trigrams, either way)."""
    size = len(candidate)
    for other in kept:
        overlap = len(candidate & other)
        union = size + len(other) - overlap  # |a | b|, without building the union
        similarity = overlap / union if union else 0.0  # = jaccard(candidate, other)
        if similarity >= NEAR_DUPLICATE or overlap / (min(size, len(other)) or 1) >= 0.9:
            return True
    return False

"""Sentence score normalization. Callers score sentences on any scale (term overlap, idf mass, ranks);
the extractors weigh them on one scale, [0, 1], against how well a candidate fits the question.
"""

from __future__ import annotations

from qa.extract.items import Sentence


def normalized_scores(sentences: list[Sentence]) -> list[float]:
    """Sentence scores scaled to [0, 1]: divided by the best when none is negative, else min-max."""
    scores = [s.score for s in sentences]
    if not scores:
        return []
    lo, hi = min(scores), max(scores)
    if hi - lo <= 1e-12:
        return [1.0] * len(scores)
    if lo >= 0:
        return [s / hi for s in scores]
    return [(s - lo) / (hi - lo) for s in scores]

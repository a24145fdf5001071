"""Fusing dense and lexical candidate lists into one ranking.

``hybrid`` (the default) standardizes each list's scores per query (z-scores over its candidates) and
mixes them with weights, plus a bonus for chunks that hold the query's rare terms verbatim, so exact
names are not buried. When the
lexical side found nothing the query is effectively dense-only, and vice versa. The weights are set in
``HYBRID_WEIGHTS``; bench/tune_fusion.py chose them on held-out tuning data (see README).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Candidates:
    """Per-chunk scores from each retriever (chunk row id -> score)."""

    dense: dict[int, float] = field(default_factory=dict)
    lexical: dict[int, float] = field(default_factory=dict)
    rare: dict[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class HybridWeights:
    """Weights of the hybrid fusion (see module docstring)."""

    lexical: float = 0.4  # weight of the BM25 z-score against the dense z-score (weight 1)
    rare: float = 0.0  # bonus for holding the query's rare terms verbatim (share of them held)
    confidence: bool = True  # scale the lexical weight by how peaked BM25 is relative to dense, per query


HYBRID_WEIGHTS = HybridWeights()


def _ranked(scores: dict[int, float]) -> list[tuple[int, float]]:
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def dense_only(c: Candidates) -> list[tuple[int, float]]:
    """Dense ranking alone."""
    return _ranked(c.dense)


def lexical_only(c: Candidates) -> list[tuple[int, float]]:
    """BM25 ranking alone."""
    return _ranked(c.lexical)


def rrf(c: Candidates, k: int = 60) -> list[tuple[int, float]]:
    """Reciprocal rank fusion of the two rankings."""
    out: dict[int, float] = {}
    for ranking in (_ranked(c.dense), _ranked(c.lexical)):
        for rank, (i, _s) in enumerate(ranking):
            out[i] = out.get(i, 0.0) + 1.0 / (k + rank + 1)
    return _ranked(out)


def _zscores(scores: dict[int, float]) -> tuple[dict[int, float], float]:
    """Per-query standardized scores, and the value given to chunks missing from this list."""
    values = list(scores.values())
    mean = sum(values) / len(values)
    sd = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5 or 1.0
    z = {i: (v - mean) / sd for i, v in scores.items()}
    return z, min(z.values())


def hybrid(c: Candidates, w: HybridWeights | None = None) -> list[tuple[int, float]]:
    """Dense and BM25 scores standardized per query, mixed with weights, plus the rare-term bonus."""
    w = w or HYBRID_WEIGHTS
    if not c.lexical:
        return dense_only(c)
    if not c.dense:
        return lexical_only(c)
    dz, dmiss = _zscores(c.dense)
    lz, lmiss = _zscores(c.lexical)
    lexical = w.lexical * (_confidence_ratio(c) if w.confidence else 1.0)
    out = {
        i: dz.get(i, dmiss) + lexical * lz.get(i, lmiss) + w.rare * c.rare.get(i, 0.0)
        for i in set(c.dense) | set(c.lexical)
    }
    return _ranked(out)


def _peak(scores: dict[int, float]) -> float:
    """How far the best score stands out: (top - mean of the rest) / standard deviation."""
    values = sorted(scores.values(), reverse=True)
    if len(values) < 3:
        return 1.0
    rest = values[1:]
    mean = sum(values) / len(values)
    sd = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5 or 1.0
    return max(0.0, (values[0] - sum(rest) / len(rest)) / sd)


def _confidence_ratio(c: Candidates) -> float:
    """Lexical over dense peakedness, bounded to [0.25, 4]: trust BM25 more when it is sure, less when not."""
    dense = _peak(c.dense)
    if dense <= 0:
        return 4.0
    return min(4.0, max(0.25, _peak(c.lexical) / dense))


FUSERS: dict[str, Callable[[Candidates], list[tuple[int, float]]]] = {
    "hybrid": hybrid,
    "rrf": rrf,
    "dense": dense_only,
    "bm25": lexical_only,
}


def fuse(c: Candidates, how: str) -> list[tuple[int, float]]:
    """Rank candidates with the named fusion."""
    return FUSERS[how](c)

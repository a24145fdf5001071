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

    lexical: float = 0.5  # weight of the BM25 z-score against the dense z-score (weight 1)
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


def _zscores(scores: dict[int, float], pool: set[int], missing: float | None = None) -> dict[int, float]:
    """Per-query standardized scores over every candidate in ``pool``.

    A candidate absent from this list gets ``missing`` (BM25: 0, it matched no query term), else the
    list's lowest score. Standardizing over the whole pool keeps a BM25 list with one or two matches --
    a rare name -- from being squashed to a z-score near 1 while dense's best stands at 3 or more.
    """
    floor = min(scores.values()) if missing is None else missing
    values = [scores.get(i, floor) for i in pool]
    mean = sum(values) / len(values)
    sd = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5 or 1.0
    return {i: (v - mean) / sd for i, v in zip(pool, values, strict=True)}


def hybrid(c: Candidates, w: HybridWeights | None = None) -> list[tuple[int, float]]:
    """Dense and BM25 scores standardized per query, mixed with weights, plus the rare-term bonus."""
    w = w or HYBRID_WEIGHTS
    if not c.lexical:
        return dense_only(c)
    if not c.dense:
        return lexical_only(c)
    pool = set(c.dense) | set(c.lexical)
    dz = _zscores(c.dense, pool)
    lz = _zscores(c.lexical, pool, missing=0.0)
    lexical = w.lexical * (_confidence_ratio(dz, lz) if w.confidence else 1.0)
    return _ranked({i: dz[i] + lexical * lz[i] + w.rare * c.rare.get(i, 0.0) for i in pool})


def _peak(z: dict[int, float]) -> float:
    """How far the best standardized score stands out from the mean of the rest."""
    values = sorted(z.values(), reverse=True)
    if len(values) < 2:
        return 1.0
    return max(0.0, values[0] - sum(values[1:]) / (len(values) - 1))


def _confidence_ratio(dense_z: dict[int, float], lexical_z: dict[int, float]) -> float:
    """Lexical over dense peakedness, bounded to [0.25, 4]: trust BM25 more when it is sure, less when not."""
    dense = _peak(dense_z)
    if dense <= 0:
        return 4.0
    return min(4.0, max(0.25, _peak(lexical_z) / dense))


FUSERS: dict[str, Callable[[Candidates], list[tuple[int, float]]]] = {
    "hybrid": hybrid,
    "rrf": rrf,
    "dense": dense_only,
    "bm25": lexical_only,
}


def fuse(c: Candidates, how: str) -> list[tuple[int, float]]:
    """Rank candidates with the named fusion."""
    return FUSERS[how](c)

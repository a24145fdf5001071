"""Fusing dense and lexical candidate lists into one ranking.

``hybrid`` (the default) normalizes each list's scores per query and mixes them with weights, plus
a bonus for chunks that hold the query's rare terms verbatim, so exact names are not buried. When the
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

    dense: float = 0.7
    lexical: float = 0.3
    rare: float = 0.1
    dense_floor: float = 0.1  # normalized dense score = (s - (max - spread)) / spread, floored at 0
    spread: float = 0.15


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


def hybrid(c: Candidates, w: HybridWeights | None = None) -> list[tuple[int, float]]:
    """Score-normalized weighted fusion with a rare-term bonus."""
    w = w or HYBRID_WEIGHTS
    if not c.lexical:
        return dense_only(c)
    if not c.dense:
        return lexical_only(c)
    top_dense = max(c.dense.values())
    floor = top_dense - w.spread
    min_dense = min(c.dense.values())
    top_lex = max(c.lexical.values())
    out: dict[int, float] = {}
    for i in set(c.dense) | set(c.lexical):
        d = c.dense.get(i, min_dense)
        dn = max(0.0, (d - floor) / w.spread)
        ln = c.lexical.get(i, 0.0) / top_lex
        out[i] = w.dense * dn + w.lexical * ln + w.rare * c.rare.get(i, 0.0)
    return _ranked(out)


FUSERS: dict[str, Callable[[Candidates], list[tuple[int, float]]]] = {
    "hybrid": hybrid,
    "rrf": rrf,
    "dense": dense_only,
    "bm25": lexical_only,
}


def fuse(c: Candidates, how: str) -> list[tuple[int, float]]:
    """Rank candidates with the named fusion."""
    return FUSERS[how](c)

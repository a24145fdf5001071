"""How close a question's terms sit to a candidate span in a sentence. Distance is counted in characters
plus a penalty for each clause or sentence break between; a term's weight decays with its nearest
occurrence's distance, and terms in the same clause within about 10 characters count as "close".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from qa.extract.term_matching import Occurrence
from qa.question_type import has_han


def _distance(text: str, a: int, b: int, c: int, d: int) -> float:
    """Characters between spans [a,b) and [c,d), plus a penalty for each clause/sentence break between."""
    if d <= a:
        lo, hi = d, a
    elif b <= c:
        lo, hi = b, c
    else:
        return 0.0
    gap = text[lo:hi]
    breaks = sum(gap.count(ch) for ch in "；;。！？!?") * 10 + sum(gap.count(ch) for ch in "，,") * 5
    return float(hi - lo + breaks)


def _same_clause(text: str, a: int, b: int, c: int, d: int) -> bool:
    """Whether no clause break (，,；;。：:！？) lies between spans [a,b) and [c,d)."""
    lo, hi = (d, a) if d <= a else (b, c) if b <= c else (0, 0)
    return not any(ch in "，,；;。：:！？!?" for ch in text[lo:hi])


@dataclass
class Nearness:
    """How close the question's terms sit to a span."""

    score: float  # sum of weight * decay(distance), nearest occurrence of each term
    close: frozenset  # terms within about 10 characters
    cover: float  # question characters found, discounted by distance (Chinese questions)


def proximity(
    text: str,
    a: int,
    b: int,
    occ: list[Occurrence],
    inside: Sequence[tuple[int, int]] = (),
    inside_counts: bool = True,
) -> Nearness:
    """Sum over terms of weight * decay(distance) for the term's nearest occurrence to [a, b) (decay mixes
    a short and a long range: adjacent words count most, words elsewhere in the sentence still count),
    and the set of (non-generic) terms that sit close: within about 10 characters, in the same clause.

    Occurrences inside the ``inside`` spans (the answer items themselves) count half, and only count as
    close when ``inside_counts``: a question word inside a lone name is no evidence that it answers."""
    best: dict[object, float] = {}
    cover: dict[object, float] = {}
    close: set[object] = set()
    for tid, c, d, w in occ:
        within = any(s <= c and d <= e for s, e in inside)
        if within:
            w *= 0.5
        dist = _distance(text, a, b, c, d)
        val = w * (0.5 * math.exp(-dist / 8.0) + 0.5 * math.exp(-dist / 40.0))
        if val > best.get(tid, 0.0):
            best[tid] = val
        if isinstance(tid, str) and has_han(tid) and (inside_counts or not within):
            cover[tid] = max(
                cover.get(tid, 0.0), len(tid) * math.exp(-dist / 16.0) * (0.5 if within else 1.0)
            )
        if dist <= 10 and w >= 0.45 and (inside_counts or not within) and _same_clause(text, a, b, c, d):
            close.add(tid)
    return Nearness(sum(best.values()), frozenset(close), sum(cover.values()))

"""Does the corpus support an answer? A calibrated verdict, so unrelated text is not passed off as one.

Two signals: how close the best passage is to the question in the embedding space (cosine), and how
much of the question's distinctive wording (idf-weighted query terms, names bridged from pinyin
included) the best sentences contain. English questions whose words cannot be matched lexically are
judged on the cosine alone. The thresholds were calibrated with bench/answer_quality.py on development
questions, answerable and unanswerable (see README).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from qa.extract import Sentence
from qa.search import Hit, QueryPlan

MIN_COSINE = 0.80  # below this the best passage is about something else
MIN_COVERAGE = 0.45  # share of the question's idf mass the best sentences must hold
STRONG_COSINE = 0.86  # at or above this, a passage is accepted on meaning alone


@dataclass
class Support:
    """The verdict and the signals it rests on."""

    found: bool
    cosine: float | None
    coverage: float | None
    reason: str

    def as_dict(self) -> dict:
        return asdict(self)


def term_coverage(tokens: list[str], idf: dict[str, float], sentences: list[Sentence], top: int = 3) -> float | None:
    """Largest idf-weighted share of the query terms held by one of the top sentences (None: no terms)."""
    terms = {t for t in tokens if len(t) >= 2 or not t.isascii()}
    total = sum(idf.get(t, 1.0) for t in terms)
    if not terms or total <= 0:
        return None
    best = 0.0
    for s in sentences[:top]:
        text = s.text.lower()
        best = max(best, sum(idf.get(t, 1.0) for t in terms if t in text) / total)
    return best


def judge_support(plan: QueryPlan, hits: list[Hit], sentences: list[Sentence], idf: dict[str, float]) -> Support:
    """Decide whether the retrieved passages answer the question."""
    cosine = max((h.dense for h in hits if h.dense is not None), default=None)
    lexical_tokens = [t for t in plan.tokens if not t.isascii()]
    coverage = term_coverage(lexical_tokens, idf, sentences) if lexical_tokens else None
    if cosine is not None and cosine < MIN_COSINE:
        return Support(False, cosine, coverage, "best passage is not close to the question")
    if coverage is None:
        ok = cosine is None or cosine >= MIN_COSINE
        return Support(ok, cosine, None, "judged on meaning alone (no matchable question terms)")
    if coverage >= MIN_COVERAGE or (cosine is not None and cosine >= STRONG_COSINE):
        return Support(True, cosine, coverage, "passages hold the question's terms")
    return Support(False, cosine, coverage, "passages miss most of the question's distinctive terms")

"""Does the corpus support an answer? A calibrated verdict, so unrelated text is not passed off as one.

Signals, in order:

1. How close the best passage is to the question in the embedding space (cosine): below
   ``MIN_COSINE`` the passages are about something else.
2. Missing names: a distinctive term of the question (a noun, name or number that few passages of the
   corpus hold, or none) that no retrieved passage contains means the corpus does not speak of it -- a
   question about 深圳前海 answered from a passage about 磨憨 would be a wrong answer, however close.
3. English questions cannot be matched word for word against Chinese text; past the two checks above
   they are judged on meaning (cosine) alone.
4. Chinese questions: the share of the question's idf mass the best sentences hold (coverage) must
   reach ``MIN_COVERAGE``, unless the passage is very close (``STRONG_COSINE``).

Thresholds were set with bench/answer_quality.py (tuned on half of the development questions, scored
on the other half; see README).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import lru_cache

from index.question_words import QUESTION_WORDS, mask_question_words
from qa.extract import Sentence
from qa.question_type import has_han
from qa.search import Hit, QueryPlan

MIN_COSINE = 0.79  # below this the best passage is about something else
MIN_COVERAGE = 0.50  # share of the question's idf mass the best sentences must hold
STRONG_COSINE = 0.885  # at or above this, a Chinese question's passage is accepted on meaning alone
RARE_SHARE = 0.02  # a term in at most this share of the corpus' passages is distinctive
_TERM_FLAGS = ("n", "nr", "ns", "nt", "nz", "m", "eng", "j", "vn")


@dataclass
class Support:
    """The verdict and the signals it rests on."""

    found: bool
    cosine: float | None
    coverage: float | None
    reason: str
    missing: list[str] | None = None

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


@lru_cache(maxsize=2048)
def distinctive_terms(question: str) -> tuple[str, ...]:
    """Nouns, names and numbers of a (normalized) Chinese question, two characters or more; question and
    function words (index/question_words.py) are masked first, so 什么时候 leaves no 时候 behind."""
    from qa.extract.tokens import _jieba

    _jieba_module, posseg = _jieba()
    return tuple(
        w.word
        for w in posseg.cut(mask_question_words(question, "，"))
        if len(w.word) >= 2 and w.flag.startswith(_TERM_FLAGS) and w.word.lower() not in QUESTION_WORDS
    )


def terms_to_look_up(plan: QueryPlan) -> list[str]:
    """Every token the verdict may ask the corpus statistics about: the question's distinctive terms and
    their bigrams (read from the same snapshot as the hits; see Searcher.retrieve)."""
    out: list[str] = []
    for t in distinctive_terms(plan.text) if has_han(plan.text) else ():
        term = t.lower()
        out.append(term)
        out.extend(term[i : i + 2] for i in range(len(term) - 1))
    return out


def _document_frequency(term: str, vocab: Mapping[str, int]) -> int:
    """Chunks holding ``term`` (at most): the term's own count, else the rarest of its bigrams."""
    if term in vocab:
        return vocab[term]
    grams = [term[i : i + 2] for i in range(len(term) - 1)] or [term]
    return min(vocab.get(g, 0) for g in grams)


def absent_terms(plan: QueryPlan, hits: list[Hit], vocab: Mapping[str, int]) -> dict[str, int]:
    """Distinctive question terms that no retrieved passage holds, with how many chunks hold each."""
    texts = [(h.title + h.text).lower() for h in hits]
    return {
        t: _document_frequency(t.lower(), vocab)
        for t in distinctive_terms(plan.text)
        if not any(t.lower() in x for x in texts)
    }


def missing_terms(plan: QueryPlan, hits: list[Hit], vocab: Mapping[str, int], n_chunks: int) -> list[str]:
    """Absent question terms rare enough in the corpus (``RARE_SHARE``) to mean it does not speak of them."""
    return [t for t, df in absent_terms(plan, hits, vocab).items() if df <= RARE_SHARE * n_chunks]


def judge_support(
    plan: QueryPlan,
    hits: list[Hit],
    sentences: list[Sentence],
    idf: dict[str, float],
    vocab: Mapping[str, int] | None = None,
    n_chunks: int = 0,
) -> Support:
    """Decide whether the retrieved passages answer the question."""
    cosine = max((h.dense for h in hits if h.dense is not None), default=None)
    lexical_tokens = [t for t in plan.tokens if not t.isascii()]
    coverage = term_coverage(lexical_tokens, idf, sentences) if lexical_tokens else None
    if cosine is not None and cosine < MIN_COSINE:
        return Support(False, cosine, coverage, "best passage is not close to the question")
    if has_han(plan.text) and vocab is not None:
        missing = missing_terms(plan, hits, vocab, n_chunks)
        if missing:
            return Support(False, cosine, coverage, "passages never mention: " + "、".join(missing), missing)
    if not has_han(plan.text) or coverage is None:
        return Support(True, cosine, coverage, "judged on meaning (no Chinese terms to match)")
    if coverage >= MIN_COVERAGE or (cosine is not None and cosine >= STRONG_COSINE):
        return Support(True, cosine, coverage, "passages hold the question's terms")
    return Support(False, cosine, coverage, "passages miss most of the question's distinctive terms")

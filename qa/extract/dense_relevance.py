"""Sentence relevance by meaning, for English questions the dictionary carries only in part.

An English question reaches the Chinese text through CC-CEDICT translations (qa/extract/cedict.py), and a
phrase can have none that the text uses: "take over" gives 接管/接收/接手, while a passage may say 托管.
The span extractors then rank candidate sentences on the question's other words alone, and a sentence
that shares an incidental word ("administration" -> 管理 in 管理办法) wins. When some English word or
phrase of the question matches none of the candidate sentences, ``dense_relevance`` asks the caller's
embedder how close each candidate sentence is to the question, so the meaning of the words the dictionary
missed still counts. Chinese questions, and English ones whose every word is found, are left to the
lexical evidence alone (and nothing is embedded for them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from qa.extract.items import Sentence
from qa.extract.term_matching import QuestionTerms, pinyin_hits
from qa.question_type import has_han

# Cosine of the question to each of a list of sentence texts (one embedding model for both).
Similarity = Callable[[list[str]], Sequence[float]]

# Weight of dense relevance (0..1 over the candidates) in a span's score: the weight the extractors give the
# sentence's own score, since it stands in for the lexical evidence the dictionary could not provide.
DENSE_WEIGHT = 1.5
# At most this many candidate sentences are embedded (the first given: callers pass them best first), so an
# answer embeds a bounded few short texts; the rest get no dense credit.
MAX_SENTENCES = 8


def unmatched_words(terms: QuestionTerms, texts: Sequence[str]) -> list[str]:
    """English words or phrases of the question that none of ``texts`` holds: no translation of a translated
    phrase occurs, or a romanized word matches no Han run by pinyin."""
    by_phrase: dict[str, list[str]] = {}
    for word, phrase in terms.sources.items():
        by_phrase.setdefault(phrase, []).append(word)
    missing = [p for p, words in by_phrase.items() if not any(w in t for w in words for t in texts)]
    missing += [p for p, _w in terms.pinyin if not any(pinyin_hits(t, p) for t in texts)]
    return missing


def dense_relevance(
    question: str,
    terms: QuestionTerms,
    sentences: list[Sentence],
    indices: Sequence[int],
    similarity: Similarity | None,
) -> dict[int, float]:
    """{sentence index: relevance in [0, 1]} for the candidate sentences ``indices`` (best first; the first
    ``MAX_SENTENCES``) of an English question with a word no candidate holds: the cosine of each to the
    question, scaled min-max over the candidates (the closest 1, the farthest 0). Empty (no dense evidence) for Chinese questions, when every word is
    found, with fewer than two candidates or when no ``similarity`` is given."""
    indices = list(dict.fromkeys(indices))[:MAX_SENTENCES]
    if similarity is None or has_han(question) or len(indices) < 2 or not (terms.sources or terms.pinyin):
        return {}
    texts = [sentences[i].text for i in indices]
    if not unmatched_words(terms, texts):
        return {}
    cosines = [float(c) for c in similarity(texts)]
    lo, hi = min(cosines), max(cosines)
    if hi - lo <= 1e-9:
        return {}
    return {i: (c - lo) / (hi - lo) for i, c in zip(indices, cosines, strict=True)}

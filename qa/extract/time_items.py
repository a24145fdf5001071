"""Answers to time questions: the date nearest the question's words, dates the question itself gives
skipped, and nothing when the best date sits in a weakly related sentence with none of the question's words.
For an English question with a word no candidate sentence holds, the sentences' dense similarity to the
question counts too (qa/extract/dense_relevance.py).
"""

from __future__ import annotations

import re

from qa.extract.dates import date_spans
from qa.extract.dense_relevance import DENSE_WEIGHT, Similarity, dense_relevance
from qa.extract.items import Item, Sentence, item_at
from qa.extract.proximity import proximity
from qa.extract.term_matching import build_terms, find_occurrences, sentence_cover
from qa.question_type import prepare


def extract_time(
    question: str, sentences: list[Sentence], norm: list[float],
    translations: dict[str, list[tuple[str, float]]] | None = None,
    similarity: Similarity | None = None,
) -> list[Item]:
    """The date nearest the question's words (dates the question itself gives are skipped); ``similarity``
    (question-to-sentence cosines) ranks the dated sentences by meaning where the question's English words
    are not all found in them."""
    q = prepare(question)
    qdates = {q[a:b] for a, b in date_spans(q)}
    terms = build_terms(question, exclude=qdates, translations=translations)
    spans = [(si, a, b) for si, sent in enumerate(sentences) for a, b in date_spans(sent.text)
             if sent.text[a:b] not in qdates]
    dense = dense_relevance(question, terms, sentences, [si for si, _a, _b in spans], similarity)
    best: tuple[float, int, int, int, float] | None = None
    occ_of: dict[int, tuple[list, float]] = {}
    for si, a, b in spans:
        text = sentences[si].text
        if si not in occ_of:
            occ = find_occurrences(text, terms)
            occ_of[si] = (occ, 2.0 * sentence_cover(occ, terms))
        occ, cover = occ_of[si]
        prox = proximity(text, a, b, occ).score
        score = prox + cover + 1.5 * norm[si] + 0.1 * len(re.findall(r"[年月日号]", text[a:b]))
        score += DENSE_WEIGHT * dense.get(si, 0.0)
        if best is None or score > best[0]:
            best = (score, si, a, b, prox)
    if best is None:
        return []
    _, si, a, b, prox = best
    if prox <= 0 and norm[si] < 0.5 and terms:
        return []  # a date in a weakly related sentence with none of the question's words
    return [item_at(sentences[si], a, b)]

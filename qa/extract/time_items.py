"""Answers to time questions: the date nearest the question's words, dates the question itself gives
skipped, and nothing when the best date sits in a weakly related sentence with none of the question's words.
"""

from __future__ import annotations

import re

from qa.extract.dates import date_spans
from qa.extract.items import Item, Sentence, item_at
from qa.extract.proximity import proximity
from qa.extract.term_matching import build_terms, find_occurrences, sentence_cover
from qa.question_type import prepare


def extract_time(
    question: str, sentences: list[Sentence], norm: list[float],
    translations: dict[str, list[tuple[str, float]]] | None = None,
) -> list[Item]:
    """The date nearest the question's words (dates the question itself gives are skipped)."""
    q = prepare(question)
    qdates = {q[a:b] for a, b in date_spans(q)}
    terms = build_terms(question, exclude=qdates, translations=translations)
    best: tuple[float, int, int, int, float] | None = None
    for si, sent in enumerate(sentences):
        text = sent.text
        occ = find_occurrences(text, terms)
        cover = 2.0 * sentence_cover(occ, terms)
        for a, b in date_spans(text):
            span = text[a:b]
            if span in qdates:
                continue
            prox = proximity(text, a, b, occ).score
            score = prox + cover + 1.5 * norm[si] + 0.1 * len(re.findall(r"[年月日号]", span))
            if best is None or score > best[0]:
                best = (score, si, a, b, prox)
    if best is None:
        return []
    _, si, a, b, prox = best
    if prox <= 0 and norm[si] < 0.5 and terms:
        return []  # a date in a weakly related sentence with none of the question's words
    return [item_at(sentences[si], a, b)]

"""Corpus-wide answers: every firm (project, park…) that any article says took the question's action in its
place, each with every citation, on a timeline -- not only those in the top-k passages.

``detect`` says whether a question is one; ``answer_corpus_wide`` answers it. Storage is read in one place,
``qa.aggregate.gather``.
"""

from __future__ import annotations

from qa.aggregate.answer import answer_corpus_wide
from qa.aggregate.detect import AggregateQuestion, detect
from qa.answer import Answer, Answerer
from qa.search import Filters


def route(answerer: Answerer, question: str, k: int, filters: Filters | None) -> Answer | None:
    """The corpus-wide answer when ``question`` is one (a ``qa.answer.Route``), else None."""
    spec = detect(question)
    return None if spec is None else answer_corpus_wide(answerer, spec, k, filters)


__all__ = ["AggregateQuestion", "answer_corpus_wide", "detect", "route"]

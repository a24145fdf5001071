"""Corpus-wide answers: every firm (project, park…) that any article says took the question's action in its
place, each with every citation, on a timeline -- not only those in the top-k passages.

``detect`` says whether a question is one; ``answer_corpus_wide`` answers it. Storage is read in one place,
``qa.aggregate.gather``.
"""

from __future__ import annotations

from qa.aggregate.answer import answer_corpus_wide
from qa.aggregate.detect import AggregateQuestion, detect

__all__ = ["AggregateQuestion", "answer_corpus_wide", "detect"]

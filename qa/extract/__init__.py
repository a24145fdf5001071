"""Answer extraction from ranked candidate sentences: listed names, quantities, dates, with exact offsets.

The public face of the package. ``extract_items`` hands a typed question and its caller-scored sentences
to the extractor for its type (``list_items``, ``quantity_items``, ``time_items``); every item it returns
is an exact substring of its sentence, so ``Item.start``/``Item.end`` index the document's normalized
text. ``key_terms`` gives the content words of a question. Everything is rule-based and works on
normalized (Simplified) Chinese text; English questions reach it through a small glossary and pinyin.
Sentence splitting is not done here: callers use ``corpus.sentences.split_sentences``.
"""

from __future__ import annotations

from qa.extract.items import Item, Sentence
from qa.extract.list_items import extract_list
from qa.extract.quantity_items import extract_quantity
from qa.extract.scoring import normalized_scores
from qa.extract.terms import key_terms
from qa.extract.time_items import extract_time
from qa.question_type import QuestionType

__all__ = ["Item", "Sentence", "extract_items", "key_terms"]


def extract_items(
    question: str, qtype: QuestionType, sentences: list[Sentence], max_items: int = 20
) -> list[Item]:
    """Answer items for a question from its ranked candidate sentences.

    LIST: the names the best-matching list(s) give; QUANTITY: the number+unit span(s) that fit the unit
    hints nearest the key terms; TIME: the date nearest the key terms; OTHER: ``[]`` (answer with sentences).
    Every item is an exact substring of its sentence, with document offsets.
    """
    if not sentences or qtype == QuestionType.OTHER or max_items <= 0:
        return []
    norm = normalized_scores(sentences)
    if qtype == QuestionType.LIST:
        return extract_list(question, sentences, norm, max_items)
    if qtype == QuestionType.QUANTITY:
        return extract_quantity(question, sentences, norm)[:max_items]
    if qtype == QuestionType.TIME:
        return extract_time(question, sentences, norm)[:max_items]
    return []

"""Answer extraction from ranked candidate sentences: listed names, quantities, dates, with exact offsets.

The public face of the package. ``extract_items`` hands a typed question and its caller-scored sentences
to the extractor for its type (``list_items``, ``quantity_items``, ``time_items``); every item it returns
is an exact substring of its sentence, so ``Item.start``/``Item.end`` index the document's normalized
text. ``key_terms`` gives the content words of a question. Everything is rule-based and works on
normalized (Simplified) Chinese text; English questions reach it through CC-CEDICT (``cedict``) and pinyin.
Sentence splitting is not done here: callers use ``corpus.sentences.split_sentences``.
"""

from __future__ import annotations

from qa.extract.cedict import translate_terms
from qa.extract.dense_relevance import Similarity
from qa.extract.items import Item, Sentence
from qa.extract.list_items import extract_list
from qa.extract.quantity_items import extract_quantity
from qa.extract.scoring import normalized_scores
from qa.extract.terms import key_terms
from qa.extract.time_items import extract_time
from qa.question_type import QuestionType, has_han

__all__ = ["Item", "Sentence", "Similarity", "extract_items", "key_terms"]


def extract_items(
    question: str,
    qtype: QuestionType,
    sentences: list[Sentence],
    max_items: int = 20,
    translations: dict[str, list[tuple[str, float]]] | None = None,
    similarity: Similarity | None = None,
) -> list[Item]:
    """Answer items for a question from its ranked candidate sentences.

    LIST: the names the best-matching list(s) give; QUANTITY: the number+unit span(s) that fit the unit
    hints nearest the key terms; TIME: the date nearest the key terms; OTHER: ``[]`` (answer with sentences).
    Every item is an exact substring of its sentence, with document offsets. ``translations``: the Chinese
    words of an English question's words, as the search planned them (``QueryPlan.translated``); when not
    given, they are looked up in CC-CEDICT and kept where the sentences hold them. ``similarity``: the
    question's cosine to each of a list of sentence texts (the store's embedder); a time question in
    English with a word the candidate sentences do not hold ranks them by it too.
    """
    if not sentences or qtype == QuestionType.OTHER or max_items <= 0:
        return []
    if translations is None:
        translations = _sentence_translations(question, sentences)
    norm = normalized_scores(sentences)
    if qtype == QuestionType.LIST:
        return extract_list(question, sentences, norm, max_items, translations)
    if qtype == QuestionType.QUANTITY:
        return extract_quantity(question, sentences, norm, translations)[:max_items]
    if qtype == QuestionType.TIME:
        return extract_time(question, sentences, norm, translations, similarity)[:max_items]
    return []


class _SentenceCounts(dict):
    """Sentences holding a word, counted on demand: the term statistics of a few sentences."""

    exact = True  # counts are of the word itself, not an upper bound from its bigrams

    def __init__(self, sentences: list[Sentence]) -> None:
        super().__init__()
        self._texts = [s.text for s in sentences]
        self.n_chunks = len(self._texts)

    def __missing__(self, word: str) -> int:
        n = self[word] = sum(word in t for t in self._texts)
        return n

    def get(self, word: str, default: int | None = 0) -> int | None:  # type: ignore[override]
        return self[word] or default


def _sentence_translations(question: str, sentences: list[Sentence]) -> dict[str, list[tuple[str, float]]]:
    if has_han(question):
        return {}
    counts = _SentenceCounts(sentences)
    return translate_terms(question.lower(), counts, counts.n_chunks)

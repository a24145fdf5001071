"""Extractive answers with citations: the best sentences of the best passages, each one traceable."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from corpus.sentences import split_sentences
from qa.search import Filters, Hit, Searcher, plan_query


@dataclass
class Citation:
    """A cited passage: ``quote == normalized_text[start:end]`` and ``original[orig_start:orig_end]``
    is the same span in the text as ingested."""

    n: int
    doc_id: str
    chunk_id: str
    title: str
    date: str | None
    source: str | None
    url: str | None
    quote: str
    start: int
    end: int
    orig_start: int
    orig_end: int
    score: float


@dataclass
class Answer:
    """An answer sentence or list, and the passages that support it."""

    question: str
    answer: str
    citations: list[Citation] = field(default_factory=list)
    type: str = "other"
    found: bool = True
    items: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class ScoredSentence:
    """A sentence of a hit, with its offsets in the document's normalized text."""

    hit_index: int
    start: int
    end: int
    text: str
    score: float


def score_sentences(hits: list[Hit], tokens: list[str], idf: dict[str, float]) -> list[ScoredSentence]:
    """Sentences of the hits, scored by the idf of query terms they contain plus the hit's rank."""
    out: list[ScoredSentence] = []
    total = sum(idf.get(t, 1.0) for t in set(tokens)) or 1.0
    for hi, hit in enumerate(hits):
        prior = 1.0 / (1.0 + hi)
        for a, b in split_sentences(hit.text):
            text = hit.text[a:b]
            lowered = text.lower()
            overlap = sum(idf.get(t, 1.0) for t in set(tokens) if t in lowered) / total
            out.append(ScoredSentence(hi, hit.start + a, hit.start + b, text, overlap + 0.5 * prior))
    out.sort(key=lambda s: -s.score)
    return out


class Answerer:
    """Answers questions from one store's search results."""

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher
        self.store = searcher.store

    def _idf(self, tokens: list[str]) -> dict[str, float]:
        with self.store.read() as (_conn, gen):
            vocab = gen.lexical.vocabulary()
            n = max(1, len(gen.lexical.ids))
        return {t: math.log(1 + n / (1 + vocab.get(t, 0))) for t in tokens}

    def ask(self, question: str, k: int = 5, filters: Filters | None = None) -> Answer:
        """Answer ``question`` from the top ``k`` passages, citing each one used."""
        hits = self.searcher.search(question, k=k, filters=filters)
        if not hits:
            return Answer(question, "没有找到相关内容。No passage in the corpus matches this question.", found=False)
        with self.store.read() as (_conn, gen):
            plan = plan_query(question, gen.bridge)
        sentences = score_sentences(hits, plan.tokens, self._idf(plan.tokens))
        best_by_hit: dict[int, ScoredSentence] = {}
        for s in sentences:
            best_by_hit.setdefault(s.hit_index, s)
        citations = [self._cite(i + 1, hit, best_by_hit.get(i)) for i, hit in enumerate(hits)]
        chosen = sorted(sentences[:2], key=lambda s: (s.hit_index, s.start)) if sentences else []
        parts = [f"{s.text}[{s.hit_index + 1}]" for s in chosen]
        return Answer(question, " ".join(parts), citations)

    def _cite(self, n: int, hit: Hit, sentence: ScoredSentence | None) -> Citation:
        start, end, quote = (sentence.start, sentence.end, sentence.text) if sentence else (hit.start, hit.end, hit.text)
        offsets = self.store.offsets(hit.doc_id)
        orig_start = int(offsets[start])
        orig_end = int(offsets[end - 1]) + 1
        return Citation(n, hit.doc_id, hit.chunk_id, hit.title, hit.date, hit.source, hit.url, quote, start, end,
                        orig_start, orig_end, round(hit.score, 6))

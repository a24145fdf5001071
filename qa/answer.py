"""Extractive answers with citations: typed items (names, amounts, dates) or the best sentences.

Every citation's ``quote`` is exactly ``normalized_text[start:end]`` of its document, and
``orig_start``/``orig_end`` give the same span in the text as ingested. Nothing is generated here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from corpus.sentences import split_sentences
from qa.extract import Item, Sentence, Similarity, extract_items
from qa.question_type import QuestionType, classify, has_han
from qa.search import Filters, Hit, QueryPlan, Searcher
from qa.support import Support, judge_support, terms_to_look_up

NOT_FOUND_ZH = "语料中没有找到能回答这个问题的内容。以下是最接近的段落，仅供参考。"
NOT_FOUND_EN = "The corpus holds nothing that answers this question. The nearest passages follow, for reference only."


@dataclass
class Citation:
    """A cited passage span: ``quote == normalized_text[start:end]``, ``original[orig_start:orig_end]``."""

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
    """The answer text, its items, and the passages that support it.

    ``extractive_answer`` is the extractive text; ``answer`` is the same unless a language model rewrote it
    from the cited passages (qa.llm), in which case ``generated`` says how: ``{"model", "text",
    "invalid_markers", "used_citations", "error"}``; it is None when no model was asked.
    """

    question: str
    answer: str
    citations: list[Citation] = field(default_factory=list)
    type: str = "other"
    found: bool = True
    items: list[dict] = field(default_factory=list)
    support: dict = field(default_factory=dict)
    extractive_answer: str | None = None
    generated: dict | None = None
    aggregate: dict | None = None  # corpus-wide answers (qa.aggregate): what was read and counted

    def __post_init__(self) -> None:
        if self.extractive_answer is None:
            self.extractive_answer = self.answer

    def as_dict(self) -> dict:
        return asdict(self)


def score_sentences(hits: list[Hit], tokens: list[str], idf: dict[str, float]) -> list[Sentence]:
    """Sentences of the hits, scored by the idf mass of query terms they hold plus the hit's rank."""
    total = sum(idf.get(t, 1.0) for t in set(tokens)) or 1.0
    out: list[Sentence] = []
    for n, hit in enumerate(hits, 1):
        prior = 0.5 / n
        for a, b in split_sentences(hit.text):
            text = hit.text[a:b]
            lowered = text.lower()
            overlap = sum(idf.get(t, 1.0) for t in set(tokens) if t in lowered) / total
            out.append(Sentence(text, hit.start + a, n, overlap + prior))
    out.sort(key=lambda s: -s.score)
    return out


def _unit(vector: np.ndarray) -> np.ndarray:
    v = np.asarray(vector, dtype=np.float32)
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def _english(question: str) -> bool:
    return not has_han(question)


def compose(question: str, qtype: QuestionType, items: list[Item], support: list[Sentence]) -> str:
    """A readable answer holding the items, each claim marked with its citation number."""
    en = _english(question)
    if items:
        groups: dict[int, list[str]] = {}
        for it in items:
            groups.setdefault(it.citation, []).append(it.text)
        sep = ", " if en else "、"
        head = "; ".join(f"{sep.join(texts)} [{n}]" for n, texts in groups.items())
        basis = " ".join(f"{s.text}[{s.citation}]" for s in support[:1])
        return f"{head}. Source: {basis}" if en else f"{head}。依据：{basis}"
    return " ".join(f"{s.text}[{s.citation}]" for s in support)


def _cited_first(
    hits: list[Hit], items: list[Item], support: list[Sentence], sentences: list[Sentence]
) -> tuple[list[Hit], list[Item], list[Sentence], list[Sentence]]:
    """Renumber citations so the passages the answer rests on come first, in the order it uses them."""
    used: list[int] = []
    for n in [it.citation for it in items] + [s.citation for s in support]:
        if n not in used:
            used.append(n)
    order = used + [n for n in range(1, len(hits) + 1) if n not in used]
    new = {old: i for i, old in enumerate(order, 1)}
    return (
        [hits[old - 1] for old in order],
        [replace(it, citation=new[it.citation]) for it in items],
        [replace(s, citation=new[s.citation]) for s in support],
        [replace(s, citation=new[s.citation]) for s in sentences],
    )


Route = Callable[["Answerer", str, int, "Filters | None"], "Answer | None"]
"""A kind of question answered its own way (``qa.aggregate.route``: corpus-wide lists); None passes it on."""


class Answerer:
    """Answers questions from one store's search results."""

    def __init__(self, searcher: Searcher, routes: Sequence[Route] = ()) -> None:
        """``routes`` are tried in turn before the top-k answer (``qa.routes.answerer`` gives the usual)."""
        self.searcher = searcher
        self.routes = tuple(routes)

    def ask(self, question: str, k: int = 5, filters: Filters | None = None) -> Answer:
        """Answer ``question``: by the first route that takes it (corpus-wide lists, with every mention
        cited and ``k`` plain passages after them), else from the top ``k`` passages."""
        if question and question.strip():
            for route in self.routes:
                answer = route(self, question, k, filters)
                if answer is not None:
                    return answer
        return self.ask_top_k(question, k, filters)

    def ask_top_k(self, question: str, k: int = 5, filters: Filters | None = None) -> Answer:
        """Answer ``question`` from the top ``k`` passages, citing every passage used."""
        if not question or not question.strip():
            raise ValueError("question is empty")
        qtype = classify(question)
        found = self.searcher.retrieve(question, k=k, filters=filters, offsets=True, terms=terms_to_look_up)
        hits, plan, vocab = found.hits, found.plan, found.terms
        if not hits:
            return Answer(question, NOT_FOUND_EN if _english(question) else NOT_FOUND_ZH, type=qtype.value,
                          found=False)
        n_chunks = max(1, found.n_chunks)
        idf = {t: math.log(1 + n_chunks / (1 + vocab.get(t, 0))) for t in plan.tokens}
        sentences = score_sentences(hits, plan.tokens, idf)
        items = (
            extract_items(question, qtype, sentences, translations=plan.translated,
                          similarity=self._similarity(plan))
            if qtype != QuestionType.OTHER
            else []
        )
        support = self._support(items, sentences)
        verdict: Support = judge_support(plan, hits, sentences, idf, vocab, n_chunks)
        hits, items, support, sentences = _cited_first(hits, items, support, sentences)
        citations = self._citations(hits, support, sentences, found.offsets)
        if not verdict.found:
            text = NOT_FOUND_EN if _english(question) else NOT_FOUND_ZH
            return Answer(question, text, citations, qtype.value, False, [], verdict.as_dict())
        return Answer(
            question,
            compose(question, qtype, items, support),
            citations,
            qtype.value,
            True,
            [{"text": it.text, "citation": it.citation, "start": it.start, "end": it.end} for it in items],
            verdict.as_dict(),
        )

    def _similarity(self, plan: QueryPlan) -> Similarity:
        """Cosines of the query (as densely searched) to sentence texts, with the store's embedder; the
        query is embedded on first use only."""
        embedder = self.searcher.store.embedder
        query: list[np.ndarray] = []

        def similarity(texts: list[str]) -> list[float]:
            if not query:
                query.append(_unit(embedder.encode_queries([plan.dense_text])[0]))
            vectors = np.asarray(embedder.encode_passages(list(texts)), dtype=np.float32)
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            return [float(x) for x in (vectors / np.where(norms > 0, norms, 1.0)) @ query[0]]

        return similarity

    @staticmethod
    def _support(items: list[Item], sentences: list[Sentence]) -> list[Sentence]:
        """The sentences that hold the items, else the best one to three sentences."""
        if items:
            chosen = []
            for it in items:
                s = next((s for s in sentences if s.citation == it.citation
                          and s.start <= it.start and it.end <= s.start + len(s.text)), None)
                if s is not None and s not in chosen:
                    chosen.append(s)
            if chosen:
                return chosen
        best = sentences[:1]
        for s in sentences[1:3]:
            if s.score >= 0.6 * best[0].score and s.citation == best[0].citation:
                best.append(s)
        return sorted(best, key=lambda s: (s.citation, s.start))

    @staticmethod
    def _citations(
        hits: list[Hit], support: list[Sentence], sentences: list[Sentence], offsets: dict[str, np.ndarray]
    ) -> list[Citation]:
        """One citation per hit, quoting the sentence it supports the answer with (or its best one)."""
        out = []
        quoted: set[tuple[str, int]] = set()  # overlapping chunks share a sentence: quote it once
        for n, hit in enumerate(hits, 1):
            used = [s for s in support if s.citation == n]
            if used:
                start = min(s.start for s in used)
                end = max(s.start + len(s.text) for s in used)
            else:
                best = next((s for s in sentences if s.citation == n and (hit.doc_id, s.start) not in quoted), None)
                start, end = (best.start, best.start + len(best.text)) if best else (hit.start, hit.end)
            quoted.add((hit.doc_id, start))
            quote = hit.text[start - hit.start : end - hit.start]
            doc_offsets = offsets[hit.doc_id]
            out.append(Citation(n, hit.doc_id, hit.chunk_id, hit.title, hit.date, hit.source, hit.url, quote,
                                start, end, int(doc_offsets[start]), int(doc_offsets[end - 1]) + 1, round(hit.score, 6)))
        return out


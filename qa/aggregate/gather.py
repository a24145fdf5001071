"""Every passage that can satisfy a corpus-wide question, within a fixed budget: the one place where the
corpus-wide answer reads the store.

Recall first: the chunks that hold the rarest character bigram of each place/subject term (a chunk holding the
term holds all its bigrams as index tokens, so none is lost), ranked by BM25 over the terms and the action words so the
budget keeps the likeliest ones, then chunks whose dense similarity to the question clears ``DENSE_FLOOR``.
``scanned`` is how many passages were read, ``truncated`` whether the budget left candidates unread.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from index.tokenizer import bigrams, tokenize
from qa.extract.cedict import translate
from qa.search import Filters, Searcher, plan_query

DEFAULT_BUDGET = 2000  # passages read per corpus-wide answer
RANK_POOL = 4  # holders of the place fetched per budget slot, ranked by BM25 before the budget cuts
# Cosine floor of the dense pass, swept on bench/aggregate_sets/dev with the default embedder (ONNX int8
# e5-small): precision, recall and status accuracy were 1.0 at every floor from 0.80 to 0.90 and with no
# dense pass (an item needs its place in the clause, and the lexical pass reads every chunk holding it),
# so the floor sets only what the dense pass costs: 151 passages read for the 6 questions lexically, 203
# at 0.86, 351 at 0.85, 710 at 0.84, 2465 at 0.80. 0.86 is the lowest floor where the dense pass adds
# about a third to the reading, not a multiple of it; see NOTES-english.md.
DENSE_FLOOR = 0.86


@dataclass
class Passage:
    """One passage read, with its document's citation fields."""

    key: int
    chunk_id: str
    doc_id: str
    start: int
    end: int
    text: str
    title: str
    date: str | None
    source: str | None
    url: str | None
    score: float


@dataclass
class Gathered:
    """The passages read for a question, and what reading them was."""

    passages: list[Passage]
    anchors: tuple[str, ...]  # the place/subject terms searched, in Chinese
    scanned: int
    truncated: bool
    candidates: int  # passages that could have been read (lexical holders plus dense above the floor)
    offsets: dict[str, np.ndarray] = field(default_factory=dict)


def gather(
    searcher: Searcher,
    anchors: tuple[str, ...],
    foreign: tuple[str, ...],
    actions: tuple[str, ...],
    question: str,
    filters: Filters | None,
    budget: int = DEFAULT_BUDGET,
    dense_floor: float | None = DENSE_FLOOR,
) -> Gathered:
    """Read the passages for a corpus-wide question from one snapshot of ``searcher``'s store.

    ``foreign`` words (English questions) are mapped to Chinese through the snapshot's pinyin bridge and
    join ``anchors``."""
    store = searcher.store
    with searcher.snapshot() as view:
        where = (filters or Filters()).where()
        anchors = tuple(anchors) + english_terms(foreign, view.bridge, view.terms)
        anchors = tuple(dict.fromkeys(a for a in anchors if a))
        rare = []
        for anchor in anchors:
            # every chunk holding the anchor holds each of its Han bigrams (the index adds them all)
            toks = bigrams(anchor) or [t for t in tokenize(anchor) if t.isascii()] or [anchor.lower()]
            best = min(toks, key=lambda t: view.terms[t])
            if view.terms[best]:
                rare.append(best)
        holders: dict[int, float] = {}
        cut = False
        if rare:
            keys, cut = view.term_candidates(rare, RANK_POOL * budget, where)
            holders = {int(k): 0.0 for k in keys}
        # English action words rank through their translations the corpus holds (landed -> 落地)
        actions = tuple(actions) + tuple(w for a in actions if a.isascii() for w in translate(a, view.terms))
        ranking_tokens = [t for a in anchors for t in tokenize(a)] + [t for a in actions for t in tokenize(a)]
        if len(holders) > budget:  # keep the budget for the holders the place and action words fit best
            scores, ids = view.lexical(ranking_tokens, len(holders), where)
            for sc, i in zip(scores.tolist(), ids.tolist(), strict=True):
                if i in holders:
                    holders[i] = sc
        ranked = sorted(holders, key=lambda i: -holders[i])
        dense: list[tuple[int, float]] = []
        if dense_floor is not None and view.n_chunks and anchors:
            text = plan_query(question, view.bridge).dense_text
            qvec = store.embedder.encode_queries([text])[0]
            dscores, dids = view.dense(qvec, budget, where)
            dense = [(int(i), float(sc)) for sc, i in zip(dscores, dids, strict=True) if sc >= dense_floor]
        seen = set(ranked)
        extra = [(i, sc) for i, sc in dense if i not in seen]
        candidates = len(ranked) + len(extra)
        keys = (ranked + [i for i, _ in extra])[:budget]
        rows = view.chunks(keys)
        dense_score = dict(dense)
        passages = [
            Passage(k, r.chunk_id, r.doc_id, r.start, r.end, r.text, r.title, r.date, r.source, r.url,
                    holders.get(k, dense_score.get(k, 0.0)))
            for k in keys
            if (r := rows.get(k)) is not None
        ]
        offsets = view.offsets([p.doc_id for p in passages])
    truncated = cut or candidates > budget
    return Gathered(passages, anchors, len(passages), truncated, candidates, offsets)


def english_terms(phrases: tuple[str, ...], bridge, vocab) -> tuple[str, ...]:
    """Chinese corpus words for an English question's place phrases. Each phrase becomes one Chinese
    string, word run by word run: romanized names through the snapshot's pinyin bridge (mohan -> 磨憨),
    other words through CC-CEDICT (longest run first, the translation the corpus holds most often). A phrase
    with a word neither reaches gives nothing ("Shenzhen Qianhai cooperation zone" is not 深圳 alone)."""
    out: list[str] = []
    for phrase in phrases:
        words = phrase.split()
        parts: list[str] = []
        i = 0
        while i < len(words):
            for n in range(min(3, len(words) - i), 0, -1):
                run = " ".join(words[i : i + n])
                found = bridge.expand(run) if bridge is not None else {}
                zh = found.get(run, [])[:1] if found else []
                if not zh:
                    zh = translate(run, vocab)[:1]
                if zh:
                    parts.append(zh[0])
                    i += n
                    break
            else:
                parts = []
                break
        if parts:
            out.append("".join(parts))
    return tuple(out)

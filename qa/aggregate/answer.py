"""The corpus-wide answer: every item any passage attributes to the question's place, each with every
citation, sorted by first date, with how much was read (``scanned``, ``truncated``)."""

from __future__ import annotations

import re
from dataclasses import replace

from corpus.sentences import split_sentences
from qa.aggregate.attribute import attribute
from qa.aggregate.canonical import Canonicalizer, load_aliases
from qa.aggregate.detect import AggregateQuestion
from qa.aggregate.gather import DEFAULT_BUDGET, DENSE_FLOOR, Gathered, gather
from qa.aggregate.items import AggregateItem, build_items
from qa.aggregate.status import PLANNED, WITHDRAWN
from qa.answer import Answer, Answerer, Citation
from qa.search import Filters

_SIGNING = re.compile(r"签|sign", re.IGNORECASE)
_COUNTER = {"firm": "家", "org": "家", "project": "个", "park": "个"}
_EN_NOUN = {"firm": "companies", "org": "organizations", "project": "projects", "park": "parks"}
_ZH_NOUN = {"firm": "企业", "org": "机构", "project": "项目", "park": "园区"}
_STATUS_ZH = {"signed": "签约", "landed": "落地", "operating": "投产/运营", "planned": "计划中", "withdrawn": "撤出/未落地"}


def merged_filters(filters: Filters | None, spec: AggregateQuestion) -> Filters | None:
    """The caller's filters narrowed by the question's own date bounds (both must hold)."""
    if spec.since is None and spec.until is None:
        return filters
    base = filters or Filters()
    since = max((d for d in (base.since, spec.since) if d), default=None, key=lambda d: Filters(since=d).bounds()[0])
    until = min((d for d in (base.until, spec.until) if d), default=None, key=lambda d: Filters(until=d).bounds()[1])
    return Filters(since=since, until=until, source=base.source)


def answer_corpus_wide(
    answerer: Answerer,
    spec: AggregateQuestion,
    k: int,
    filters: Filters | None,
    budget: int = DEFAULT_BUDGET,
    dense_floor: float | None = DENSE_FLOOR,
) -> Answer:
    """Answer a corpus-wide question; falls back to the top-k answer (dates as filters) when no clause
    attributes anything to the place."""
    searcher = answerer.searcher
    narrowed = merged_filters(filters, spec)
    got = gather(searcher, spec.anchors, spec.foreign, spec.actions, spec.stripped_question, narrowed, budget,
                 dense_floor)
    canon = Canonicalizer(load_aliases(searcher.store.data_dir))
    found = []
    signing_only = all(_SIGNING.search(a) for a in spec.actions)
    if got.anchors:
        for p in got.passages:
            for raw in attribute(p.text, p.start, got.anchors, spec.category):
                if signing_only and not _SIGNING.search(raw.actions):
                    continue  # "…签约了哪些企业": a firm that registered or moved in did not sign
                found.append((raw, p))
    items = build_items(found, canon)
    info = _info(spec, got, narrowed, items, budget)
    if not items:
        plain = answerer.ask_top_k(spec.stripped_question, k=k, filters=narrowed)
        return replace(plain, question=spec.question, aggregate=info)
    citations = _citations(items, got)
    plain = answerer.searcher.retrieve(spec.stripped_question, k=k, filters=narrowed, offsets=True)
    citations += _plain_citations(plain.hits, plain.offsets, citations, got.anchors, len(citations))
    text = compose_text(spec, items, info)
    out = [item_dict(it) for it in items]
    support = {"found": True, "cosine": None, "coverage": None, "missing": None,
               "reason": "corpus-wide: each item's clause says the action about the place"}
    return Answer(spec.question, text, citations, "list", True, out, support, aggregate=info)


def _info(spec: AggregateQuestion, got: Gathered, filters: Filters | None, items: list[AggregateItem], budget: int):
    counted = [it for it in items if it.counted]
    return {
        "category": spec.category,
        "actions": list(spec.actions),
        "place": list(got.anchors),
        "since": filters.since if filters else None,
        "until": filters.until if filters else None,
        "date_from_question": spec.date_text or None,
        "scanned": got.scanned,
        "candidates": got.candidates,
        "budget": budget,
        "truncated": got.truncated,
        "n_items": len(counted),
        "n_articles": len({d for it in counted for d in it.doc_ids}),
        "n_planned": sum(it.status == PLANNED for it in items),
        "n_withdrawn": sum(it.status == WITHDRAWN for it in items),
    }


def _citations(items: list[AggregateItem], got: Gathered) -> list[Citation]:
    """One citation per sentence that names an item, numbered in item order; each mention gets its number."""
    by_sentence: dict[tuple[str, int, int], int] = {}
    out: list[Citation] = []
    for it in items:
        for m in it.mentions:
            key = (m.doc_id, *m.sentence)
            if key not in by_sentence:
                p = m.passage
                a, b = m.sentence
                offsets = got.offsets[m.doc_id]
                by_sentence[key] = len(out) + 1
                out.append(Citation(len(out) + 1, p.doc_id, p.chunk_id, p.title, p.date, p.source, p.url,
                                    p.text[a - p.start : b - p.start], a, b, int(offsets[a]), int(offsets[b - 1]) + 1,
                                    round(float(p.score), 6)))
            m.citation = by_sentence[key]
    return out


def _plain_citations(hits, offsets, cited: list[Citation], anchors, start_n: int) -> list[Citation]:
    """The top-k passages (``-k``) after the item citations, each quoting its sentence that holds the place."""
    out = []
    for hit in hits:
        if any(c.doc_id == hit.doc_id and hit.start <= c.start < hit.end for c in cited):
            continue
        spans = split_sentences(hit.text)
        best = next(((a, b) for a, b in spans if any(x in hit.text[a:b] for x in anchors)), spans[0] if spans else None)
        a, b = (hit.start + best[0], hit.start + best[1]) if best else (hit.start, hit.end)
        doc_offsets = offsets[hit.doc_id]
        out.append(Citation(start_n + len(out) + 1, hit.doc_id, hit.chunk_id, hit.title, hit.date, hit.source, hit.url,
                            hit.text[a - hit.start : b - hit.start], a, b, int(doc_offsets[a]),
                            int(doc_offsets[b - 1]) + 1, round(float(hit.score), 6)))
    return out


def item_dict(it: AggregateItem) -> dict:
    """An item as the answer returns it: today's fields (text, citation, start, end) and the corpus-wide ones."""
    first = next(m for m in it.mentions if m.surface == it.text)
    return {
        "text": it.text,
        "citation": first.citation,
        "start": first.start,
        "end": first.end,
        "name": it.name,
        "status": it.status,
        "first_date": it.first_date,
        "last_date": it.last_date,
        "articles": len(it.doc_ids),
        "mentions": [
            {"citation": m.citation, "doc_id": m.doc_id, "date": m.date, "start": m.start, "end": m.end,
             "text": m.surface, "status": m.status}
            for m in it.mentions
        ],
    }


def _marks(it: AggregateItem) -> str:
    return "".join(f"[{n}]" for n in dict.fromkeys(m.citation for m in it.mentions))


def compose_text(spec: AggregateQuestion, items: list[AggregateItem], info: dict) -> str:
    """The answer sentence: how many items from how many articles, the items with their citations, then
    the planned and withdrawn ones apart, the date filter and whether the budget cut the reading short."""
    counted = [it for it in items if it.counted]
    planned = [it for it in items if it.status == PLANNED]
    withdrawn = [it for it in items if it.status == WITHDRAWN]
    place = "、".join(info["place"])
    if spec.english:
        noun = _EN_NOUN[spec.category]
        parts = [f"{len(counted)} {noun} from {info['n_articles']} articles for {place}"]
        if counted:
            parts[0] += ": " + ", ".join(f"{it.name} ({it.status}, {it.first_date or 'undated'}) {_marks(it)}"
                                         for it in counted)
        if planned:
            parts.append("Planned, not landed: " + ", ".join(f"{it.name} {_marks(it)}" for it in planned))
        if withdrawn:
            parts.append("Withdrawn or not landed: " + ", ".join(f"{it.name} {_marks(it)}" for it in withdrawn))
        if info["date_from_question"]:
            parts.append(f"Articles published {_range_en(info)} only ({info['date_from_question']!r} read as a date filter)")
        scan = f"{info['scanned']} passages read"
        if info["truncated"]:
            scan += f"; the budget of {info['budget']} passages was reached, so more may exist"
        parts.append(scan)
        return ". ".join(parts) + "."
    noun = spec.head or _ZH_NOUN[spec.category]
    counter = _COUNTER[spec.category]
    head = f"共{len(counted)}{counter}{noun}（来自{info['n_articles']}篇文章）"
    if counted:
        head += "：" + "；".join(f"{it.name}（{_STATUS_ZH[it.status]}，{it.first_date or '日期不详'}）{_marks(it)}"
                                for it in counted)
    parts = [head]
    if planned:
        parts.append("计划中、尚未落地：" + "、".join(f"{it.name}{_marks(it)}" for it in planned))
    if withdrawn:
        parts.append("已撤出或未落地：" + "、".join(f"{it.name}{_marks(it)}" for it in withdrawn))
    if info["date_from_question"]:
        parts.append(f"仅统计发布日期在{_range_zh(info)}的文章（问题中的“{info['date_from_question']}”按发布日期筛选）")
    scan = f"共阅读{info['scanned']}个段落"
    if info["truncated"]:
        scan += f"，已达上限{info['budget']}个，可能还有未列出的"
    parts.append(scan)
    return "。".join(parts) + "。"


def _range_zh(info: dict) -> str:
    s, u = info["since"], info["until"]
    if s and u:
        return s if s == u else f"{s}至{u}"
    return f"{s}以后" if s else f"{u}以前"


def _range_en(info: dict) -> str:
    s, u = info["since"], info["until"]
    if s and u:
        return f"in {s}" if s == u else f"from {s} to {u}"
    return f"from {s}" if s else f"until {u}"

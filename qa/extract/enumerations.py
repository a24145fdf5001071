"""Candidate answers to list questions found in one sentence: enumerations ('A、B、C等N家企业', 'A、B和C',
'“A”“B”等模式', '包括A、B'), pairs of organization names joined by 和/及, single organization names and
single document titles, each with its item spans, category and whether it is explicitly closed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.extract.categories import category_of_items, category_of_phrase
from qa.extract.clauses import QUOTE_OPEN, clause_spans, protected_spans
from qa.extract.names import (
    CONJ,
    FIRM_SUFFIX,
    FIRM_SUFFIX_RE,
    NAME_SUFFIX_RE,
    ORG_SUFFIX,
    is_valid_item,
    mostly_actions,
    split_at_conjunctions,
    trim_lead,
    trim_trail,
)
from qa.extract.tokens import pos_tokens

_APPOSITIVE = re.compile(r"(?:\d+|[两二三四五六七八九十]+)(?:个|家|项|所|座|条|大|种|类|名|位)")


@dataclass
class Enumeration:
    """A candidate answer list in a sentence: its item spans, category and overall span."""

    items: list[tuple[int, int]]  # spans in the sentence
    category: str | None
    span: tuple[int, int]
    explicit: bool  # closed by 等 / an appositive count / a head noun
    lead_hint: bool = False  # introduced by a verb that takes firms/projects (签约, 引进 ...)


_QUOTE_JOINERS = frozenset({"", "、", "和", "及", "以及", "与", "或"})


def _split_pieces(
    text: str, a: int, b: int, mask: list[bool], quotes: list[tuple[int, int]]
) -> list[tuple[int, int, str]]:
    """Pieces of a list region: cut at 、 outside quotes and between adjacent quotes.
    Each piece is (start, end, how it ends: '、', 'q' (quote adjacency), or '')."""
    cuts: list[tuple[int, int, str]] = []  # (piece_end, next_start, kind)
    qs = [(s, e) for s, e in quotes if a <= s and e <= b]
    joined: list[tuple[int, int]] = []  # gaps between quotes that only hold a separator
    for (_s1, e1), (s2, _e2) in zip(qs, qs[1:], strict=False):
        if text[e1:s2] in _QUOTE_JOINERS:
            cuts.append((e1, s2, "q"))
            joined.append((e1, s2))
    for i in range(a, b):
        if text[i] == "、" and not mask[i] and not any(g0 <= i < g1 for g0, g1 in joined):
            cuts.append((i, i + 1, "、"))
    cuts.sort()
    pieces = []
    start = a
    for end, nxt, kind in cuts:
        pieces.append((start, end, kind))
        start = nxt
    pieces.append((start, b, ""))
    return pieces


def _quote_inner(text: str, s: int, e: int) -> tuple[int, int]:
    """Span of a quoted item: “…” loses its quotes, 《…》 keeps its title marks."""
    if text[s] == "《":
        return s, e
    return s + 1, e - 1


def find_enumerations(text: str) -> list[Enumeration]:
    """Lists of names in a sentence: 'A、B、C等N家企业', 'A、B和C', '“A”“B”等模式', '包括A、B', 'A和B两个园区'."""
    mask, quotes = protected_spans(text)
    found: list[Enumeration] = []
    for cs, ce in clause_spans(text, mask):
        clause = text[cs:ce]
        # where the list ends: 等 (+ head phrase), or an appositive count after a conjunction
        region_end, head_start, explicit = ce, ce, False
        for m in re.finditer(r"等等|等", clause):
            k = cs + m.start()
            if mask[k] or k == cs:
                continue
            prev, nxt = text[k - 1], text[k + len(m.group()) : k + len(m.group()) + 1]
            if prev in "平同高中初对均相特次头上优何劣超一二三四五六七八九十" or nxt in (
                "于",
                "待",
                "级",
                "候",
                "同",
                "到",
                "额",
                "量",
                "价",
            ):
                continue
            region_end, head_start, explicit = k, k + len(m.group()), True
            break
        if not explicit:
            for m in _APPOSITIVE.finditer(clause):
                k = cs + m.start()
                if k == cs or mask[k]:
                    continue
                before = text[cs:k]
                has_sep = any(text[i] == "、" and not mask[i] for i in range(cs, k))
                quoted_pair = any(
                    text[e1:s2] in _QUOTE_JOINERS
                    for (s1, e1), (s2, e2) in zip(quotes, quotes[1:], strict=False)
                    if cs <= s1 and e2 <= k
                )
                if not (has_sep or quoted_pair or any(c in before for c in CONJ)):
                    continue
                if category_of_phrase(text[k:ce]) is None:
                    continue
                region_end, head_start, explicit = k, k, True
                break
        if not explicit:
            seps = [i for i in range(cs, ce) if text[i] == "、" and not mask[i]]
            adjacent_quotes = any(
                text[e1:s2] in _QUOTE_JOINERS
                for (_s1, e1), (s2, _e2) in zip(quotes, quotes[1:], strict=False)
                if cs <= _s1 and _e2 <= ce
            )
            if not seps and not adjacent_quotes:
                continue
        head_phrase = text[head_start:ce]
        pieces = _split_pieces(text, cs, region_end, mask, quotes)
        if not explicit and len(pieces) < 2:
            continue
        items: list[tuple[int, int]] = []
        lead_hint = False
        rejected = False
        for idx, (ps, pe, kind) in enumerate(pieces):
            first, last = idx == 0, idx == len(pieces) - 1
            prev_kind = pieces[idx - 1][2] if idx else ""
            qs_in = [(s, e) for s, e in quotes if ps <= s and e <= pe]
            # “A”“B” / 《A》《B》: the quote that touches its neighbouring quote is the item
            if kind == "q" or prev_kind == "q":
                s, e = qs_in[-1] if kind == "q" else qs_in[0]
                items.append(_quote_inner(text, s, e))
                if last and not explicit and e < ce:
                    head_phrase = text[e:ce]
                continue
            sub = split_at_conjunctions(text, ps, pe)
            for j, (s, e) in enumerate(sub):
                if first and j == 0:
                    s, verb = trim_lead(text, s, e)
                    lead_hint = lead_hint or verb
                if last and j == len(sub) - 1 and not explicit:
                    end = trim_trail(text, s, e)
                    if end is None:
                        rejected = True
                        break
                    e = end
                while s < e and text[s].isspace():
                    s += 1
                while e > s and text[e - 1].isspace():
                    e -= 1
                quoted = [(qs, qe) for qs, qe in qs_in if qs == s and qe == e]
                if quoted:  # an item that is exactly one quote
                    items.append(_quote_inner(text, s, e))
                    continue
                item = text[s:e]
                if "的" in item and not item.startswith(("《", "“")):
                    rejected = True  # "扩大经营、主动流转的市域企业": modifiers of one noun, not names
                    break
                if is_valid_item(item):
                    items.append((s, e))
            if rejected:
                break
        if rejected:
            continue
        if not items or (not explicit and len(items) < 2):
            continue
        if not explicit and any(
            e - s > 16 and text[s - 1 : s] not in QUOTE_OPEN and text[s] not in QUOTE_OPEN for s, e in items
        ):
            continue  # long unquoted pieces are clauses, not names
        if mostly_actions(text, items):
            continue  # "出台1个核心文件、制定2个配套文件": a list of actions, not of names
        category = category_of_phrase(head_phrase) if explicit else None
        if category is None and not explicit and head_phrase.startswith("的"):
            category = category_of_phrase(head_phrase[1:])
        if category is None:
            category = category_of_items([text[s:e] for s, e in items])
        span = (items[0][0], max(items[-1][1], region_end if explicit else items[-1][1]))
        if explicit:
            span = (span[0], ce)
        found.append(Enumeration(items, category, span, explicit, lead_hint))
    return found


_NOUNISH = ("n", "nr", "ns", "nt", "nz", "nrt", "j", "eng", "ng", "nrfg")


def find_name_pairs(text: str, taken: list[tuple[int, int]]) -> list[Enumeration]:
    """Two names joined by 和/及/以及 where at least the second carries an organization suffix
    (中国华能和大唐集团, 中国工商银行和中国建设银行), outside any list already found."""
    mask, _ = protected_spans(text)
    out: list[Enumeration] = []
    for cs, ce in clause_spans(text, mask):
        tokens = {(cs + t[0]): t for t in pos_tokens(text[cs:ce])}
        for m in re.finditer(r"以及|和|及", text[cs:ce]):
            k, k2 = cs + m.start(), cs + m.end()
            if mask[k] or any(a <= k < b for a, b in taken):
                continue
            aligned = k in tokens and tokens[k][2] == m.group()  # never split a word like 工业和信息化部
            if not aligned and not re.search(rf"(?:{FIRM_SUFFIX}|{ORG_SUFFIX}|[”》」』])$", text[cs:k]):
                continue
            right = None
            for rm in NAME_SUFFIX_RE.finditer(text, k2, min(ce, k2 + 20)):
                if right is None or rm.start() == right:
                    right = rm.end()
                else:
                    break
            if right is None:
                continue
            rtext = text[k2:right]
            if (
                "的" in rtext
                or not is_valid_item(rtext)
                or any(
                    t[3].startswith("v") and t[3] != "vn" and len(t[2]) >= 2 for t in pos_tokens(rtext)[:-1]
                )
            ):
                continue
            ls, _ = trim_lead(text, cs, k)
            ltext = text[ls:k]
            if not is_valid_item(ltext) or "的" in ltext or len(ltext) > 20:
                continue
            ltoks = pos_tokens(ltext)
            if not (NAME_SUFFIX_RE.search(ltext) or (ltoks and ltoks[-1][3] in _NOUNISH)):
                continue
            items = [(ls, k), (k2, right)]
            if "、" in ltext or any(a < right and ls < b for a, b in taken):
                continue  # part of a list found already
            out.append(Enumeration(items, category_of_items([ltext, rtext]), (ls, right), False))
            taken = [*taken, (ls, right)]
    return out


def find_named_entities(text: str, taken: list[tuple[int, int]]) -> list[Enumeration]:
    """Single organization names (…有限公司, …集团, …银行, …大学) not already inside a list."""
    mask, _ = protected_spans(text)
    out = []
    for cs, ce in clause_spans(text, mask):
        for m in NAME_SUFFIX_RE.finditer(text, cs, ce):
            e = m.end()
            if mask[m.start()] or any(s <= m.start() < t for s, t in taken):
                continue  # inside quotes (“管委会+公司”模式) or already a list item
            if e < ce and (text[e] in "公司" or NAME_SUFFIX_RE.match(text, e)):
                continue
            lo = cs
            for k in range(e - 1, cs - 1, -1):
                if text[k] in '“”‘’「」《》"()（）':
                    lo = k + 1
                    break
            s, _ = trim_lead(text, lo, e)
            name = text[s:e]
            if len(name) < 4 or not is_valid_item(name) or "的" in name:
                continue
            cat = "firm" if FIRM_SUFFIX_RE.search(name) else "org"
            out.append(Enumeration([(s, e)], cat, (s, e), False))
    return out


def find_titles(text: str, taken: list[tuple[int, int]]) -> list[Enumeration]:
    """Single document titles 《…》 not already inside a list."""
    _, quotes = protected_spans(text)
    return [
        Enumeration([(s, e)], "document", (s, e), False)
        for s, e in quotes
        if text[s] == "《" and not any(a <= s < b for a, b in taken)
    ]

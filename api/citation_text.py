"""Citations as plain text, in one format for every front-end (CLI, chat replies, MCP).

Each citation is three lines: its number, title and where it comes from; the span it quotes, in the
normalized text and in the text as ingested; and the quote itself, whole, on one line, so a copied quote
matches the source character for character::

    [1] 抢抓机遇协调发展 有序承接产业梯度转移 — 2025-03-24 · 昆明信息港 · kunming.txt
        chars 2268-2335 (original 4873-5021)
        “磨憨中铁广场、数字经济产业园等重点项目加快推进, …”

Citations are listed in the order the answer first cites them (its ``[n]`` markers), then the rest by
score, best first; their numbers stay the ones the answer uses.
"""

from __future__ import annotations

import re

FOUND_HEADING = "Sources:"
NOT_FOUND_HEADING = "Nearest passages (not an answer):"
INDENT = "    "
_MARKER = re.compile(r"\[(\d+)\]")


def citation_order(answer_text: str, citations: list[dict]) -> list[dict]:
    """``citations`` in the order ``answer_text`` first cites them, then the uncited ones by score (best first)."""
    by_n = {c["n"]: c for c in citations}
    cited: list[int] = []
    for m in _MARKER.finditer(answer_text or ""):
        n = int(m.group(1))
        if n in by_n and n not in cited:
            cited.append(n)
    rest = sorted((c for c in citations if c["n"] not in cited), key=lambda c: (-(c.get("score") or 0.0), c["n"]))
    return [by_n[n] for n in cited] + rest


def origin(c: dict) -> str:
    """``date · source · doc_id · url``, the parts a citation has."""
    return " · ".join(str(c[k]) for k in ("date", "source", "doc_id", "url") if c.get(k))


def citation_lines(c: dict) -> list[str]:
    """One citation: ``[n] title — origin``, its spans, and its quote on one unbroken line."""
    head = f"[{c['n']}] {c.get('title') or '(untitled)'}"
    where = origin(c)
    span = f"chars {c['start']}-{c['end']}"
    if c.get("orig_start") is not None and c.get("orig_end") is not None:
        span += f" (original {c['orig_start']}-{c['orig_end']})"
    quote = re.sub(r"\r?\n", " ", c.get("quote") or "")  # a line break becomes a space; nothing else changes
    return [f"{head} — {where}" if where else head, INDENT + span, f"{INDENT}“{quote}”"]


def sources_text(answer_text: str, citations: list[dict], found: bool = True) -> str:
    """The heading, then every citation (see :func:`citation_lines`) in citation order; "" when none."""
    if not citations:
        return ""
    blocks = ["\n".join(citation_lines(c)) for c in citation_order(answer_text, citations)]
    return (FOUND_HEADING if found else NOT_FOUND_HEADING) + "\n" + "\n\n".join(blocks)


def items_text(answer: dict) -> str:
    """A corpus-wide answer's items, one line each: name, status, first date and citation markers."""
    lines = []
    for it in answer.get("items") or []:
        marks = "".join(f"[{n}]" for n in dict.fromkeys(m["citation"] for m in it.get("mentions") or []))
        lines.append(f"- {it.get('name') or it['text']} ({it.get('status')}, {it.get('first_date') or 'undated'}) {marks}")
    return "\n".join(lines)


def cited_answer_text(answer: dict) -> str:
    """An answer (``Answer.as_dict()``) as text: the answer, a corpus-wide answer's items, then its sources."""
    text = answer["answer"]
    if answer.get("aggregate") and answer.get("items"):
        text += "\n\nItems:\n" + items_text(answer)
    sources = sources_text(answer["answer"], answer.get("citations") or [], answer.get("found", True))
    return text + ("\n\n" + sources if sources else "")

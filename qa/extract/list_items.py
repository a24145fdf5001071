"""Answers to list questions: the names of the enumeration(s) that best fit the category the question asks
for and sit next to its words. Another list joins the best one only if it is of the same category and
as much about the question; names are deduplicated and capped.
"""

from __future__ import annotations

from qa.extract.categories import CATEGORIES, QTY_PREFIX, category_compat, question_category
from qa.extract.enumerations import (
    Enumeration,
    find_enumerations,
    find_name_pairs,
    find_named_entities,
    find_titles,
)
from qa.extract.items import Item, Sentence, item_at
from qa.extract.names import mostly_common_words
from qa.extract.proximity import proximity
from qa.extract.term_matching import build_terms, find_occurrences


def extract_list(
    question: str, sentences: list[Sentence], norm: list[float], max_items: int,
    translations: dict[str, list[tuple[str, float]]] | None = None,
) -> list[Item]:
    """Names answering a list question, best list first; ``norm`` holds the sentences' normalized scores."""
    asked, head_word = question_category(question)
    exclude = set(CATEGORIES.get(asked, ())) if asked else set()
    terms = build_terms(question, exclude=exclude, translations=translations)
    scored: list[tuple[float, float, frozenset, int, Enumeration]] = []
    any_term_found = False
    for si, sent in enumerate(sentences):
        text = sent.text
        enums = find_enumerations(text)
        taken = [span for en in enums for span in en.items]
        if asked in ("firm", "org", None):
            enums += find_name_pairs(text, taken)
            taken = [span for en in enums for span in en.items]
            enums += find_named_entities(text, taken)
        if asked in ("document", None):
            enums += find_titles(text, taken)
        occ = find_occurrences(text, terms)
        any_term_found = any_term_found or bool(occ)
        for en in enums:
            compat = category_compat(asked, en.category)
            if en.category is None and en.lead_hint and asked in ("firm", "project", "org"):
                compat = 0.7
            if compat < 0:
                continue
            near = proximity(text, en.span[0], en.span[1], occ, en.items, len(en.items) > 1)
            if (
                en.category is None
                and asked is not None
                and not en.lead_hint
                and (not near.close or not terms.chars)
            ):
                continue  # an unlabeled list with nothing of the question nearby is not an answer
            if (
                en.category is None
                and asked in ("firm", "org")
                and not en.explicit
                and mostly_common_words(text, en.items)
            ):
                continue  # 绿色、创新、协调发展: everyday words, not names
            if terms.chars and near.cover < 0.3 * terms.chars:
                continue  # too little of the question sits next to this list
            score = 3.0 * compat + near.score + 1.5 * norm[si] + (0.5 if en.explicit else 0.0)
            if head_word and (
                any(text[s:e].endswith(head_word) for s, e in en.items)
                or QTY_PREFIX.sub("", text[en.items[-1][1] : en.span[1]].lstrip("等"), count=1).startswith(
                    head_word
                )
            ):
                score += 1.0  # the very noun the question asks for (哪家银行 -> …银行)
            if not en.explicit and len(en.items) == 1:
                score -= 0.5  # a lone name is weaker evidence than a list
            scored.append((score, near.score, near.close, si, en))
    if not scored:
        return []
    scored.sort(key=lambda t: (-t[0], t[3]))
    if any_term_found and terms.chars:
        # the question's own words must sit next to the list: a list of the right kind elsewhere in a
        # retrieved sentence is not an answer (Chinese questions; English ones reach the text only
        # through dictionary translations and pinyin, so there the category and the sentence scores decide)
        scored = [t for t in scored if t[2]]
        if not scored:
            return []
    top_score, top_prox, top_close, _, top_enum = scored[0]
    items: list[Item] = []
    seen: set[str] = set()
    for score, prox, close, si, en in scored:
        if en is not top_enum:
            # another list joins only if it is as much about the question as the best one
            if en.category != top_enum.category or not close or not top_close <= close:
                continue
            if score < 0.6 * top_score or prox < 0.7 * top_prox:
                continue
        sent = sentences[si]
        for s, e in en.items:
            key = sent.text[s:e].strip("“”")
            if key in seen:
                continue
            seen.add(key)
            items.append(item_at(sent, s, e))
            if len(items) >= max_items:
                return items
    return items

"""Answers to quantity questions: the number+unit span that fits the question's unit hints and sits nearest
its words, scored with the sentence's own score and how much of the question the sentence holds; for
"A和B…分别…X和Y", the value(s) of the subject(s) the question names.
"""

from __future__ import annotations

import re

from qa.extract.items import Item, Sentence, item_at
from qa.extract.proximity import proximity
from qa.extract.quantities import Quantity, find_quantities, pair_respectively, quantity_attribute, unit_match
from qa.extract.term_matching import build_terms, find_occurrences, sentence_cover
from qa.extract.tokens import cut_words
from qa.question_type import has_han, hint_concepts, prepare, quantity_hints

_FROM_VALUE = re.compile(r"^.{0,3}?(?:提高|提升|增加|增长|上升|下降|降低|减少|扩大|缩小|增至|降至|升至)")


def extract_quantity(
    question: str, sentences: list[Sentence], norm: list[float],
    translations: dict[str, list[tuple[str, float]]] | None = None,
) -> list[Item]:
    """The number+unit span that fits the unit hints and sits nearest the question's words (and, for
    "A和B…分别…X和Y", the value(s) of the subject(s) the question names)."""
    q = prepare(question)
    hints = quantity_hints(question)
    concepts = hint_concepts(question)
    primary = set(hints[:1])
    if concepts:
        primary |= set(concepts[0].units)
    terms = build_terms(question, exclude=set(), translations=translations)
    if not has_han(q):  # English: the Chinese words that usually sit next to such numbers (投资, 面积 ...)
        for concept in concepts[:2]:
            for w in concept.anchors:
                terms.add(w, 0.8)
    attribute = quantity_attribute(q)
    if attribute:
        terms.add(attribute, 2.5)
    counted = re.search(r"(?:多少|几)(?:个|家|项|栋|座|条|名|位|所)([\u4e00-\u9fff]{1,4})", q)
    counted_noun = ""
    if counted:
        words = cut_words(counted.group(1))
        counted_noun = words[0] if words else ""
    qnums = set(re.findall(r"\d+(?:\.\d+)?", q))
    best: tuple[float, int, int] | None = None
    cands: list[tuple[float, int, Quantity]] = []
    for si, sent in enumerate(sentences):
        text = sent.text
        occ = find_occurrences(text, terms)
        cover = 2.0 * sentence_cover(occ, terms)
        for qty in find_quantities(text, qnums):
            unit = unit_match(qty, hints, primary)
            if unit <= 0:
                continue  # the question asks for 亿元; 28万平方米 is not an answer whatever its place
            score = unit + 1.5 * norm[si] + cover + proximity(text, qty.start, qty.end, occ).score
            if counted_noun and text.startswith(counted_noun, qty.end):
                score += 0.75  # 48个 followed by the counted noun (多少个项目 -> 48个项目)
            dated = any(
                k[:1].isdigit() and 0 <= qty.start - e <= 4 for k, _s, e, _w in occ if isinstance(k, str)
            )
            if _FROM_VALUE.match(text[qty.end : qty.end + 8]) and not dated:
                score -= 1.5  # "从X提高到Y": X is the old value, unless the question asks for X's year
            cands.append((score, si, qty))
            if best is None or score > best[0]:
                best = (score, si, len(cands) - 1)
    if best is None:
        return []
    _, si, idx = best
    sent = sentences[si]
    chosen = [cands[idx][2]]
    pairs = pair_respectively(sent.text, [c[2] for c in cands if c[1] == si])
    if pairs and any(v is chosen[0] for _, v in pairs):
        words = [w for w, _ in terms.words if len(w) >= 2]
        named = [v for subj, v in pairs if subj and (subj in q or any(w in subj or subj in w for w in words))]
        chosen = named or [v for _, v in pairs]
    return [item_at(sent, v.start, v.end) for v in chosen]

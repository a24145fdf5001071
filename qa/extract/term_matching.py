"""Finding a question's terms in a sentence. ``build_terms`` turns a question into what to look for
(Chinese words with weights, content runs matched piecewise, English words through their CC-CEDICT
translations (qa/extract/cedict.py) or as pinyin, so ``mohan`` finds 磨憨); ``find_occurrences`` lists every hit in a sentence with its weight, and
``sentence_cover`` says how much of the question a sentence holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from qa.extract.dates import date_spans
from qa.extract.terms import EN_STOP, ZH_STOP, content_runs
from qa.extract.tokens import is_han
from qa.question_type import has_han, prepare

# (term key, start, end, weight) of one hit of a question term in a sentence.
Occurrence = tuple[object, int, int, float]


@lru_cache(maxsize=65536)
def _char_pinyin(ch: str) -> str:
    from pypinyin import lazy_pinyin

    return lazy_pinyin(ch)[0].lower() if is_han(ch) else ""


@dataclass
class QuestionTerms:
    """What to look for in a sentence: Chinese strings (weighted) and romanized names (pinyin)."""

    words: list[tuple[str, float]] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    pinyin: list[tuple[str, float]] = field(default_factory=list)
    exclude: set[str] = field(default_factory=set)
    chars: int = 0  # characters of Chinese question content to find (0 for English questions)
    sources: dict[str, str] = field(default_factory=dict)  # translated word -> the English word it carries

    def __bool__(self) -> bool:
        return bool(self.words or self.runs or self.pinyin)

    def add(self, word: str, weight: float) -> None:
        """Add a word to look for, unless it is empty or already there."""
        if word and all(w != word for w, _ in self.words):
            self.words.append((word, weight))


# Words so common in policy news that they say little about where an answer is.
_GENERIC_TERMS = frozenset(
    """
    发展 合作 建设 推动 推进 加快 实现 工作 产业 经济 重点 相关 进一步 积极 全面 提升 提高 创新 协调
    区域 全市 全省 全国 我国 国家 地区 城市 企业 项目 方面 情况 问题 机制 体系 新 大 高 开展 加强 支持
    服务 管理 政策 市场 有关 部门 政府 成为
    """.split()
)


def term_weight(term: str) -> float:
    """Weight of a matched piece of a question: longer is more telling, common policy words count little."""
    if term in _GENERIC_TERMS:
        return 0.4
    return min(2.5, 1.0 + 0.35 * max(0, len(term) - 2))


def build_terms(
    question: str, exclude: set[str], translations: dict[str, list[tuple[str, float]]] | None = None
) -> QuestionTerms:
    """Searchable terms of a question; ``exclude`` drops words (e.g. the list's head noun).

    Chinese: the question's dates, and its content runs (matched later piecewise, longest first).
    English: ``translations`` of its words and phrases ({English: [(Chinese, weight)]}, from
    qa.extract.cedict.translate_terms), and the remaining words as pinyin (``mohan``).
    """
    q = prepare(question)
    terms = QuestionTerms()
    if has_han(q):
        for a, b in date_spans(q):
            terms.add(q[a:b], 1.5)
        for run in content_runs(q):
            if run not in exclude:
                terms.runs.append(run)
    translated: set[str] = set()
    for phrase, zh in (translations or {}).items():
        translated.update(phrase.split())
        for w, weight in zh:
            if w not in exclude and not any(w == x for x, _ in terms.words):
                terms.add(w, weight)
                terms.sources[w] = phrase
    if not has_han(q):
        for num in re.findall(r"\b\d+(?:\.\d+)?\b", q):
            terms.add(num, 1.5)  # years and figures: "in 2024" finds 2024年
    for t in re.findall(r"[a-z][a-z0-9+\-]*", q):
        if t in EN_STOP or len(t) < 2 or t in translated:
            continue
        if len(t) >= 3 and re.fullmatch("[a-z]+", t):
            terms.pinyin.append((t, 1.5))
    terms.exclude = set(exclude)
    chars = sum(len(w) for w, _ in terms.words if has_han(w))
    for run in terms.runs:
        for w in sorted(exclude, key=len, reverse=True):
            run = run.replace(w, "")
        chars += len(run)
    terms.chars = chars if has_han(q) else 0
    return terms


def pinyin_hits(text: str, target: str) -> list[tuple[int, int]]:
    """Runs of at least two Han characters whose joined pinyin equals ``target`` (``mohan`` -> 磨憨)."""
    hits = []
    syll = [_char_pinyin(ch) for ch in text]
    for i, s in enumerate(syll):
        if not s or not target.startswith(s):
            continue
        acc = s
        j = i + 1
        while len(acc) < len(target) and j < len(text) and syll[j]:
            acc += syll[j]
            j += 1
        if acc == target and j - i >= 2:
            hits.append((i, j))
    return hits


def _run_pieces(run: str, text: str) -> list[str]:
    """Greedy cover of a question run by its longest substrings (2+ chars) found in ``text``."""
    pieces = []
    i = 0
    while i < len(run) - 1:
        size = len(run) - i
        while size >= 2 and run[i : i + size] not in text:
            size -= 1
        if size >= 2:
            pieces.append(run[i : i + size])
            i += size
        else:
            i += 1
    return pieces


def find_occurrences(text: str, terms: QuestionTerms) -> list[Occurrence]:
    """(term key, start, end, weight) of every occurrence in ``text`` of the question's terms."""
    occ: list[Occurrence] = []
    seen: set[str] = set()
    for word, weight in terms.words:
        seen.add(word)
        occ.extend((word, m.start(), m.end(), weight) for m in re.finditer(re.escape(word), text))
    words = sorted((w for w, _ in terms.words if len(w) >= 2), key=len, reverse=True)
    runs = list(terms.runs)
    for w in words:  # an explicit term is matched alone, not again inside a longer piece of its run
        runs = [part for run in runs for part in run.split(w) if part]
    for run in runs:
        for piece in _run_pieces(run, text):
            if piece in seen or piece in terms.exclude or piece in ZH_STOP:
                continue
            seen.add(piece)
            occ.extend(
                (piece, m.start(), m.end(), term_weight(piece)) for m in re.finditer(re.escape(piece), text)
            )
    for target, weight in terms.pinyin:
        occ.extend((target, a, b, weight) for a, b in pinyin_hits(text, target))
    return occ


def sentence_cover(occ: list[Occurrence], terms: QuestionTerms) -> float:
    """Share of the question found anywhere in a sentence (characters for Chinese; for English, the
    question's words, each counted once whichever of its translations is found)."""
    keys = {k for k, *_ in occ if isinstance(k, str)}
    if terms.chars:
        return min(1.0, sum(len(k) for k in keys if has_han(k) or k[:1].isdigit()) / terms.chars)
    src = terms.sources
    total = len({src.get(w, w) for w, _ in terms.words}) + len(terms.pinyin)
    return min(1.0, len({src.get(k, k) for k in keys}) / total) if total else 0.0

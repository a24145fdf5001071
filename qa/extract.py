"""Answer extraction from ranked candidate sentences: listed names, quantities, dates, with exact offsets.

Everything here is rule-based and works on normalized (Simplified) Chinese text:

* ``split_sentences`` cuts a document into sentences with document offsets.
* ``key_terms`` picks the content words of a question (jieba, question words and stopwords dropped).
* ``extract_items`` returns the answer spans of a question, each an exact substring of its sentence, so
  ``Item.start``/``Item.end`` index the document's normalized text.

Sentences are scored by the caller; inside them, candidates are ranked by how well they fit the question
(the head noun of a list question, the unit hints of a quantity question) and by how close they sit to the
question's key terms. English questions are matched to Chinese text through a small glossary of policy-news
words and through pinyin (``Mohan`` finds 磨憨).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

from qa.question_type import (
    QuestionType,
    has_han,
    hint_concepts,
    prepare,
    quantity_hints,
)

__all__ = ["Item", "Sentence", "extract_items", "key_terms", "split_sentences"]


@dataclass
class Sentence:
    """A sentence of a retrieved passage."""

    text: str  # normalized (Simplified) sentence text
    start: int  # offset of the sentence in its document's normalized text
    citation: int  # 1-based citation number of the passage it came from
    score: float  # relevance of the sentence to the question (higher is better), precomputed by the caller


@dataclass
class Item:
    """One answer span; ``text == doc_text[start:end]`` for the document the citation points to."""

    text: str
    citation: int
    start: int
    end: int


# =====================================================================================================
# Characters, sentences, clauses
# =====================================================================================================
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_RE = re.compile(f"[{_HAN}]")
_TERMINALS = "。！？；"
_ASCII_TERMINALS = "!?;"
_CLOSERS = "”’」』）)】》〉\"'"
_OPENERS = "“‘「『（(【《〈\"'"


def _is_han(ch: str) -> bool:
    return bool(ch) and _HAN_RE.match(ch) is not None


def _ascii_terminal_splits(text: str, i: int) -> tuple[bool, int]:
    """Whether the ASCII ! ? ; run starting at i ends a sentence (it sits between CJK text); run end."""
    j = i
    while j < len(text) and text[j] in _ASCII_TERMINALS:
        j += 1
    before = text[i - 1] if i else ""
    after = text[j] if j < len(text) else ""
    ok_before = _is_han(before) or (before and before in _CLOSERS + "。！？")
    ok_after = after == "" or after.isspace() or _is_han(after) or after in _OPENERS
    return bool(ok_before and ok_after), j


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Split Chinese text into sentences: ``[(start, end), ...]`` with ``offset`` added to both ends.

    Splits after 。！？； (and ASCII ! ? ; only between CJK text), keeping trailing closing quotes and
    brackets with the sentence, and at line breaks. Never splits inside numbers (12.92亿元, 1+2+N).
    Leading/trailing whitespace is left out; empty sentences are dropped.
    """
    spans: list[tuple[int, int]] = []

    def emit(a: int, b: int) -> None:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            spans.append((a + offset, b + offset))

    start = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in "\n\r\u2028\u2029":
            emit(start, i)
            start = i + 1
            i += 1
            continue
        end = -1
        if ch in _TERMINALS:
            end = i + 1
        elif ch in _ASCII_TERMINALS:
            ok, j = _ascii_terminal_splits(text, i)
            if ok:
                end = j
            else:
                i = j
                continue
        if end < 0:
            i += 1
            continue
        while end < n and (text[end] in _TERMINALS or text[end] in "!?"):
            end += 1
        while end < n and text[end] in _CLOSERS:
            end += 1
        emit(start, end)
        start = i = end
    emit(start, n)
    return spans


# Balanced quotes and brackets whose inside is one unit (never split into clauses or list items).
_PAIRS = re.compile(
    r"“[^“”\n]{1,40}”|《[^《》\n]{1,80}》|「[^「」\n]{1,40}」|『[^『』\n]{1,40}』|‘[^‘’\n]{1,30}’|"
    r'"[^"\n]{1,40}"|\([^()\n]{1,24}\)|（[^（）\n]{1,24}）|【[^【】\n]{1,30}】'
)
_QUOTE_OPEN = '“「『‘"《'


def _protected(text: str) -> tuple[list[bool], list[tuple[int, int]]]:
    """Mask of characters inside balanced quotes/brackets, and the quote/title spans themselves."""
    mask = [False] * len(text)
    quotes: list[tuple[int, int]] = []
    for m in _PAIRS.finditer(text):
        for k in range(m.start() + 1, m.end() - 1):
            mask[k] = True
        if text[m.start()] in _QUOTE_OPEN:
            quotes.append((m.start(), m.end()))
    return mask, quotes


_CLAUSE_DELIMS = set("，,；;：:。！？!?")


def _clauses(text: str, mask: list[bool]) -> list[tuple[int, int]]:
    """Clause spans of a sentence: cut at ，,；;：:。！？ outside quotes (ASCII , : not between digits)."""
    out: list[tuple[int, int]] = []
    start = 0
    for i, ch in enumerate(text):
        if ch not in _CLAUSE_DELIMS or mask[i]:
            continue
        if ch in ",:" and 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit():
            continue
        if start < i:
            out.append((start, i))
        start = i + 1
    if start < len(text):
        out.append((start, len(text)))
    return out


# =====================================================================================================
# Tokenization helpers (jieba, cached)
# =====================================================================================================
@lru_cache(maxsize=1)
def _jieba():
    import jieba
    import jieba.posseg

    jieba.setLogLevel(60)
    return jieba, jieba.posseg


@lru_cache(maxsize=8192)
def _pos_tokens(text: str) -> tuple[tuple[int, int, str, str], ...]:
    """(start, end, word, pos) jieba tokens covering ``text``."""
    _, posseg = _jieba()
    out = []
    at = 0
    for pair in posseg.cut(text):
        word, flag = pair.word, pair.flag
        k = text.find(word, at)
        if k < 0:
            continue
        out.append((k, k + len(word), word, flag))
        at = k + len(word)
    return tuple(out)


@lru_cache(maxsize=8192)
def _cut(text: str) -> tuple[str, ...]:
    jieba, _ = _jieba()
    return tuple(jieba.cut(text))


@lru_cache(maxsize=8192)
def _cut_exact(text: str) -> tuple[str, ...]:
    """jieba words without its guesses at unknown words (those are glued back by ``_merge_tokens``)."""
    jieba, _ = _jieba()
    return tuple(jieba.cut(text, HMM=False))


@lru_cache(maxsize=65536)
def _char_pinyin(ch: str) -> str:
    from pypinyin import lazy_pinyin

    return lazy_pinyin(ch)[0].lower() if _is_han(ch) else ""


# =====================================================================================================
# Key terms
# =====================================================================================================
_ZH_STOP = frozenset(
    """
    哪些 哪几 哪几家 哪几个 哪家 哪个 哪一个 哪一家 哪一 哪 哪里 哪儿 哪位 哪类 哪种 哪年 哪一年 哪天
    何时 何年 何日 几时 什么 甚么 什么样 什么时候 什么时间 时候 多少 几 几个 几家 几项 多大 多高 多长
    多久 如何 怎样 怎么 怎么样 为什么 为何 是 的 了 在 有 和 与 及 以及 或 对 为 被 把 将 由 从 向 于 以
    吗 呢 呀 啊 吧 么 请问 请 列举 列出 罗列 一下 都 共 总共 一共 其中 以来 自 到 至 目前 截至 之 等 个
    家 项 又 还 也 就 并 该 此 这 那 这些 那些 其 各 每 一些 分别 具体 主要 哪些是 是否 能否 可以 可 会
    要 让 给 得 地 着 过 所 问 告诉 知道 介绍 说明 情况 方面 多少钱 目前为止 迄今 至今 已 已经
    """.split()
)
_EN_STOP = frozenset(
    """
    a an the of in on at to for from by with and or is are was were be been being do does did done what
    which who whom whose when where why how much many long what's whats list name enumerate give tell me
    please that this these those it its into about as than then there their they them has have had will
    would can could should may might percentage percent share year years date time month day since ago
    total overall all some any each per get got
    """.split()
)
# Single characters that attach to the word before (科技+城) or after (总+投资).
_SUFFIX_CHARS = set("城镇市县区省州村园港率业厂局站馆院所湾岛路桥网链群馆库线")
_PREFIX_CHARS = set("总副新")

_DATE_RE = re.compile(
    r"(?P<ymd>(?:19|20)\d{2}\s*[-/.]\s*(?:0?[1-9]|1[0-2])\s*[-/.]\s*(?:0?[1-9]|[12]\d|3[01]))(?!\d)"
    r"|(?P<range>(?:19|20)\d{2}\s*(?:年\s*)?[-—–~～至到]\s*(?:19|20)\d{2}\s*年)"
    r"|(?P<cn>(?:(?:19|20)\d{2}|[〇零一二][〇零一二三四五六七八九]{3})年"
    r"(?:(?:\d{1,2}|[一二三四五六七八九十]{1,3})月(?:(?:\d{1,2}|[一二三四五六七八九十]{1,3})[日号])?"
    r"(?:上旬|中旬|下旬|底|初|末|中)?"
    r"|(?:上半年|下半年|年底|年初|年末|年中|底|初|末|前三季度|(?:第?[一二三四1-4])季度))?)"
    r"|(?P<md>(?:今年|去年|明年|前年|同年|当年)?(?<!\d)(?:1[0-2]|0?[1-9])月(?:(?:[12]\d|3[01]|0?[1-9])[日号])?(?:上旬|中旬|下旬|底|初|份)?)"
)


def _date_spans(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _DATE_RE.finditer(text)]


def _merge_tokens(tokens: list[str]) -> list[str]:
    """Glue jieba's stray single characters back onto words (磨+憨 -> 磨憨, 科技+城 -> 科技城, 总+投资 ->
    总投资); ``""`` marks a boundary (a dropped stopword) that nothing is glued across."""
    out: list[str] = []
    run: list[str] = []  # consecutive single Han chars
    prefix = ""
    prev_multi = False  # the token just before was a multi-character word (so a suffix can attach)

    def flush() -> None:
        nonlocal run
        if len(run) >= 2:
            out.append("".join(run))
        run = []

    for i, tok in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if tok == "":
            flush()
            prefix, prev_multi = "", False
            continue
        if len(tok) == 1 and _is_han(tok):
            if tok in _SUFFIX_CHARS and prev_multi and not run:
                out[-1] += tok
                prev_multi = False
            elif tok in _PREFIX_CHARS and len(nxt) >= 2 and not run:
                prefix = tok
            else:
                run.append(tok)
                prev_multi = False
            continue
        flush()
        out.append(prefix + tok)
        prefix, prev_multi = "", True
    flush()
    return out


_QUESTION_WORDS = re.compile(
    r"哪[一两二三四五六七八九十几]*[些个家位类种所座项条部年天月里儿]?|多少|几[个家项条栋座名位年月天]?|什么时[候间]|"
    r"什么|甚么|何时|何年|何日|如何|怎么样|怎么|怎样|为什么|为何|是否|能否|请问|列举|列出"
)


def _content_runs(q: str) -> list[str]:
    """Stretches of a Chinese question between question words, stopwords and punctuation (jieba words
    joined back), e.g. 多少家企业到磨憨实地调研 -> 企业, 磨憨实, 调研. Dates are left out."""
    masked = _QUESTION_WORDS.sub("，", _DATE_RE.sub("，", q))
    runs: list[str] = []
    cur = ""
    for tok in _cut_exact(masked):
        if tok.strip() == "" or tok in _ZH_STOP or not re.search(rf"[{_HAN}a-z0-9]", tok):
            if cur:
                runs.append(cur)
            cur = ""
            continue
        cur += tok
    if cur:
        runs.append(cur)
    return runs


def key_terms(question: str) -> list[str]:
    """Content words of a question, in order, without question words and stopwords.

    Chinese: dates stay whole (2024年5月), jieba words are re-glued where jieba split an unknown name
    (磨憨, 科技城, 总投资). English: lower-cased words minus stopwords.
    """
    q = prepare(question)
    terms: list[str] = []
    if not has_han(q):
        return list(
            dict.fromkeys(
                w for w in re.findall(r"[a-z0-9][a-z0-9+\-]*", q) if w not in _EN_STOP and len(w) > 1
            )
        )
    last = 0
    for m in [*_DATE_RE.finditer(q), None]:
        piece = q[last : m.start()] if m else q[last:]
        tokens: list[str] = []
        for part in _QUESTION_WORDS.split(piece):
            for tok in _cut_exact(part):
                tok = tok.strip()
                if not tok or tok in _ZH_STOP or not re.search(rf"[{_HAN}a-z0-9]", tok):
                    tokens.append("")  # a boundary: nothing is glued across it
                    continue
                tokens.append(tok)
            tokens.append("")
        for tok in _merge_tokens(tokens):
            if tok not in _ZH_STOP and not re.fullmatch(r"[\d.]+", tok) and len(tok) >= 2:
                terms.append(tok)
        if m:
            terms.append(m.group())
            last = m.end()
    return list(dict.fromkeys(terms))


# English policy-news words -> the Chinese words that carry them in a text.
_GLOSSARY: dict[str, tuple[str, ...]] = {
    "firm": ("企业", "公司"),
    "company": ("企业", "公司"),
    "compani": ("企业", "公司"),
    "enterprise": ("企业",),
    "business": ("企业",),
    "project": ("项目",),
    "park": ("园区", "产业园"),
    "invest": ("投资",),
    "sign": ("签约",),
    "land": ("落地",),
    "settl": ("落地", "入驻"),
    "locat": ("落地",),
    "register": ("注册",),
    "regist": ("注册",),
    "town": ("镇",),
    "county": ("县",),
    "province": ("省",),
    "industr": ("产业", "工业"),
    "servic": ("服务业",),
    "econom": ("经济",),
    "growth": ("增长",),
    "grow": ("增长",),
    "contribut": ("贡献",),
    "area": ("面积",),
    "building": ("建筑", "栋"),
    "transfer": ("转移",),
    "cooperat": ("合作",),
    "zone": ("区",),
    "system": ("体系",),
    "mechanism": ("机制",),
    "polic": ("政策",),
    "measure": ("措施",),
    "revenue": ("营收", "收入"),
    "population": ("人口",),
    "open": ("开园", "开业", "开通"),
    "railway": ("铁路",),
    "border": ("边境",),
    "document": ("文件",),
    "plan": ("规划", "计划"),
    "bank": ("银行",),
    "universit": ("大学",),
    "agreement": ("协议",),
    "strategic": ("战略",),
    "research": ("研究",),
    "visit": ("调研",),
    "employ": ("就业",),
    "job": ("就业",),
    "export": ("出口",),
    "trade": ("贸易", "商贸"),
    "manufactur": ("制造",),
    "energy": ("能源",),
    "digital": ("数字",),
    "center": ("中心",),
    "centre": ("中心",),
    "hub": ("枢纽",),
    "capital": ("省会",),
    "launch": ("启动",),
    "complet": ("建成",),
    "construct": ("建设",),
    "cross-border": ("跨境",),
    "crossborder": ("跨境",),
    "region": ("区域",),
}
_GLOSSARY_PHRASES: dict[str, tuple[str, ...]] = {
    "science city": ("科技城",),
    "tech city": ("科技城",),
    "technology city": ("科技城",),
    "take over": ("托管",),
    "take on": ("承接",),
    "took on": ("承接",),
    "taken on": ("承接",),
    "undertak": ("承接",),
    "undertook": ("承接",),
    "took over": ("托管",),
    "taken over": ("托管",),
    "taking over": ("托管",),
    "industrial park": ("产业园", "园区"),
    "cooperation zone": ("合作区",),
    "trade zone": ("自贸",),
    "free trade": ("自贸",),
    "contribution rate": ("贡献率",),
    "added value": ("增加值",),
    "value added": ("增加值",),
    "total investment": ("总投资",),
    "floor area": ("建筑面积",),
    "border port": ("口岸",),
    "port city": ("口岸城市",),
}
# Endings an English word may add to a glossary stem (invest -> invested, compani -> companies).
_EN_ENDINGS = frozenset(
    "s es ed d ing e y ies ic ics al ial ion ions ment ments er ers ered ration ive ee ees ly ation ations".split()
)


def _glossary_lookup(word: str) -> tuple[str, ...]:
    """Chinese words for an English word, by stem and a regular ending (signed -> 签约, not significant)."""
    for stem in sorted(_GLOSSARY, key=len, reverse=True):
        if word.startswith(stem) and (word == stem or word[len(stem) :] in _EN_ENDINGS):
            return _GLOSSARY[stem]
    return ()


@dataclass
class _Terms:
    """What to look for in a sentence: Chinese strings (weighted) and romanized names (pinyin)."""

    words: list[tuple[str, float]] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    pinyin: list[tuple[str, float]] = field(default_factory=list)
    exclude: set[str] = field(default_factory=set)
    chars: int = 0  # characters of Chinese question content to find (0 for English questions)

    def __bool__(self) -> bool:
        return bool(self.words or self.runs or self.pinyin)

    def add(self, word: str, weight: float) -> None:
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


def _term_weight(term: str) -> float:
    if term in _GENERIC_TERMS:
        return 0.4
    return min(2.5, 1.0 + 0.35 * max(0, len(term) - 2))


def _build_terms(question: str, exclude: set[str]) -> _Terms:
    """Searchable terms of a question; ``exclude`` drops words (e.g. the list's head noun).

    Chinese: the question's dates, and its content runs (matched later piecewise, longest first).
    English: glossary translations of its words, and the remaining words as pinyin (``mohan``).
    """
    q = prepare(question)
    terms = _Terms()
    if has_han(q):
        for a, b in _date_spans(q):
            terms.add(q[a:b], 1.5)
        for run in _content_runs(q):
            if run not in exclude:
                terms.runs.append(run)
    for phrase, zh in _GLOSSARY_PHRASES.items():
        if phrase in q:
            for w in zh:
                if w not in exclude:
                    terms.add(w, 1.0)
    if not has_han(q):
        for num in re.findall(r"\b\d+(?:\.\d+)?\b", q):
            terms.add(num, 1.5)  # years and figures: "in 2024" finds 2024年
    for t in re.findall(r"[a-z][a-z0-9+\-]*", q):
        if t in _EN_STOP or len(t) < 2:
            continue
        zh = _glossary_lookup(t)
        if zh:
            for w in zh:
                if w not in exclude:
                    terms.add(w, 1.0 if len(w) > 1 else 0.4)
        elif len(t) >= 3 and re.fullmatch("[a-z]+", t):
            terms.pinyin.append((t, 1.5))
    terms.exclude = set(exclude)
    chars = sum(len(w) for w, _ in terms.words if has_han(w))
    for run in terms.runs:
        for w in sorted(exclude, key=len, reverse=True):
            run = run.replace(w, "")
        chars += len(run)
    terms.chars = chars if has_han(q) else 0
    return terms


def _pinyin_hits(text: str, target: str) -> list[tuple[int, int]]:
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


def _occurrences(text: str, terms: _Terms) -> list[tuple[object, int, int, float]]:
    """(term key, start, end, weight) of every occurrence in ``text`` of the question's terms."""
    occ: list[tuple[object, int, int, float]] = []
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
            if piece in seen or piece in terms.exclude or piece in _ZH_STOP:
                continue
            seen.add(piece)
            occ.extend(
                (piece, m.start(), m.end(), _term_weight(piece)) for m in re.finditer(re.escape(piece), text)
            )
    for target, weight in terms.pinyin:
        occ.extend((target, a, b, weight) for a, b in _pinyin_hits(text, target))
    return occ


def _distance(text: str, a: int, b: int, c: int, d: int) -> float:
    """Characters between spans [a,b) and [c,d), plus a penalty for each clause/sentence break between."""
    if d <= a:
        lo, hi = d, a
    elif b <= c:
        lo, hi = b, c
    else:
        return 0.0
    gap = text[lo:hi]
    breaks = sum(gap.count(ch) for ch in "；;。！？!?") * 10 + sum(gap.count(ch) for ch in "，,") * 5
    return float(hi - lo + breaks)


def _same_clause(text: str, a: int, b: int, c: int, d: int) -> bool:
    """Whether no clause break (，,；;。：:！？) lies between spans [a,b) and [c,d)."""
    lo, hi = (d, a) if d <= a else (b, c) if b <= c else (0, 0)
    return not any(ch in "，,；;。：:！？!?" for ch in text[lo:hi])


@dataclass
class _Near:
    """How close the question's terms sit to a span."""

    score: float  # sum of weight * decay(distance), nearest occurrence of each term
    close: frozenset  # terms within about 10 characters
    cover: float  # question characters found, discounted by distance (Chinese questions)


def _proximity(
    text: str,
    a: int,
    b: int,
    occ: list[tuple[object, int, int, float]],
    inside: list[tuple[int, int]] = (),
    inside_counts: bool = True,
) -> _Near:
    """Sum over terms of weight * decay(distance) for the term's nearest occurrence to [a, b) (decay mixes
    a short and a long range: adjacent words count most, words elsewhere in the sentence still count),
    and the set of (non-generic) terms that sit close: within about 10 characters, in the same clause.

    Occurrences inside the ``inside`` spans (the answer items themselves) count half, and only count as
    close when ``inside_counts``: a question word inside a lone name is no evidence that it answers."""
    best: dict[object, float] = {}
    cover: dict[object, float] = {}
    close: set[object] = set()
    for tid, c, d, w in occ:
        within = any(s <= c and d <= e for s, e in inside)
        if within:
            w *= 0.5
        dist = _distance(text, a, b, c, d)
        val = w * (0.5 * math.exp(-dist / 8.0) + 0.5 * math.exp(-dist / 40.0))
        if val > best.get(tid, 0.0):
            best[tid] = val
        if isinstance(tid, str) and has_han(tid) and (inside_counts or not within):
            cover[tid] = max(
                cover.get(tid, 0.0), len(tid) * math.exp(-dist / 16.0) * (0.5 if within else 1.0)
            )
        if dist <= 10 and w >= 0.45 and (inside_counts or not within) and _same_clause(text, a, b, c, d):
            close.add(tid)
    return _Near(sum(best.values()), frozenset(close), sum(cover.values()))


def _sentence_cover(occ: list[tuple[object, int, int, float]], terms: _Terms) -> float:
    """Share of the question found anywhere in a sentence (characters for Chinese, terms for English)."""
    keys = {k for k, *_ in occ if isinstance(k, str)}
    if terms.chars:
        return min(1.0, sum(len(k) for k in keys if has_han(k) or k[:1].isdigit()) / terms.chars)
    total = len(terms.words) + len(terms.pinyin)
    return min(1.0, len(keys) / total) if total else 0.0


def _normalized_scores(sentences: list[Sentence]) -> list[float]:
    """Sentence scores scaled to [0, 1]: divided by the best when none is negative, else min-max."""
    scores = [s.score for s in sentences]
    if not scores:
        return []
    lo, hi = min(scores), max(scores)
    if hi - lo <= 1e-12:
        return [1.0] * len(scores)
    if lo >= 0:
        return [s / hi for s in scores]
    return [(s - lo) / (hi - lo) for s in scores]


# =====================================================================================================
# Quantities
# =====================================================================================================
_AR_NUM = r"\d+(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_CN_NUM = r"[零〇一二两三四五六七八九十百千万亿]+"
_MAG = r"万亿|千亿|百亿|十亿|亿|千万|百万|十万|万|千|百"
_UNITS = tuple(
    """
    个百分点 百分点 平方公里 平方千米 平方米 立方米 千瓦时 兆瓦 吉瓦 千瓦 公顷 公里 千米 千克 公斤 标箱
    人民币 美元 欧元 港元 日元 英镑 元 平米 亩 % ％ ‰ 人次 个月 小时 分钟 家 个 项 栋 幢 座 条 件 名 位
    人 户 所 台 辆 套 次 场 款 处 艘 架 列 趟 宗 份 张 部 种 类 批 篇 期 轮 届 年 天 周 倍 成 吨 米 度
    ㎡
    """.split()
)
_UNIT_ALT = "|".join(sorted(map(re.escape, _UNITS), key=len, reverse=True))
_QTY_RE = re.compile(
    rf"(?P<pre>约|大约|近|将近|接近|逾|超过|超|不足|不到)?"
    rf"(?P<num>(?:{_AR_NUM}|{_CN_NUM})(?:\s*[-—–~～至到]\s*(?:{_AR_NUM}|{_CN_NUM}))?)"
    rf"(?P<a1>[多余])?(?P<mag>{_MAG})?(?P<a2>[多余])?(?P<unit>{_UNIT_ALT})(?P<post>多|余|以上|以下|左右)?"
    rf"|(?P<pct>百分之(?:{_AR_NUM}|{_CN_NUM}))"
    rf"|(?P<frac>(?:{_AR_NUM}|{_CN_NUM})分之(?:{_AR_NUM}|{_CN_NUM}))"
)
_CN_DIGIT = re.compile("[零〇一二两三四五六七八九十]")
_COUNT_CLASSIFIERS = set("个批种类次项条家名位件场款处份张部篇期轮届")
_FROM_VALUE = re.compile(r"^.{0,3}?(?:提高|提升|增加|增长|上升|下降|降低|减少|扩大|缩小|增至|降至|升至)")


@dataclass
class _Quantity:
    start: int
    end: int
    unit: str  # magnitude + unit, e.g. 亿元, 万平方米, %
    bare_unit: str


def _quantities(text: str, question_numbers: set[str]) -> list[_Quantity]:
    """Number+unit spans of a sentence, dates and the question's own numbers excluded."""
    dates = _date_spans(text)
    out: list[_Quantity] = []
    for m in _QTY_RE.finditer(text):
        a, b = m.start(), m.end()
        if any(a < d1 and d0 < b for d0, d1 in dates):
            continue
        if m.group("pct") or m.group("frac"):
            out.append(_Quantity(a, b, "%", "%"))
            continue
        num, unit = m.group("num"), m.group("unit")
        if not re.search(r"\d", num):
            if not _CN_DIGIT.search(num):
                continue  # 万元 with no number
            if num == "一" and unit in _COUNT_CLASSIFIERS:
                continue  # 一批, 一个: idiom rather than a count
            if a and text[a - 1] in "第之每各":
                continue
            if num == "一" and a and _is_han(text[a - 1]) and not m.group("pre"):
                continue  # 统一/进一步-like word fragments
        elif a and text[a - 1] == "第":
            continue
        if unit == "年" and re.fullmatch(r"(?:19|20)\d{2}", num):
            continue  # a year, not a duration
        if re.sub(r"\D", "", num) and re.sub(r"\D", "", num) in question_numbers:
            continue
        mag = m.group("mag") or ""
        out.append(_Quantity(a, b, mag + unit, unit))
    return out


def _unit_match(q: _Quantity, hints: list[str], primary: set[str]) -> float:
    if not hints:
        return 0.5
    unit = q.unit.replace("％", "%")
    for h in hints:
        if unit == h or unit.endswith(h) or q.bare_unit == h:
            return 2.0 if h in primary else 1.0
    return 0.0


def _respectively(text: str, values: list[_Quantity]) -> list[tuple[str, _Quantity]] | None:
    """Pair the subjects and values of "A和B ... 分别 ... X和Y" (same count on both sides)."""
    k = text.find("分别")
    if k < 0:
        return None
    clause_start = max(text.rfind(ch, 0, k) for ch in "，,；;。：:") + 1
    clause_end_candidates = [p for p in (text.find(ch, k) for ch in "，,；;。") if p >= 0]
    clause_end = min(clause_end_candidates) if clause_end_candidates else len(text)
    vals = [v for v in values if k < v.start < clause_end]
    if len(vals) < 2:
        return None
    head = text[clause_start:k]
    parts = [p for p in re.split(r"和|与|及|以及|、", head) if p]
    if len(parts) != len(vals):
        return None
    subjects = []
    for i, part in enumerate(parts):
        if i == len(parts) - 1:  # the last one carries the shared predicate: keep its leading nouns
            kept = ""
            for _a, _b, word, pos in _pos_tokens(part):
                if pos[0] in "pvudcr" and pos != "vn" and kept:
                    break
                kept += word
            part = kept
        subjects.append(part)
    return list(zip(subjects, vals, strict=True))


_ATTR_SKIP = frozenset(
    "是 为 有 达 达到 约 共 共有 一共 总共 合计 累计 了 的 到 在 将 能 可 可以 会 要 大概 大约".split()
)


def _quantity_attribute(q: str) -> str:
    """The word a Chinese quantity question measures: the content word right before 多少/几/多大
    (总投资多少 -> 总投资, 同比增长多少 -> 增长)."""
    m = re.search(r"多少|几|多大|多高|多长|多久|多远", q)
    if not m or not has_han(q[: m.start()]):
        return ""
    words = [w for w in _cut_exact(q[: m.start()]) if w.strip()]
    while words and (words[-1] in _ATTR_SKIP or not has_han(words[-1])):
        words.pop()
    if not words:
        return ""
    word = words[-1]
    if len(words) > 1 and (len(word) == 1 or words[-2] in _PREFIX_CHARS):
        word = words[-2] + word  # 总+投资 -> 总投资
    return word if len(word) >= 2 else ""


def _extract_quantity(question: str, sentences: list[Sentence], norm: list[float]) -> list[Item]:
    """The number+unit span that fits the unit hints and sits nearest the question's words (and, for
    "A和B…分别…X和Y", the value(s) of the subject(s) the question names)."""
    q = prepare(question)
    hints = quantity_hints(question)
    concepts = hint_concepts(question)
    primary = set(hints[:1])
    if concepts:
        primary |= set(concepts[0].units)
    terms = _build_terms(question, exclude=set())
    if not has_han(q):  # English: the Chinese words that usually sit next to such numbers (投资, 面积 ...)
        for concept in concepts[:2]:
            for w in concept.anchors:
                terms.add(w, 0.8)
    attribute = _quantity_attribute(q)
    if attribute:
        terms.add(attribute, 2.5)
    counted = re.search(r"(?:多少|几)(?:个|家|项|栋|座|条|名|位|所)([\u4e00-\u9fff]{1,4})", q)
    counted_noun = ""
    if counted:
        words = _cut(counted.group(1))
        counted_noun = words[0] if words else ""
    qnums = set(re.findall(r"\d+(?:\.\d+)?", q))
    best: tuple[float, int, int] | None = None
    cands: list[tuple[float, int, _Quantity]] = []
    for si, sent in enumerate(sentences):
        text = sent.text
        occ = _occurrences(text, terms)
        cover = 2.0 * _sentence_cover(occ, terms)
        for qty in _quantities(text, qnums):
            unit = _unit_match(qty, hints, primary)
            if unit <= 0:
                continue  # the question asks for 亿元; 28万平方米 is not an answer whatever its place
            score = unit + 1.5 * norm[si] + cover + _proximity(text, qty.start, qty.end, occ).score
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
    pairs = _respectively(sent.text, [c[2] for c in cands if c[1] == si])
    if pairs and any(v is chosen[0] for _, v in pairs):
        words = [w for w, _ in terms.words if len(w) >= 2]
        named = [v for subj, v in pairs if subj and (subj in q or any(w in subj or subj in w for w in words))]
        chosen = named or [v for _, v in pairs]
    return [_item(sent, v.start, v.end) for v in chosen]


def _item(sent: Sentence, a: int, b: int) -> Item:
    return Item(sent.text[a:b], sent.citation, sent.start + a, sent.start + b)


# =====================================================================================================
# Dates
# =====================================================================================================
def _extract_time(question: str, sentences: list[Sentence], norm: list[float]) -> list[Item]:
    """The date nearest the question's words (dates the question itself gives are skipped)."""
    q = prepare(question)
    qdates = {q[a:b] for a, b in _date_spans(q)}
    terms = _build_terms(question, exclude=qdates)
    best: tuple[float, int, int, int, float] | None = None
    for si, sent in enumerate(sentences):
        text = sent.text
        occ = _occurrences(text, terms)
        cover = 2.0 * _sentence_cover(occ, terms)
        for a, b in _date_spans(text):
            span = text[a:b]
            if span in qdates:
                continue
            prox = _proximity(text, a, b, occ).score
            score = prox + cover + 1.5 * norm[si] + 0.1 * len(re.findall(r"[年月日号]", span))
            if best is None or score > best[0]:
                best = (score, si, a, b, prox)
    if best is None:
        return []
    _, si, a, b, prox = best
    if prox <= 0 and norm[si] < 0.5 and terms:
        return []  # a date in a weakly related sentence with none of the question's words
    return [_item(sentences[si], a, b)]


# =====================================================================================================
# Lists
# =====================================================================================================
# Categories of things a list question asks for; the word lists double as head nouns after 等.
_CATEGORIES: dict[str, tuple[str, ...]] = {
    "firm": tuple(
        "企业 公司 厂商 厂家 集团 商家 品牌 龙头 头部企业 市场主体 经营主体 银行 金融机构 外资企业 民营企业 国企 央企 链主".split()
    ),
    "project": tuple("项目 工程 重点项目 产业项目".split()),
    "park": tuple(
        "园区 产业园 开发区 合作区 高新区 经开区 新区 基地 平台 载体 科技城 片区 自贸区 保税区 综保区 示范区".split()
    ),
    "place": tuple("地区 城市 国家 省份 省区 州市 县区 区县 地方 乡镇 口岸 地 国 省 市 县".split()),
    "document": tuple("文件 政策 办法 意见 规划 方案 法规 条例 通知 制度".split()),
    "measure": tuple("措施 举措 机制 模式 做法 经验 路径 工作".split()),
    "field": tuple("领域 产业 行业 赛道 板块 业态 方向".split()),
    "org": tuple("协会 联合会 商会 高校 大学 学院 机构 部门 单位 研究院 研究所 医院 学校 院校".split()),
    "product": tuple("产品 商品 设施 配套".split()),
}
_EN_CATEGORIES: dict[str, str] = {
    "firm": r"\bfirms?\b|\bcompan(?:y|ies)\b|\benterprises?\b|\bbusiness(?:es)?\b|\bmanufacturers?\b|\bbanks?\b",
    "project": r"\bprojects?\b",
    "park": r"\bparks?\b|\bzones?\b|\bplatforms?\b|\bbases?\b",
    "place": r"\bcities\b|\bcity\b|\bcountries\b|\bprovinces?\b|\bregions?\b|\bplaces?\b|\bcounties\b|\bdistricts?\b",
    "document": r"\bdocuments?\b|\bpolic(?:y|ies)\b|\bregulations?\b|\bplans?\b|\brules?\b",
    "measure": r"\bmeasures?\b|\bmechanisms?\b|\bmodels?\b|\bsteps?\b",
    "field": r"\bindustr(?:y|ies)\b|\bsectors?\b|\bfields?\b|\bareas?\b",
    "org": r"\bassociations?\b|\buniversit(?:y|ies)\b|\binstitut\w*|\bagenc(?:y|ies)\b|\bdepartments?\b|\borgani[sz]ations?\b",
    "product": r"\bproducts?\b|\bfacilit(?:y|ies)\b",
}
_COMPAT = {
    frozenset({"firm", "org"}): 0.4,
    frozenset({"park", "project"}): 0.3,
    frozenset({"park", "place"}): 0.2,
    frozenset({"firm", "project"}): 0.1,
}
_CAT_WORDS = sorted({w for ws in _CATEGORIES.values() for w in ws}, key=len, reverse=True)
_WORD_CAT: dict[str, str] = {w: cat for cat, words in reversed(_CATEGORIES.items()) for w in words}

_FIRM_SUFFIX = r"股份有限公司|有限责任公司|有限公司|分公司|子公司|公司|集团|银行|控股|股份"
_ORG_SUFFIX = r"大学|学院|研究院|研究所|实验室|联合会|协会|商会|医院"
_FIRM_SUFFIX_RE = re.compile(rf"(?:{_FIRM_SUFFIX})$")
_ORG_SUFFIX_RE = re.compile(rf"(?:{_ORG_SUFFIX})$")
_NAME_SUFFIX_RE = re.compile(rf"{_FIRM_SUFFIX}|{_ORG_SUFFIX}")
_PARK_SUFFIX_RE = re.compile(r"(?:园区|产业园|开发区|合作区|高新区|新区|科技城|基地|片区|园)$")
_PLACE_SUFFIX_RE = re.compile(r"(?:省|市|县|区|州|镇|乡|村)$")

# Words before a list that are not part of its first item (verbs that introduce names, prepositions...).
_LEAD_STRONG = frozenset(
    """
    签约 签下 签署 签订 引进 引入 吸引 招引 引荐 承接 包括 包含 涵盖 涉及 覆盖 例如 比如 诸如 如 像 有
    是 为 与 和 及 同 跟 向 对 把 将 被 让 使 给 在 从 由 于 以 就 了 的 等 还 也 并 已 已经 先后 相继
    陆续 成功 分别 共同 均 都 目前 截至 近年来 其中 联合 携手 依托 围绕 聚焦 支持 鼓励 引导 组织 协同
    配合 对接 落户 入驻 落地 注册 集聚 汇聚 包揽 拥有 成立 设立 招商 即 主要有 主要 重点 已有 现有 共有
    还有 另有 就有 拥有 包括了 吸引了 引进了 签约了 承接了 出台 印发 发布 制定 采取 实施 推出 评选 认定
    公布 入选 获评
    """.split()
)
_LEAD_WEAK = frozenset(
    """
    发展 建设 打造 培育 推动 推进 壮大 扶持 坚持 结合 实行 围绕着 突出 瞄准 做强 做大 加快 积极 大力
    着力 持续 不断 进一步 实现 形成 建立 开展 开通 服务 布局 带动 促进 助力 整合 升级 改造 提升 完善
    优化 保障 覆盖 辐射 连接 联通 面向 服务于 对标 瞄准 培养 孵化 招募 吸纳 引育 新建 新增 启动 谋划
    储备 签约落地 投资 参股 控股 收购 并购 合资 入股 授牌 命名 表彰 遴选 筛选 确定 确立 列入 纳入
    """.split()
)
# Introducing verbs whose objects are firms or projects (a list after them is likely an answer to "which firms").
_TAKES_NAMES = frozenset(
    "签约 签下 签署 签订 引进 引入 吸引 招引 引荐 承接 落户 入驻 落地 注册 新增 收购 并购 孵化 培育 招募 授牌 遴选 认定 入选".split()
)
_TRAIL_STOP = frozenset(
    """
    签约 签署 签订 落地 入驻 落户 注册 在内 共同 先后 相继 陆续 分别 均 都 已 已经 正在 将 也 还 纷纷 向
    在 从 对 于 把 被 成为 实现 加快 推进 建立 形成 达成 参加 参与 共建 合作 开展 进行 获得 获批 入选
    建成 投产 开工 投用 等 的 了 以 为 是 与
    """.split()
)
_GENERIC_ITEMS = frozenset(
    "企业 公司 项目 园区 单位 部门 机构 产业 行业 领域 地区 城市 政府 国家 省份 方面 工作 平台 重点 其他 其它 有关 相关 一批 多家".split()
)
_CONJ = frozenset({"和", "及", "以及", "与", "同", "暨"})
_APPOSITIVE = re.compile(r"(?:\d+|[两二三四五六七八九十]+)(?:个|家|项|所|座|条|大|种|类|名|位)")
_QTY_PREFIX = re.compile(
    r"^(?:等)?(?:(?:一批|一系列|一些|多家|数家|诸多|众多|各类|多个|多项|近百家|上百家|数十家)|"
    r"(?:约|近|超过|逾)?(?:\d+|[一二两三四五六七八九十百千几数多]+)(?:多|余)?(?:个|家|项|所|座|条|批|类|种|大|款|位|名|处|项次)(?:多|余)?)"
)


@dataclass
class _Enum:
    items: list[tuple[int, int]]  # spans in the sentence
    category: str | None
    span: tuple[int, int]
    explicit: bool  # closed by 等 / an appositive count / a head noun
    lead_hint: bool = False  # introduced by a verb that takes firms/projects (签约, 引进 ...)


def _np_head(phrase: str) -> str | None:
    """Category of the noun phrase that opens ``phrase``: its last category word before the first
    adverb/preposition/particle, or before a verb once a category word was seen
    ("联动发展模式" -> measure, "市级重点园区统筹确立为…" -> park)."""
    head = None
    for _a, _b, word, pos in _pos_tokens(phrase):
        if pos[0] in "dpucryex" or pos == "uj" or (head and pos[0] == "v" and pos != "vn"):
            break
        for w in _CAT_WORDS:
            if word.endswith(w) and (len(w) > 1 or word == w):
                head = _WORD_CAT[w]
                break
    return head


def _category_of_phrase(phrase: str) -> str | None:
    """Category named by a head phrase after 等 or a count ("一批企业先后落地" -> firm,
    "地招引的省外企业" -> place, "一批赋能转型、助力链群培育的重大产业项目" -> project)."""
    phrase = _QTY_PREFIX.sub("", phrase, count=1)
    if not phrase:
        return None
    toks = _cut(phrase)
    if toks and toks[0] in _WORD_CAT:
        return _WORD_CAT[toks[0]]
    head = _np_head(phrase)
    if head is None and "的" in phrase:
        after = phrase[phrase.find("的") + 1 :]
        head = _np_head(after)
    return head


def _category_of_items(texts: list[str]) -> str | None:
    votes: dict[str, int] = {}
    for t in texts:
        cat = None
        if t.startswith("《"):
            cat = "document"
        elif _FIRM_SUFFIX_RE.search(t):
            cat = "firm"
        elif _ORG_SUFFIX_RE.search(t):
            cat = "org"
        elif _PARK_SUFFIX_RE.search(t):
            cat = "park"
        elif t.endswith("项目") or t.endswith("工程"):
            cat = "project"
        elif _PLACE_SUFFIX_RE.search(t) and len(t) <= 6:
            cat = "place"
        if cat:
            votes[cat] = votes.get(cat, 0) + 1
    if not votes:
        return None
    cat, n = max(votes.items(), key=lambda kv: kv[1])
    return cat if n * 2 >= len(texts) else None


def _trim_lead(text: str, a: int, b: int) -> tuple[int, bool]:
    """Start of the name that ends at ``b`` in ``text[a:b]``, cutting introducing words (签约, 承接了, 从...).
    Returns (start, whether a verb that takes firms/projects was cut)."""
    piece = text[a:b]
    suffixed = bool(_NAME_SUFFIX_RE.search(piece[-6:]))
    tokens = _pos_tokens(piece)
    cut = 0
    verb = False
    for idx in range(len(tokens) - 1, -1, -1):
        s, e, word, pos = tokens[idx]
        if idx == len(tokens) - 1 and len(tokens) > 1 and word not in ("了",):
            continue  # the name itself ends here
        stop = word in _LEAD_STRONG or (not suffixed and word in _LEAD_WEAK)
        if (
            not stop
            and len(word) == 1
            and pos in ("p", "c", "uj", "ul", "uz", "ug", "uv", "ud")
            and word != "之"
        ):
            stop = True
        if not stop and len(word) >= 2 and pos in ("d", "p", "c", "r"):
            stop = True
        if stop and word in _CONJ and piece[-1] in _AGENCY_END and piece[s - 1 : s] not in _AGENCY_END:
            stop = len(piece) - e > 6  # 工业和信息化部 is one name
        if stop:
            cut = e
            verb = word in _TAKES_NAMES
            break
        # 承接了裕能 is tokenized 承接/了裕/能: a verb, then 了 glued to the name
        if word[0] == "了" and idx > 0 and tokens[idx - 1][2] in _LEAD_STRONG | _LEAD_WEAK:
            cut = s + 1
            verb = tokens[idx - 1][2] in _TAKES_NAMES
            break
    if cut == 0 and len(tokens) > 1 and len(tokens[0][2]) >= 2 and tokens[0][3] in ("v", "vd"):
        cut = tokens[0][1]  # a clause that opens with a verb (结合临港集团…): the name is its object
        verb = tokens[0][2] in _TAKES_NAMES
    start = a + cut
    while start < b and text[start] in "了着过的将已 ":
        start += 1
    return start, verb


def _trim_trail(text: str, a: int, b: int) -> int | None:
    """End of the name that starts at ``a`` in ``text[a:b]`` (a last list item not closed by 等).
    None when the piece is a modifier ("主动流转的市域企业"), i.e. the list is not a list of names."""
    piece = text[a:b]
    m = None
    for found in _NAME_SUFFIX_RE.finditer(piece):
        m = found  # the last name suffix in the piece
    if m is not None and m.end() >= len(piece) - 12:
        rest = piece[m.end() :]
        if not rest or not _HAN_RE.match(rest[0]) or rest[:2] in _TRAIL_STOP or rest[:1] in _TRAIL_STOP:
            return a + m.end()
    tokens = _pos_tokens(piece)
    for idx, (s, _e, word, _pos) in enumerate(tokens):
        if idx == 0:
            continue
        if word == "的":
            return None
        if word in _TRAIL_STOP:
            return a + s
    for idx, (s, _e, word, pos) in enumerate(tokens):
        if idx == 0:
            continue
        rest = len(piece) - s
        if (pos in ("v", "vd", "p") and len(word) >= 2 or pos == "p") and rest - len(word) >= 2:
            return a + s
    return b


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


_AGENCY_END = "部厅局委办署"


def _conj_split(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """Split a piece at conjunctions (A和B, A及B, A以及B, A与B): conjunction tokens (never inside a jieba
    word), and any conjunction right after a name suffix or a closing quote (…有限公司和隆基…)."""
    cuts: list[tuple[int, int]] = []
    for s, e, word, _pos in _pos_tokens(text[a:b]):
        if word in _CONJ and s > 0 and a + e < b:
            cuts.append((a + s, a + e))
    for m in re.finditer(
        r"(?:(?<=公司|集团|银行|大学|学院|协会)|(?<=[”》」』]))(?:以及|和|及|与)", text[a:b]
    ):
        cuts.append((a + m.start(), a + m.end()))
    out = []
    start = a
    for s, e in sorted(set(cuts)):
        if text[b - 1] in _AGENCY_END and text[s - 1] not in _AGENCY_END and s - start <= 6:
            continue  # one agency name: 工业和信息化部, 住房和城乡建设部, 文化和旅游厅
        if s > start and e < b:
            out.append((start, s))
            start = e
    out.append((start, b))
    return out


def _quote_inner(text: str, s: int, e: int) -> tuple[int, int]:
    """Span of a quoted item: “…” loses its quotes, 《…》 keeps its title marks."""
    if text[s] == "《":
        return s, e
    return s + 1, e - 1


def _valid_item(item: str) -> bool:
    if len(item) < 2 or len(item) > 40:
        return False
    if item in _GENERIC_ITEMS or re.match(
        r"[\d零一二两三四五六七八九十百千几数多]+[多余]?[个家项所座条批类种名位]", item
    ):
        return False
    if not re.search(rf"[{_HAN}A-Za-z]", item):
        return False
    return not any(ch in item for ch in "，,；;。：:")


def _mostly_actions(text: str, items: list[tuple[int, int]]) -> bool:
    """Whether most items start with a verb (or hold a count), i.e. the list is of actions, not names."""
    actions = 0
    for s, e in items:
        item = text[s:e]
        if item.startswith(("《", "“")) or text[s - 1 : s] in ("“", "《"):
            continue
        toks = _pos_tokens(item)
        if re.search(r"\d+(?:\.\d+)?[个家项条批类种名位%]", item) or len(toks) == 1 and toks[0][3] == "v":
            actions += 1
        elif (
            toks
            and len(toks) > 1
            and len(toks[0][2]) >= 2
            and (toks[0][3] in ("v", "vd") or toks[0][2] in _LEAD_STRONG | _LEAD_WEAK)
        ):
            actions += 1
    return actions * 2 > len(items)


def _enumerations(text: str) -> list[_Enum]:
    """Lists of names in a sentence: 'A、B、C等N家企业', 'A、B和C', '“A”“B”等模式', '包括A、B', 'A和B两个园区'."""
    mask, quotes = _protected(text)
    found: list[_Enum] = []
    for cs, ce in _clauses(text, mask):
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
                if not (has_sep or quoted_pair or any(c in before for c in _CONJ)):
                    continue
                if _category_of_phrase(text[k:ce]) is None:
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
            sub = _conj_split(text, ps, pe)
            for j, (s, e) in enumerate(sub):
                if first and j == 0:
                    s, verb = _trim_lead(text, s, e)
                    lead_hint = lead_hint or verb
                if last and j == len(sub) - 1 and not explicit:
                    end = _trim_trail(text, s, e)
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
                if _valid_item(item):
                    items.append((s, e))
            if rejected:
                break
        if rejected:
            continue
        if not items or (not explicit and len(items) < 2):
            continue
        if not explicit and any(
            e - s > 16 and text[s - 1 : s] not in _QUOTE_OPEN and text[s] not in _QUOTE_OPEN for s, e in items
        ):
            continue  # long unquoted pieces are clauses, not names
        if _mostly_actions(text, items):
            continue  # "出台1个核心文件、制定2个配套文件": a list of actions, not of names
        category = _category_of_phrase(head_phrase) if explicit else None
        if category is None and not explicit and head_phrase.startswith("的"):
            category = _category_of_phrase(head_phrase[1:])
        if category is None:
            category = _category_of_items([text[s:e] for s, e in items])
        span = (items[0][0], max(items[-1][1], region_end if explicit else items[-1][1]))
        if explicit:
            span = (span[0], ce)
        found.append(_Enum(items, category, span, explicit, lead_hint))
    return found


_NOUNISH = ("n", "nr", "ns", "nt", "nz", "nrt", "j", "eng", "ng", "nrfg")


def _name_pairs(text: str, taken: list[tuple[int, int]]) -> list[_Enum]:
    """Two names joined by 和/及/以及 where at least the second carries an organization suffix
    (中国华能和大唐集团, 中国工商银行和中国建设银行), outside any list already found."""
    mask, _ = _protected(text)
    out: list[_Enum] = []
    for cs, ce in _clauses(text, mask):
        tokens = {(cs + t[0]): t for t in _pos_tokens(text[cs:ce])}
        for m in re.finditer(r"以及|和|及", text[cs:ce]):
            k, k2 = cs + m.start(), cs + m.end()
            if mask[k] or any(a <= k < b for a, b in taken):
                continue
            aligned = k in tokens and tokens[k][2] == m.group()  # never split a word like 工业和信息化部
            if not aligned and not re.search(rf"(?:{_FIRM_SUFFIX}|{_ORG_SUFFIX}|[”》」』])$", text[cs:k]):
                continue
            right = None
            for rm in _NAME_SUFFIX_RE.finditer(text, k2, min(ce, k2 + 20)):
                if right is None or rm.start() == right:
                    right = rm.end()
                else:
                    break
            if right is None:
                continue
            rtext = text[k2:right]
            if (
                "的" in rtext
                or not _valid_item(rtext)
                or any(
                    t[3].startswith("v") and t[3] != "vn" and len(t[2]) >= 2 for t in _pos_tokens(rtext)[:-1]
                )
            ):
                continue
            ls, _ = _trim_lead(text, cs, k)
            ltext = text[ls:k]
            if not _valid_item(ltext) or "的" in ltext or len(ltext) > 20:
                continue
            ltoks = _pos_tokens(ltext)
            if not (_NAME_SUFFIX_RE.search(ltext) or (ltoks and ltoks[-1][3] in _NOUNISH)):
                continue
            items = [(ls, k), (k2, right)]
            if "、" in ltext or any(a < right and ls < b for a, b in taken):
                continue  # part of a list found already
            out.append(_Enum(items, _category_of_items([ltext, rtext]), (ls, right), False))
            taken = [*taken, (ls, right)]
    return out


def _named_entities(text: str, taken: list[tuple[int, int]]) -> list[_Enum]:
    """Single organization names (…有限公司, …集团, …银行, …大学) not already inside a list."""
    mask, _ = _protected(text)
    out = []
    for cs, ce in _clauses(text, mask):
        for m in _NAME_SUFFIX_RE.finditer(text, cs, ce):
            e = m.end()
            if mask[m.start()] or any(s <= m.start() < t for s, t in taken):
                continue  # inside quotes (“管委会+公司”模式) or already a list item
            if e < ce and (text[e] in "公司" or _NAME_SUFFIX_RE.match(text, e)):
                continue
            lo = cs
            for k in range(e - 1, cs - 1, -1):
                if text[k] in '“”‘’「」《》"()（）':
                    lo = k + 1
                    break
            s, _ = _trim_lead(text, lo, e)
            name = text[s:e]
            if len(name) < 4 or not _valid_item(name) or "的" in name:
                continue
            cat = "firm" if _FIRM_SUFFIX_RE.search(name) else "org"
            out.append(_Enum([(s, e)], cat, (s, e), False))
    return out


def _question_category(question: str) -> tuple[str | None, str]:
    """The category a list question asks for and the head noun naming it: the category word right after
    哪些/哪几家/什么 (科技城签约了哪些企业 -> firm, 企业), else the one nearest the question word;
    English: the first category noun."""
    q = prepare(question)
    if has_han(q):
        marker = re.search(
            r"哪些|哪[几两二三四五六七八九十]+[个家项类种所座位条部]?|哪一?[家个类种所座位项条部]|什么|甚么|列举|列出",
            q,
        )
        if marker:
            after = q[marker.end() :]
            after = re.sub(r"^(?:重点|主要|大型|新|头部|龙头|知名|重大|市级|省级|国家级)", "", after)
            for w in _CAT_WORDS:
                if after.startswith(w):
                    return _WORD_CAT[w], w
            words = _cut_exact(after)
            if words and has_han(words[0]) and words[0] not in _ZH_STOP:
                noun = words[0]
                if len(noun) == 1 and len(words) > 1 and has_han(words[1]):
                    noun += words[1]  # 功能+区 -> 功能区
                cat = next((_WORD_CAT[w] for w in _CAT_WORDS if len(w) > 1 and noun.endswith(w)), None)
                return cat, noun
        best = None
        for w in _CAT_WORDS:
            k = q.rfind(w)
            if k >= 0 and len(w) >= 2:
                dist = abs(k - marker.start()) if marker else -k
                if best is None or dist < best[0]:
                    best = (dist, _WORD_CAT[w], w)
        if best:
            return best[1], best[2]
        if re.search(r"哪家|几家", q):
            return "firm", ""
        return None, ""
    first = None
    for cat, pattern in _EN_CATEGORIES.items():
        m = re.search(pattern, q)
        if m and (first is None or m.start() < first[0]):
            first = (m.start(), cat)
    return (first[1], "") if first else (None, "")


def _compat(asked: str | None, got: str | None) -> float:
    if asked is None or got is None:
        return 0.3
    if asked == got:
        return 1.0
    return _COMPAT.get(frozenset({asked, got}), -1.0)


_COMMON_POS = frozenset({"n", "v", "vn", "a", "an", "ad", "d", "b", "l", "i"})
_VERBAL_POS = frozenset({"v", "vn", "a", "ad", "an", "d"})


def _common_words(text: str, items: list[tuple[int, int]]) -> bool:
    """Whether most items are everyday words (one dictionary word, or only verbs/adjectives) rather
    than names (proper nouns, unknown words, names with a suffix)."""
    common = 0
    for s, e in items:
        item = text[s:e]
        if _NAME_SUFFIX_RE.search(item) or text[s - 1 : s] in _QUOTE_OPEN or item[:1] in _QUOTE_OPEN:
            continue
        toks = _pos_tokens(item)
        if len(toks) == 1 and toks[0][3] in _COMMON_POS or toks and all(t[3] in _VERBAL_POS for t in toks):
            common += 1
    return common * 2 > len(items)


def _titles(text: str, taken: list[tuple[int, int]]) -> list[_Enum]:
    """Single document titles 《…》 not already inside a list."""
    _, quotes = _protected(text)
    return [
        _Enum([(s, e)], "document", (s, e), False)
        for s, e in quotes
        if text[s] == "《" and not any(a <= s < b for a, b in taken)
    ]


def _extract_list(question: str, sentences: list[Sentence], norm: list[float], max_items: int) -> list[Item]:
    asked, head_word = _question_category(question)
    exclude = set(_CATEGORIES.get(asked, ())) if asked else set()
    terms = _build_terms(question, exclude=exclude)
    scored: list[tuple[float, float, frozenset, int, _Enum]] = []
    any_term_found = False
    for si, sent in enumerate(sentences):
        text = sent.text
        enums = _enumerations(text)
        taken = [span for en in enums for span in en.items]
        if asked in ("firm", "org", None):
            enums += _name_pairs(text, taken)
            taken = [span for en in enums for span in en.items]
            enums += _named_entities(text, taken)
        if asked in ("document", None):
            enums += _titles(text, taken)
        occ = _occurrences(text, terms)
        any_term_found = any_term_found or bool(occ)
        for en in enums:
            compat = _compat(asked, en.category)
            if en.category is None and en.lead_hint and asked in ("firm", "project", "org"):
                compat = 0.7
            if compat < 0:
                continue
            near = _proximity(text, en.span[0], en.span[1], occ, en.items, len(en.items) > 1)
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
                and _common_words(text, en.items)
            ):
                continue  # 绿色、创新、协调发展: everyday words, not names
            if terms.chars and near.cover < 0.3 * terms.chars:
                continue  # too little of the question sits next to this list
            score = 3.0 * compat + near.score + 1.5 * norm[si] + (0.5 if en.explicit else 0.0)
            if head_word and (
                any(text[s:e].endswith(head_word) for s, e in en.items)
                or _QTY_PREFIX.sub("", text[en.items[-1][1] : en.span[1]].lstrip("等"), count=1).startswith(
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
        # through a glossary and pinyin, so there the category and the sentence scores decide)
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
            items.append(_item(sent, s, e))
            if len(items) >= max_items:
                return items
    return items


# =====================================================================================================
# Entry point
# =====================================================================================================
def extract_items(
    question: str, qtype: QuestionType, sentences: list[Sentence], max_items: int = 20
) -> list[Item]:
    """Answer items for a question from its ranked candidate sentences.

    LIST: the names the best-matching list(s) give; QUANTITY: the number+unit span(s) that fit the unit
    hints nearest the key terms; TIME: the date nearest the key terms; OTHER: ``[]`` (answer with sentences).
    Every item is an exact substring of its sentence, with document offsets.
    """
    if not sentences or qtype == QuestionType.OTHER or max_items <= 0:
        return []
    norm = _normalized_scores(sentences)
    if qtype == QuestionType.LIST:
        return _extract_list(question, sentences, norm, max_items)
    if qtype == QuestionType.QUANTITY:
        return _extract_quantity(question, sentences, norm)[:max_items]
    if qtype == QuestionType.TIME:
        return _extract_time(question, sentences, norm)[:max_items]
    return []

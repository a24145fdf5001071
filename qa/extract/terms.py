"""Key terms of a question: its content words, in order, without question words and stopwords. Chinese
questions are cut with jieba and the stray single characters jieba leaves of unknown names are glued back
(磨+憨 -> 磨憨, 科技+城 -> 科技城, 总+投资 -> 总投资); dates stay whole. The stopword lists and the content
runs between question words are shared with the term matcher and the list/quantity extractors.
"""

from __future__ import annotations

import re

from index.question_words import QUESTION_WORDS, ZH_QUESTION_RE
from qa.extract.dates import DATE_RE
from qa.extract.tokens import HAN, cut_known_words, is_han
from qa.question_type import has_han, prepare

ZH_STOP = frozenset(
    """
    哪些 哪几 哪几家 哪几个 哪家 哪个 哪一个 哪一家 哪一 哪 哪里 哪儿 哪位 哪类 哪种 哪年 哪一年 哪天
    何时 何年 何日 几时 什么 甚么 什么样 什么时候 什么时间 时候 多少 几 几个 几家 几项 多大 多高 多长
    多久 如何 怎样 怎么 怎么样 为什么 为何 是 的 了 在 有 和 与 及 以及 或 对 为 被 把 将 由 从 向 于 以
    吗 呢 呀 啊 吧 么 请问 请 列举 列出 罗列 一下 都 共 总共 一共 其中 以来 自 到 至 目前 截至 之 等 个
    家 项 又 还 也 就 并 该 此 这 那 这些 那些 其 各 每 一些 分别 具体 主要 哪些是 是否 能否 可以 可 会
    要 让 给 得 地 着 过 所 问 告诉 知道 介绍 说明 情况 方面 多少钱 目前为止 迄今 至今 已 已经
    """.split()
) | {w for w in QUESTION_WORDS if not w.isascii()}
EN_STOP = frozenset(
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
PREFIX_CHARS = set("总副新")


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
        if len(tok) == 1 and is_han(tok):
            if tok in _SUFFIX_CHARS and prev_multi and not run:
                out[-1] += tok
                prev_multi = False
            elif tok in PREFIX_CHARS and len(nxt) >= 2 and not run:
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


# The shared question phrases (index/question_words.py), plus a bare 几 and the imperatives of a list question.
_QUESTION_WORDS = re.compile(ZH_QUESTION_RE.pattern + "|几|列举|列出|罗列")


def content_runs(q: str) -> list[str]:
    """Stretches of a Chinese question between question words, stopwords and punctuation (jieba words
    joined back), e.g. 多少家企业到磨憨实地调研 -> 企业, 磨憨实, 调研. Dates are left out."""
    masked = _QUESTION_WORDS.sub("，", DATE_RE.sub("，", q))
    runs: list[str] = []
    cur = ""
    for tok in cut_known_words(masked):
        if tok.strip() == "" or tok in ZH_STOP or not re.search(rf"[{HAN}a-z0-9]", tok):
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
                w for w in re.findall(r"[a-z0-9][a-z0-9+\-]*", q) if w not in EN_STOP and len(w) > 1
            )
        )
    last = 0
    for m in [*DATE_RE.finditer(q), None]:
        piece = q[last : m.start()] if m else q[last:]
        tokens: list[str] = []
        for part in _QUESTION_WORDS.split(piece):
            for tok in cut_known_words(part):
                tok = tok.strip()
                if not tok or tok in ZH_STOP or not re.search(rf"[{HAN}a-z0-9]", tok):
                    tokens.append("")  # a boundary: nothing is glued across it
                    continue
                tokens.append(tok)
            tokens.append("")
        for tok in _merge_tokens(tokens):
            if tok not in ZH_STOP and not re.fullmatch(r"[\d.]+", tok) and len(tok) >= 2:
                terms.append(tok)
        if m:
            terms.append(m.group())
            last = m.end()
    return list(dict.fromkeys(terms))

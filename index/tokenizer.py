"""Lexical tokens for Chinese and mixed text: jieba words (search mode), lower-cased ASCII words."""

from __future__ import annotations

import re
from functools import lru_cache

_KEEP = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff]")
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]{2,}")
# Words that carry the question's form, not its topic; rare in news, so BM25 would overrate them.
QUESTION_WORDS = frozenset(
    "哪些 哪个 哪家 哪几家 哪几个 哪里 哪儿 哪 什么 多少 几 几个 几家 何时 何地 怎么 怎样 如何 为什么 为何 "
    "吗 呢 吧 啊 是 的 了 有 请问 是否 是不是 谁 which what when where who how why is are was were "
    "the a an of in on to for did do does many much".split()
)


@lru_cache(maxsize=1)
def _jieba():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def words(text: str) -> list[str]:
    """jieba search-mode words, lower-cased, punctuation and spaces dropped."""
    return [t for t in (w.strip().lower() for w in _jieba().cut_for_search(text)) if t and _KEEP.search(t)]


def bigrams(text: str) -> list[str]:
    """Overlapping character bigrams of every run of Han characters.

    They catch names the word segmenter cuts wrongly (磨憨 is read as 磨 + 憨实 in 磨憨实地调研).
    """
    out: list[str] = []
    for m in _HAN_RUN.finditer(text):
        run = m.group(0)
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


def tokenize(text: str) -> list[str]:
    """Index-side tokens: words plus Han bigrams not already present as words."""
    toks = words(text)
    seen = set(toks)
    return toks + [b for b in bigrams(text) if b not in seen]


_HAN_QUESTION = re.compile(
    "|".join(sorted((w for w in QUESTION_WORDS if not w.isascii() and len(w) > 1), key=len, reverse=True))
)


def tokenize_query(text: str) -> list[str]:
    """Query-side tokens: as :func:`tokenize`, without question words (nor bigrams across them)."""
    text = _HAN_QUESTION.sub(" ", text)
    return [t for t in tokenize(text) if t not in QUESTION_WORDS]

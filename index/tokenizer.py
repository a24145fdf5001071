"""Lexical tokens for Chinese and mixed text: jieba words (search mode), lower-cased ASCII words."""

from __future__ import annotations

import re
from functools import lru_cache

_KEEP = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff]")
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


def tokenize(text: str) -> list[str]:
    """Index-side tokens: jieba search-mode words, lower-cased, punctuation and spaces dropped."""
    return [t for t in (w.strip().lower() for w in _jieba().cut_for_search(text)) if t and _KEEP.search(t)]


def tokenize_query(text: str) -> list[str]:
    """Query-side tokens: as :func:`tokenize`, without question words."""
    return [t for t in tokenize(text) if t not in QUESTION_WORDS]

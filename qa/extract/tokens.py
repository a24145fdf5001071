"""Han characters and jieba tokenization, cached. jieba is imported on first use (it is slow to load);
the word cuts come with or without its guesses at unknown words, and with part-of-speech tags and
offsets, which is what name trimming and category detection read.
"""

from __future__ import annotations

import re
from functools import lru_cache

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HAN_RE = re.compile(f"[{HAN}]")


def is_han(ch: str) -> bool:
    """Whether ``ch`` starts with a Han character (False for "")."""
    return bool(ch) and HAN_RE.match(ch) is not None


def _jieba():
    """``(jieba, jieba.posseg)``, loaded once per process (dictionaries from a fast cache: qa.extract.jieba_dict)."""
    from qa.extract.jieba_dict import load_jieba

    return load_jieba()


def warm_up() -> None:
    """Load jieba's dictionaries now (a CLI ask starts this beside the model load)."""
    _jieba()


@lru_cache(maxsize=8192)
def pos_tokens(text: str) -> tuple[tuple[int, int, str, str], ...]:
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
def cut_words(text: str) -> tuple[str, ...]:
    """jieba words of ``text``, unknown words guessed."""
    jieba, _ = _jieba()
    return tuple(jieba.cut(text))


@lru_cache(maxsize=8192)
def cut_known_words(text: str) -> tuple[str, ...]:
    """jieba words without its guesses at unknown words (key terms glue those back)."""
    jieba, _ = _jieba()
    return tuple(jieba.cut(text, HMM=False))

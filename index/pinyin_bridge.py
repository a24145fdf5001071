"""A bridge from romanized names in English queries to the Chinese words of the corpus.

Built from the corpus' own vocabulary (no hand-written name tables): every Chinese token of two or
more characters is keyed by its toneless pinyin ("磨憨" -> "mohan"), so "Which firms landed in
Mohan?" can look up 磨憨 whatever names were ingested. A store romanizes each token once, when a
commit first brings it in, and keeps the keys with its term statistics; the bridge then looks keys up
on demand (``lookup``) instead of holding the whole vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache, lru_cache

_HAN_WORD = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]{2,6}$")
_ASCII_WORD = re.compile(r"[A-Za-z]+")
_MIN_KEY = 4  # shorter keys ("an", "li") collide with English words too often


def romanize(token: str) -> str | None:
    """Toneless pinyin of a 2-6 character Chinese word, or None for other tokens.

    A two-character word that pypinyin's phrase table does not hold is read character by character,
    exactly as pypinyin would read it, from a per-character cache (about 5x faster; most new tokens
    of a commit are such bigrams); everything else goes through pypinyin itself.
    """
    if not _HAN_WORD.match(token):
        return None
    if len(token) == 2 and token not in _phrases():
        key = _char_key(token[0]) + _char_key(token[1])
    else:
        key = _pinyin(token)
    return key if len(key) >= _MIN_KEY and key.isascii() else None


def _pinyin(text: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(text, style=Style.NORMAL, errors="ignore")).replace("ü", "v")


@cache
def _char_key(char: str) -> str:
    return _pinyin(char)


@lru_cache(maxsize=1)
def _phrases() -> dict:
    from pypinyin.phrases_dict import phrases_dict

    return phrases_dict


class PinyinBridge:
    """Maps romanized words to corpus tokens, most frequent first."""

    def __init__(
        self, pairs: list[tuple[str, str, int]] = (), lookup: Callable[[str], list[str]] | None = None
    ) -> None:
        """``pairs``: (romanized key, Chinese token, document frequency), held in memory; or ``lookup``:
        a function from a key to its tokens, most frequent first (a store's term table)."""
        table: dict[str, list[tuple[int, str]]] = {}
        for key, token, df in pairs:
            table.setdefault(key, []).append((df, token))
        self._table = {k: [t for _df, t in sorted(v, reverse=True)] for k, v in table.items()}
        self._lookup = lookup

    def lookup(self, key: str) -> list[str]:
        """Corpus tokens whose pinyin is ``key`` (lower-case, no spaces)."""
        key = key.lower()
        if len(key) < _MIN_KEY:
            return []
        if self._lookup is not None:
            return self._lookup(key)
        return self._table.get(key, [])

    def expand(self, query: str, max_words: int = 3) -> dict[str, list[str]]:
        """Romanized words (or runs of up to ``max_words`` words) of the query with their Chinese matches.

        Longer runs win: "Kun Ming" is read as "kunming" before "kun" and "ming".
        """
        words = [(m.group(0), m.start(), m.end()) for m in _ASCII_WORD.finditer(query)]
        found: dict[str, list[str]] = {}
        i = 0
        while i < len(words):
            for n in range(min(max_words, len(words) - i), 0, -1):
                run = words[i : i + n]
                if n > 1 and any(query[a[2] : b[1]].strip() for a, b in zip(run, run[1:], strict=False)):
                    continue  # only words separated by spaces form a run
                key = "".join(w[0] for w in run).lower()
                tokens = self.lookup(key)
                if tokens:
                    found[query[run[0][1] : run[-1][2]]] = tokens
                    i += n
                    break
            else:
                i += 1
        return found


def romanize_vocabulary(vocab: dict[str, int], known: dict[str, str]) -> dict[str, str]:
    """Toneless pinyin of every vocabulary token that has one, reusing ``known`` results."""
    out: dict[str, str] = {}
    for token in vocab:
        key = known.get(token) if token in known else romanize(token)
        if key:
            out[token] = key
    return out

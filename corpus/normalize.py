"""Text normalization for scraped Chinese news, with an exact offset map back to the original.

Steps, in order: drop inline pinyin annotations (``機(jī)遇`` -> ``機遇``, also the broken ones left
next to mojibake such as ``?shū)``), drop zero-width and control characters, fold full-width ASCII
letters and digits (``Ａ１`` -> ``A1``; Chinese punctuation is kept), tidy whitespace, convert
Traditional to Simplified (OpenCC ``t2s``). Unrecoverable fragments stay in place.

Every character of the normalized text remembers the index of the original character it came from,
so any normalized span maps back to the exact original span (Python string indices, code points).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_PINYIN_LETTERS = f"a-zü{_TONED}"
# A parenthesised pinyin syllable, ASCII or full-width parentheses (kept unless it is one, below).
_ANNOTATION = re.compile(rf"[(（]([{_PINYIN_LETTERS}]{{1,7}})[)）]")
# Broken annotation after mojibake: "?shū)" or "?xùn)" -- the "(" was eaten by the bad decoding.
_BROKEN_ANNOTATION = re.compile(rf"(?<=[?？\ufffd])([{_PINYIN_LETTERS}]{{1,7}})[)）]")
_TONE_MARK = re.compile(f"[{_TONED}]")
_DROP = re.compile("[\u200b-\u200f\u2060\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_HSPACE = re.compile(r"[ \t\u3000\u00a0]+")


@dataclass(frozen=True)
class Normalized:
    """Normalized text plus, for each of its characters, the index of its source character."""

    text: str
    source: np.ndarray  # int64, len(text); source[i] = index into the original of text[i]
    original_length: int

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map the normalized span [start, end) to the original span that produced it."""
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"span [{start}, {end}) outside normalized text of length {len(self.text)}")
        if start == end:
            at = int(self.source[start]) if start < len(self.text) else self.original_length
            return at, at
        return int(self.source[start]), int(self.source[end - 1]) + 1


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=4096)
def _readings(char: str) -> frozenset[str]:
    from pypinyin import Style, pinyin

    plain = pinyin(char, style=Style.NORMAL, heteronym=True)[0]
    return frozenset(p.replace("v", "ü") for p in plain)


def _is_annotation(char_before: str, syllable: str) -> bool:
    """A toned syllable is an annotation; a toneless one only if it is a reading of the Han char before it."""
    if _TONE_MARK.search(syllable):
        return True
    return bool(re.match(f"[{_HAN}]", char_before)) and syllable in _readings(char_before)


def _deletions(text: str) -> np.ndarray:
    """Boolean mask of original characters to drop."""
    drop = np.zeros(len(text), dtype=bool)
    for m in _ANNOTATION.finditer(text):
        if _is_annotation(text[m.start() - 1] if m.start() else "", m.group(1)):
            drop[m.start() : m.end()] = True
    for m in _BROKEN_ANNOTATION.finditer(text):
        if _TONE_MARK.search(m.group(1)):
            drop[m.start() : m.end()] = True
    for m in _DROP.finditer(text):
        drop[m.start()] = True
    return drop


def _fold(ch: str) -> str:
    code = ord(ch)
    if 0xFF10 <= code <= 0xFF19 or 0xFF21 <= code <= 0xFF3A or 0xFF41 <= code <= 0xFF5A:
        return chr(code - 0xFEE0)
    return ch


def _tidy_whitespace(chars: list[str], src: list[int]) -> tuple[list[str], list[int]]:
    """Collapse horizontal whitespace runs, trim lines, turn \\r\\n and \\r into \\n, cap blank lines."""
    text = "".join(chars)
    out_c: list[str] = []
    out_s: list[int] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\r":
            if i + 1 < n and text[i + 1] == "\n":
                i += 1
                continue
            ch = "\n"
        if ch == "\n":
            while out_c and out_c[-1] == " ":
                out_c.pop()
                out_s.pop()
            if len(out_c) >= 2 and out_c[-1] == "\n" and out_c[-2] == "\n":
                i += 1
                continue
            out_c.append("\n")
            out_s.append(src[i])
            i += 1
            continue
        m = _HSPACE.match(text, i)
        if m:
            if out_c and out_c[-1] != "\n":
                out_c.append(" ")
                out_s.append(src[i])
            i = m.end()
            continue
        out_c.append(ch)
        out_s.append(src[i])
        i += 1
    while out_c and out_c[-1] in " \n":
        out_c.pop()
        out_s.pop()
    while out_c and out_c[0] in " \n":
        out_c.pop(0)
        out_s.pop(0)
    return out_c, out_s


def to_simplified(text: str) -> str:
    """Traditional to Simplified with OpenCC, length-preserving (per-character fallback where not)."""
    converted = _t2s().convert(text)
    if len(converted) == len(text):
        return converted
    pieces = []
    for line in text.split("\n"):
        conv = _t2s().convert(line)
        if len(conv) != len(line):
            conv = "".join(c if len(c := _t2s().convert(ch)) == 1 else ch for ch in line)
        pieces.append(conv)
    return "\n".join(pieces)


def normalize(text: str) -> Normalized:
    """Normalize scraped text; see the module docstring for the steps."""
    drop = _deletions(text)
    keep = np.flatnonzero(~drop)
    chars = [_fold(text[i]) for i in keep]
    chars, src = _tidy_whitespace(chars, keep.tolist())
    simplified = to_simplified("".join(chars))
    return Normalized(simplified, np.asarray(src, dtype=np.int64), len(text))


def normalize_query(text: str) -> str:
    """Normalize a user's query the same way documents are normalized."""
    return normalize(text).text

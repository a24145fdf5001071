"""Dates in Chinese text: 2024年5月, 2023年6月30日, 2025-03-01, 2021—2025年, 今年3月, and parts of a named
year (2024年一季度, 2023年底). One pattern serves the key terms (dates stay whole), the quantity finder
(dates are no quantities) and the time extractor (dates are its answers).
"""

from __future__ import annotations

import re

DATE_RE = re.compile(
    r"(?P<ymd>(?:19|20)\d{2}\s*[-/.]\s*(?:0?[1-9]|1[0-2])\s*[-/.]\s*(?:0?[1-9]|[12]\d|3[01]))(?!\d)"
    r"|(?P<range>(?:19|20)\d{2}\s*(?:年\s*)?[-—–~～至到]\s*(?:19|20)\d{2}\s*年)"
    r"|(?P<cn>(?:(?:19|20)\d{2}|[〇零一二][〇零一二三四五六七八九]{3})年"
    r"(?:(?:\d{1,2}|[一二三四五六七八九十]{1,3})月(?:(?:\d{1,2}|[一二三四五六七八九十]{1,3})[日号])?"
    r"(?:上旬|中旬|下旬|底|初|末|中)?"
    r"|(?:上半年|下半年|年底|年初|年末|年中|底|初|末|前三季度|(?:第?[一二三四1-4])季度))?)"
    r"|(?P<md>(?:今年|去年|明年|前年|同年|当年)?(?<!\d)(?:1[0-2]|0?[1-9])月(?:(?:[12]\d|3[01]|0?[1-9])[日号])?(?:上旬|中旬|下旬|底|初|份)?)"
)


def date_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) spans of the dates in ``text``."""
    return [(m.start(), m.end()) for m in DATE_RE.finditer(text)]

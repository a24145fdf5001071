"""Title and metadata lines at the top of a scraped .txt/.md article.

The expected shape is a title line, then lines such as ``- 时间:2025-03-24`` / ``来源：昆明信息港`` /
``发布时间：2025年3月24日 10:30  来源：新华社``, then the body. Labels are matched on the normalized
text (Simplified, pinyin annotations removed), so ``- 時(shí)間:`` and ``來源`` work too; offsets are
mapped back so that ``body_start`` indexes the original text. Markdown ``# `` headings and a YAML-style
front matter block (``---`` ... ``---``) are understood as well.

Rules for files that do not have that shape:
- the first non-empty line is the title unless it is a metadata line, longer than ``MAX_TITLE_CHARS``,
  or the only non-empty line; in those cases the title is ``""`` and the body starts at that line;
- a file with a title but no metadata lines has its body start at the second non-empty line.
Only the first ``MAX_HEADER_LINES`` lines (at most ``MAX_HEADER_CHARS``) are looked at, so a huge file
is not normalized whole just to find its header.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from corpus.normalize import Normalized, normalize

MAX_TITLE_CHARS = 200
MAX_META_LINE_CHARS = 300  # longer lines are body text even when they start with a label
MAX_FRONT_MATTER_LINES = 50
MAX_HEADER_LINES = 80
MAX_HEADER_CHARS = 20_000

# Normalized (Simplified) labels -> field. English ones are matched case-insensitively.
_LABEL_GROUPS = {
    "title": "标题 title",
    "date": "时间 发布时间 发表时间 发布日期 发表日期 日期 发文日期 成文日期 更新时间 date published",
    "source": "来源 信息来源 文章来源 稿件来源 出处 source",
    "author": "作者 记者 撰稿 编辑 责任编辑 供稿 author",
    "views": "浏览 浏览量 浏览次数 阅读 阅读量 阅读数 点击 点击数 点击量 访问量 views",
    "url": "链接 原文链接 原文地址 文章链接 来源链接 连结 网址 url link",
}
_LABELS = {label: name for name, labels in _LABEL_GROUPS.items() for label in labels.split()}
_ALTERNATION = "|".join(re.escape(label) for label in sorted(_LABELS, key=len, reverse=True))
_LABEL = rf"[*【\[]*(?P<label>{_ALTERNATION})[*】\]]*[ \t]*[:：][ \t]*\**[ \t]*"
_BULLET = r"^[ \t]*(?:[-*+•·>][ \t]+|[-•·][ \t]*)?"
_LABEL_LINE = re.compile(_BULLET + _LABEL, re.IGNORECASE)
_NEXT_LABEL = re.compile(r"(?:(?<=[ \t])|(?<=[|｜丨]))" + _LABEL, re.IGNORECASE)
_SEPARATORS = " \t|｜丨"

_DATE = (
    r"(?<!\d)(?P<y>\d{4})[ \t]*[-/.年][ \t]*(?P<m>\d{1,2})[ \t]*[-/.月][ \t]*(?P<d>\d{1,2})(?!\d)[ \t]*日?"
)
_DATE_RE = re.compile(_DATE)
_COMPACT_DATE_RE = re.compile(r"^\s*(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?!\d)")
_TIME = r"(?:[ \tT]*\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?"
_DATE_LINE = re.compile(rf"{_BULLET}{_DATE}{_TIME}(?=[ \t]|$)")
_HEADING = re.compile(r"^#{1,6}[ \t]+")
_CLOSING_HASHES = re.compile(r"[ \t]+#+[ \t]*$")
_UNDERLINE = re.compile(r"=+|-{3,}")
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


@dataclass
class Header:
    """What the top of an article says about it. Values are normalized (Simplified), except ``url``,
    which is taken verbatim from the original text. ``body_start`` indexes the ORIGINAL text."""

    title: str = ""
    date: str | None = None
    source: str | None = None
    url: str | None = None
    body_start: int = 0
    author: str | None = None
    warnings: list[str] = field(default_factory=list)


def parse_date(value: str) -> str | None:
    """ISO ``YYYY-MM-DD`` from 2025-03-24, 2025/3/24, 2025.03.24, 2025年3月24日 or 20250324, with an
    optional time after it; None when there is no valid date in ``value``."""
    value = value.translate(_FULLWIDTH_DIGITS)
    match = _DATE_RE.search(value) or _COMPACT_DATE_RE.match(value)
    if not match:
        return None
    try:
        return dt.date(int(match["y"]), int(match["m"]), int(match["d"])).isoformat()
    except ValueError:
        return None


def _fields(line: str) -> list[tuple[str, int, int]] | None:
    """(field, value start, value end) for each labelled value on a metadata line, None for other lines."""
    if len(line) > MAX_META_LINE_CHARS:
        return None
    found: list[tuple[str, int, int]] = []
    first = _LABEL_LINE.match(line)
    if first:
        starts = [(first["label"], first.end(), first.start())]
        pos = first.end()
    else:
        dated = _DATE_LINE.match(line)
        if not dated:
            return None
        found.append(("date", dated.start("y"), dated.end()))
        starts = []
        pos = dated.end()
        rest = line[pos:].strip(_SEPARATORS)
        if rest and not _NEXT_LABEL.match(line, len(line) - len(line[pos:].lstrip(_SEPARATORS))):
            return None
    for match in _NEXT_LABEL.finditer(line, pos):
        starts.append((match["label"], match.end(), match.start()))
    for k, (label, value_start, _) in enumerate(starts):
        value_end = starts[k + 1][2] if k + 1 < len(starts) else len(line)
        while value_end > value_start and line[value_end - 1] in _SEPARATORS:
            value_end -= 1
        found.append((_LABELS[label.lower()], value_start, value_end))
    return found


def _line_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for piece in text.split("\n"):
        spans.append((start, start + len(piece)))
        start += len(piece) + 1
    return spans


class _Builder:
    """Fills a Header from the lines of one normalized text."""

    def __init__(self, original: str, norm: Normalized) -> None:
        self.original = original
        self.norm = norm
        self.header = Header()

    def apply(self, line_start: int, fields: list[tuple[str, int, int]], *, unquote: bool = False) -> None:
        header = self.header
        for name, start, end in fields:
            value = self.norm.text[line_start + start : line_start + end].strip()
            if unquote and len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1].strip()
            if not value:
                continue
            if name == "title" and not header.title:
                header.title = value
            elif name == "date" and header.date is None:
                header.date = parse_date(value)
                if header.date is None:
                    header.warnings.append(f"unparseable date {value!r}")
            elif name == "source" and header.source is None:
                header.source = value
            elif name == "author" and header.author is None:
                header.author = value
            elif name == "url" and header.url is None:
                orig_start, orig_end = self.norm.to_original(line_start + start, line_start + end)
                header.url = self.original[orig_start:orig_end].strip().strip("<>\"'") or None

    def body_start(self, norm_index: int) -> int:
        if norm_index >= len(self.norm.text):
            return len(self.original)
        return self.norm.to_original(norm_index, norm_index + 1)[0]


def parse_header(text: str) -> Header:
    """Title, date, source, url (and author) from the top of ``text``; see the module docstring."""
    head = _head(text)
    norm = normalize(head)
    build = _Builder(head, norm)
    spans = _line_spans(norm.text)
    lines = [norm.text[s:e] for s, e in spans]
    i = _front_matter(lines, spans, build)
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i < len(lines) and _fields(lines[i]) is None:
        first = lines[i]
        heading = _HEADING.match(first)
        has_more = any(line.strip() for line in lines[i + 1 :]) or bool(text[len(head) :].strip())
        if has_more and len(first) <= MAX_TITLE_CHARS and (heading or not build.header.title):
            if not build.header.title:  # a title from front matter wins over a "# " heading
                title = first[heading.end() :] if heading else first
                build.header.title = _CLOSING_HASHES.sub("", title).strip() if heading else title.strip()
            i += 1
            if i < len(lines) and _UNDERLINE.fullmatch(lines[i].strip()):  # Markdown "Title\n====="
                i += 1
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        fields = _fields(lines[i])
        if fields is None:
            break
        build.apply(spans[i][0], fields)
        i += 1
    build.header.body_start = build.body_start(spans[i][0] if i < len(lines) else len(norm.text))
    return build.header


def _head(text: str) -> str:
    """The first MAX_HEADER_LINES lines of ``text``, cut at MAX_HEADER_CHARS."""
    end = -1
    for _ in range(MAX_HEADER_LINES):
        end = text.find("\n", end + 1, MAX_HEADER_CHARS)
        if end < 0:
            return text[:MAX_HEADER_CHARS]
    return text[: end + 1]


def _front_matter(lines: list[str], spans: list[tuple[int, int]], build: _Builder) -> int:
    """Parse a ``---`` ... ``---`` block at the top; returns the index of the line after it (or 0)."""
    if not lines or lines[0].strip() != "---":
        return 0
    for j in range(1, min(len(lines), MAX_FRONT_MATTER_LINES + 1)):
        if lines[j].strip() == "---":
            for k in range(1, j):
                fields = _fields(lines[k])
                if fields:
                    build.apply(spans[k][0], fields, unquote=True)
            return j + 1
    return 0


def normalize_value(value: str) -> str:
    """A short metadata value (title, source) normalized like header values: Simplified, one line."""
    return " ".join(normalize(value).text.split())

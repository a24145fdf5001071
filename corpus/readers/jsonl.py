"""JSON Lines: one article per line, read line by line with a bounded line length."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from corpus import encoding
from corpus.metadata import normalize_value, parse_date
from corpus.models import Article, Rejection

_STRING_FIELDS = ("title", "date", "source", "url")
_SKIP_CHUNK = 1 << 20


class _BadRecord(Exception):
    """A line that cannot become an article; the message is the Rejection reason."""


def read_jsonl(path: Path, rel: str) -> Iterator[Article | Rejection]:
    """One Article per record; a bad line gives a Rejection with its 1-based line number and the rest
    of the file is still read. Blank lines are skipped. A record's id is its ``id``/``_id`` (an explicit
    id: it upserts), else its ``url``, else ``<rel>#<line>``."""
    shown = str(path)
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        yield Rejection(shown, f"cannot read file: {exc.strerror or exc}")
        return
    with handle:
        try:
            file_encoding = encoding.detect_encoding(handle.read(encoding.SNIFF_BYTES))
        except encoding.DecodeError as exc:
            if exc.binary:
                yield Rejection(shown, exc.reason)
                return
            file_encoding = "unknown"  # every line is then decoded (or rejected) on its own
        if file_encoding.startswith(("utf-16", "utf-32")):
            yield Rejection(shown, f"JSONL in {file_encoding} is not supported; save it as UTF-8")
            return
        handle.seek(0)
        records = 0
        for number, raw in _lines(handle):
            if raw is None:
                reason = f"line longer than MAX_LINE_BYTES ({encoding.MAX_LINE_BYTES:,} bytes)"
                yield Rejection(shown, reason, number)
                records += 1
                continue
            try:
                article = _record(raw, file_encoding, shown, rel, number)
            except _BadRecord as exc:
                yield Rejection(shown, str(exc), number)
                records += 1
                continue
            if article is not None:
                records += 1
                yield article
        if not records:
            yield Rejection(shown, "empty file (no JSON records)")


def _lines(handle: BinaryIO) -> Iterator[tuple[int, bytes | None]]:
    """(1-based line number, line bytes); None for a line over MAX_LINE_BYTES, which is skipped in
    chunks so that it is never held in memory whole."""
    limit = encoding.MAX_LINE_BYTES
    number = 0
    while raw := handle.readline(limit + 1):
        number += 1
        if len(raw) > limit and not raw.endswith(b"\n"):
            del raw
            while (chunk := handle.readline(_SKIP_CHUNK)) and not chunk.endswith(b"\n"):
                pass
            yield number, None
        else:
            yield number, raw


def _decode(raw: bytes, file_encoding: str, shown: str, number: int) -> tuple[str, list[str]]:
    """Decode one line: strictly as UTF-8 in a UTF-8 file, else by detecting its own encoding (GB18030
    "decodes" nearly any bytes, so a GBK file's lines are not simply decoded as GB18030)."""
    if file_encoding in ("utf-8", "utf-8-sig"):
        try:
            return raw.decode(file_encoding), []
        except UnicodeDecodeError:
            pass
    try:
        text, warnings = encoding.decode_bytes(raw, shown)
    except encoding.DecodeError as exc:
        raise _BadRecord(exc.reason) from None
    return text, [f"line {number}: {w}" for w in warnings]


def _record(raw: bytes, file_encoding: str, shown: str, rel: str, number: int) -> Article | None:
    """The Article on one line, None for a blank line; raises _BadRecord with the reason."""
    text, warnings = _decode(raw, file_encoding, shown, number)
    if not text.strip():
        return None
    if len(text) > encoding.MAX_LINE_CHARS:
        raise _BadRecord(f"line longer than MAX_LINE_CHARS ({encoding.MAX_LINE_CHARS:,} characters)")
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _BadRecord(f"invalid JSON: {exc.msg.removesuffix(' at')} at column {exc.colno}") from None
    except RecursionError:
        raise _BadRecord("invalid JSON: nested too deeply") from None
    if not isinstance(record, dict):
        raise _BadRecord(f"line is a JSON {_kind(record)}, not an object")

    doc_id = _id(record)
    fields = {name: _string(record, name) for name in _STRING_FIELDS}
    content_field = "content" if record.get("content") is not None else "text"
    content = _string(record, content_field)
    if content is None:
        raise _BadRecord("missing field 'content' (or 'text')")
    if not content.strip():
        raise _BadRecord(f"field {content_field!r} is empty")

    date = None
    if fields["date"] and fields["date"].strip():
        date = parse_date(fields["date"])
        if date is None:
            warnings.append(f"line {number}: unparseable date {fields['date']!r}")
    url = (fields["url"] or "").strip() or None
    source = normalize_value(fields["source"]) if fields["source"] else None
    return Article(
        doc_id=doc_id or url or f"{rel}#{number}",
        text=content,
        title=normalize_value(fields["title"] or ""),
        date=date,
        source=source or None,
        url=url,
        body_start=0,
        path=shown,
        line=number,
        warnings=warnings,
        id_explicit=doc_id is not None,
    )


def _id(record: dict[str, Any]) -> str | None:
    name = "id" if record.get("id") is not None else "_id"
    value = record.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _BadRecord(f"field {name!r} must be a string or an integer, got {_kind(value)}")
    value = str(value).strip()
    if not value:
        raise _BadRecord(f"field {name!r} is empty")
    return value


def _string(record: dict[str, Any], name: str) -> str | None:
    value = record.get(name)
    if value is not None and not isinstance(value, str):
        raise _BadRecord(f"field {name!r} must be a string, got {_kind(value)}")
    return value


def _kind(value: object) -> str:
    """JSON name of a value's type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), type(value).__name__)

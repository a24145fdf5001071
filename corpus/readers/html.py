"""HTML pages: main text, title, date and url extracted with trafilatura (no fetching)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from corpus import encoding
from corpus.metadata import normalize_value, parse_date
from corpus.models import Article, Rejection


def read_html(path: Path, rel: str) -> Iterator[Article | Rejection]:
    """One Article for an .html/.htm page (``text`` = extracted main text, ``raw`` = the page), or one
    Rejection when the page has no main text or the extractor fails. The id is the page's canonical
    url when it declares one, else ``rel``."""
    shown = str(path)
    try:
        raw, warnings = encoding.read_text_file(path)
    except encoding.DecodeError as exc:
        yield Rejection(shown, exc.reason)
        return
    try:
        import trafilatura

        doc = trafilatura.bare_extraction(raw, with_metadata=True, include_comments=False)
    except RecursionError:
        yield Rejection(shown, "HTML nested too deeply for the extractor")
        return
    except ImportError as exc:  # an install problem, not a property of this page: say so
        detail = " ".join(str(exc).split())
        yield Rejection(shown, f"HTML support is not installed ({detail}); reinstall policyqa, which declares "
                        "lxml_html_clean")
        return
    except Exception as exc:  # noqa: BLE001 - any extractor failure is a property of this input
        yield Rejection(shown, f"HTML extraction failed: {type(exc).__name__}: {exc}")
        return
    text = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    if not text:
        yield Rejection(shown, "no main text found in the HTML (empty, script-only or boilerplate-only page)")
        return
    url = (doc.url or "").strip() or None
    date = parse_date(doc.date) if doc.date else None
    if doc.date and date is None:
        warnings.append(f"unparseable date {doc.date!r}")
    yield Article(
        doc_id=url or rel,
        text=text,
        title=normalize_value(doc.title or ""),
        date=date,
        source=normalize_value(doc.sitename) if doc.sitename else None,
        url=url,
        body_start=0,
        raw=raw,
        path=shown,
        warnings=warnings,
    )

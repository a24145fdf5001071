"""Human-readable terminal output for the CLI (JSON output needs no help).

Text from the corpus (passages, quotes) is never wrapped here: a line the terminal folds can still be copied
whole, and matches the source.
"""

from __future__ import annotations

from api.citation_text import sources_text


def _meta(d: dict) -> str:
    return " · ".join(x for x in (d.get("date"), d.get("source"), d.get("doc_id")) if x)


def render_hits(result: dict) -> str:
    """Search results: rank, title, date/source/id, then the passage."""
    lines = [f"Query: {result['query']}", ""]
    for i, h in enumerate(result["hits"], 1):
        lines.append(f"{i}. {h['title'] or '(untitled)'}  [{h['score']:.3f}]")
        lines.append(f"   {_meta(h)}  chars {h['start']}-{h['end']}")
        lines.append("   " + h["text"].replace("\n", " "))
        lines.append("")
    if not result["hits"]:
        lines.append("No matching passages.")
    return "\n".join(lines).rstrip()


def render_answer(result: dict) -> str:
    """Answer first, then items, then the citations (api.citation_text: spans and whole quotes)."""
    lines = [result["answer"], ""]
    if result.get("items"):
        lines.append("Items: " + "; ".join(f"{it['text']} [{it['citation']}]" for it in result["items"]))
        lines.append("")
    sources = sources_text(result["answer"], result.get("citations") or [], result.get("found", True))
    if sources:
        lines.append(sources)
    return "\n".join(lines).rstrip()


def render_document(doc: dict) -> str:
    """One document: metadata, then its normalized text."""
    head = [f"{doc['title'] or '(untitled)'}", f"id: {doc['doc_id']}"]
    head += [f"{k}: {doc[k]}" for k in ("date", "source", "url") if doc.get(k)]
    if doc.get("source_path") or doc.get("path"):
        head.append(f"file: {doc.get('source_path') or doc['path']}")
    return "\n".join(head) + "\n\n" + doc["normalized"]


def render_docs(docs: list[dict]) -> str:
    """A table of documents."""
    if not docs:
        return "No documents."
    return "\n".join(
        f"{d['doc_id']}\t{d.get('date') or '-'}\t{d.get('chunks', 0)} chunks\t{d['title']}" for d in docs
    )


def describe_embedder(spec: dict | None) -> str:
    """One readable line for an embedder spec ({"backend", "model"})."""
    if not spec:
        return "none yet (chosen when the data directory is created)"
    backend, model = spec.get("backend"), spec.get("model")
    if backend == "hash":
        return f"hash, {model} dimensions (model-free: for tests, not for real search)"
    return f"{model} ({backend})"


def _value(v) -> str:
    if isinstance(v, dict):
        return ", ".join(f"{k} {x}" for k, x in v.items())
    return str(v)


def render_stats(stats: dict) -> str:
    """Readable lines: the absolute data directory and where it was chosen, counts, the embedder."""
    where = stats["data_dir"]
    notes = [f"from {stats['data_dir_from']}"] if stats.get("data_dir_from") else []
    if stats.get("exists") is False:
        notes.append("does not exist yet; nothing was created")
    lines = [f"data directory: {where}" + (f" ({'; '.join(notes)})" if notes else "")]
    shown = {"data_dir", "data_dir_from", "exists", "embedder"}
    for key in ("documents", "chunks", "generation"):
        if key in stats:
            lines.append(f"{key}: {stats[key]}")
            shown.add(key)
    lines.append(f"embedder: {describe_embedder(stats.get('embedder'))}")
    lines += [f"{k.replace('_', ' ')}: {_value(v)}" for k, v in stats.items() if k not in shown]
    return "\n".join(lines)


ITEM_COLUMNS = ("item", "status", "first_date", "last_date", "articles", "citations")


def item_rows(result: dict) -> list[tuple[str, str, str, str, str, str]]:
    """One row per corpus-wide item: name, status, first and last date, articles, citation numbers."""
    rows = []
    for it in result.get("items", []):
        marks = " ".join(f"[{n}]" for n in dict.fromkeys(m["citation"] for m in it.get("mentions", [])))
        rows.append((it.get("name") or it["text"], it.get("status") or "", it.get("first_date") or "",
                     it.get("last_date") or "", str(it.get("articles", "")), marks))
    return rows


def render_items_table(result: dict) -> str:
    """The corpus-wide items as an aligned table (CJK characters count two columns)."""
    from unicodedata import east_asian_width

    def width(s: str) -> int:
        return sum(2 if east_asian_width(ch) in "WF" else 1 for ch in s)

    rows = [ITEM_COLUMNS, *item_rows(result)]
    widths = [max(width(r[i]) for r in rows) for i in range(len(ITEM_COLUMNS))]
    return "\n".join(
        "  ".join(cell + " " * (w - width(cell)) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def render_corpus_wide(result: dict) -> str:
    """A corpus-wide answer: the answer, the items table, then the citations."""
    agg = result["aggregate"]
    head = [result["answer"], ""]
    if result.get("items"):
        head += [render_items_table(result), ""]
    scan = f"scanned {agg['scanned']} passages" + (" (budget reached: truncated)" if agg["truncated"] else "")
    head.append(scan)
    sources = sources_text(result["answer"], result.get("citations") or [], result.get("found", True))
    return "\n".join(head) + ("\n\n" + sources if sources else "")


def items_csv(result: dict) -> str:
    """The corpus-wide items as CSV, one row per mention (item, status, first date, articles, citation,
    doc_id, date, start, end), so a spreadsheet keeps every source."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["item", "status", "first_date", "last_date", "articles", "citation", "doc_id", "date", "start", "end",
                "mention"])
    for it in result.get("items", []):
        for m in it.get("mentions") or [{"citation": it["citation"], "doc_id": "", "date": "", "start": it["start"],
                                          "end": it["end"], "text": it["text"]}]:
            w.writerow([it.get("name") or it["text"], it.get("status", ""), it.get("first_date") or "",
                        it.get("last_date") or "", it.get("articles", ""), m["citation"], m["doc_id"], m["date"] or "",
                        m["start"], m["end"], m["text"]])
    return buf.getvalue()

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
    head += [f"{k}: {doc[k]}" for k in ("date", "source", "url", "path") if doc.get(k)]
    return "\n".join(head) + "\n\n" + doc["normalized"]


def render_docs(docs: list[dict]) -> str:
    """A table of documents."""
    if not docs:
        return "No documents."
    return "\n".join(
        f"{d['doc_id']}\t{d.get('date') or '-'}\t{d.get('chunks', 0)} chunks\t{d['title']}" for d in docs
    )


def render_stats(stats: dict) -> str:
    """Key: value lines."""
    return "\n".join(f"{k}: {v}" for k, v in stats.items())

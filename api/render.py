"""Human-readable terminal output for the CLI (JSON output needs no help)."""

from __future__ import annotations

import textwrap

WIDTH = 100


def _meta(d: dict) -> str:
    return " · ".join(x for x in (d.get("date"), d.get("source"), d.get("doc_id")) if x)


def render_hits(result: dict) -> str:
    """Search results: rank, title, date/source/id, then the passage."""
    lines = [f"Query: {result['query']}", ""]
    for i, h in enumerate(result["hits"], 1):
        lines.append(f"{i}. {h['title'] or '(untitled)'}  [{h['score']:.3f}]")
        lines.append(f"   {_meta(h)}  chars {h['start']}-{h['end']}")
        lines.extend(textwrap.wrap(h["text"].replace("\n", " "), WIDTH, initial_indent="   ", subsequent_indent="   "))
        lines.append("")
    if not result["hits"]:
        lines.append("No matching passages.")
    return "\n".join(lines).rstrip()


def render_answer(result: dict) -> str:
    """Answer first, then items, then numbered citations with their exact spans."""
    lines = [result["answer"], ""]
    if result.get("items"):
        lines.append("Items: " + "; ".join(f"{it['text']} [{it['citation']}]" for it in result["items"]))
        lines.append("")
    if result.get("citations"):
        lines.append("Citations:" if result.get("found", True) else "Nearest passages (not an answer):")
    for c in result.get("citations", []):
        lines.append(f"[{c['n']}] {c['title'] or '(untitled)'} — {_meta(c)}")
        lines.append(f"    chars {c['start']}-{c['end']} (original {c['orig_start']}-{c['orig_end']})")
        lines.extend(textwrap.wrap("“" + c["quote"].replace("\n", " ") + "”", WIDTH,
                                   initial_indent="    ", subsequent_indent="    "))
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

"""MCP tools over one Engine: ``search``, ``ask`` and ``get_document`` (stdio, or streamable HTTP under /mcp)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from api.citation_text import cited_answer_text
from qa.engine import Engine
from qa.errors import NoDocumentsError
from qa.search import MAX_K, Filters

MAX_QUERY_CHARS = 1000
NO_DOCUMENTS = "no documents are indexed yet; add some with `policyqa ingest PATH` (or POST /documents)"
INSTRUCTIONS = (
    "Search and cited answers over a collection of Chinese regional-policy news. Use `ask` for a question "
    "(the answer's [n] markers refer to citations[n-1]), `search` for ranked passages, and `get_document` "
    "to read a whole article by its doc_id. Dates are YYYY, YYYY-MM or YYYY-MM-DD; `source` matches a substring."
)

Query = Annotated[str, Field(min_length=1, max_length=MAX_QUERY_CHARS)]
Date = Annotated[str | None, Field(description="YYYY, YYYY-MM or YYYY-MM-DD (inclusive)")]
Source = Annotated[str | None, Field(description="only documents whose source contains this text")]


def _run(call):
    """Run an engine call, turning the caller's mistakes into tool errors the model can read."""
    try:
        return call()
    except NoDocumentsError:
        raise ToolError(NO_DOCUMENTS) from None
    except ValueError as e:
        raise ToolError(str(e)) from None


def build_server(engine: Engine) -> MCPServer:
    """An MCP server whose tools answer from ``engine``."""
    # log_level: the SDK configures the root logger with it; WARNING keeps routine request logs quiet.
    server = MCPServer("policyqa", instructions=INSTRUCTIONS, log_level="WARNING")

    @server.tool(title="Search passages")
    def search(
        query: Query,
        k: Annotated[int, Field(ge=1, le=MAX_K)] = 10,
        since: Date = None,
        until: Date = None,
        source: Source = None,
        mode: Literal["hybrid", "dense", "bm25"] = "hybrid",
    ) -> dict[str, Any]:
        """Top passages for a query, each with doc_id, title, date, source, url, text and its offsets."""
        filters = Filters(since or None, until or None, source or None)
        hits = _run(lambda: engine.search(query, k=k, filters=filters, mode=mode))
        return {"query": query, "hits": [h.as_dict() for h in hits]}

    @server.tool(title="Answer with citations")
    def ask(
        question: Query,
        k: Annotated[int, Field(ge=1, le=MAX_K)] = 5,
        since: Date = None,
        until: Date = None,
        source: Source = None,
    ) -> dict[str, Any]:
        """An extractive answer whose [n] markers cite the passages in `citations` (quote, doc_id, url, offsets);
        `text` is the answer with its sources (title, date, source, span, quote) as the CLI prints it.

        Corpus-wide questions (which firms/projects landed, signed, moved into a place) list every item in
        `items` with its status, first/last date and every mention (citation number, doc_id, date, offsets);
        `aggregate` says how many passages were read and whether the budget cut the reading short."""
        filters = Filters(since or None, until or None, source or None)
        # The MCP caller is a language model itself: hand it the extractive answer and the passages.
        answer = _run(lambda: engine.ask(question, k=k, filters=filters, generate=False)).as_dict()
        return {**answer, "text": cited_answer_text(answer)}

    @server.tool(title="Read a document")
    def get_document(
        doc_id: Annotated[str, Field(min_length=1, max_length=1000)],
        max_chars: Annotated[int, Field(ge=1, le=1_000_000)] = 20_000,
    ) -> dict[str, Any]:
        """One article's metadata and normalized text (citation start/end index this text), cut at max_chars."""
        doc = engine.store.get_document(doc_id)
        if doc is None:
            raise ToolError(f"no document {doc_id!r}")
        text = doc["normalized"]
        keep = ("doc_id", "title", "date", "source", "url", "added_at", "updated_at")
        return {**{key: doc.get(key) for key in keep}, "chars": len(text), "text": text[:max_chars],
                "truncated": len(text) > max_chars}

    return server


def run_stdio(engine: Engine) -> None:
    """Serve the tools over stdin/stdout until the client closes the pipe."""
    build_server(engine).run("stdio")

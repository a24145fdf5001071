"""GET and POST /search: the top passages for a query (the same hit objects as ``policyqa search --json``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from api.http.deps import (
    MAX_FILTER_CHARS,
    MAX_QUERY_CHARS,
    EngineDep,
    FilterFields,
    K,
    QueryText,
    highlight_terms,
    make_filters,
)
from qa.engine import Engine
from qa.search import MAX_K, Filters

router = APIRouter(tags=["search"])

Mode = Literal["hybrid", "dense", "bm25"]


class HitOut(BaseModel):
    """One passage; ``start``/``end`` index the document's normalized text (GET /documents/{id})."""

    model_config = ConfigDict(extra="allow")

    doc_id: str
    chunk_id: str
    score: float = Field(description=(
        "what the passage was ranked by, higher is better, comparable only within one query: hybrid, the "
        "dense z-score plus the weighted BM25 z-score over the query's candidates (unbounded, about -2 to 6); "
        "dense, the embeddings' cosine (-1 to 1); bm25, the BM25 score (0 and up)"))
    title: str
    date: str | None
    source: str | None
    url: str | None
    text: str
    start: int
    end: int


class SearchResponse(BaseModel):
    query: str
    hits: list[HitOut]
    terms: list[str] = Field(description="query words and bridged names, for highlighting passages")


class SearchRequest(FilterFields):
    query: QueryText
    k: K = 10
    mode: Mode = "hybrid"


def run_search(engine: Engine, query: str, k: int, filters: Filters, mode: str) -> dict:
    """The search response for one query."""
    hits = engine.search(query, k=k, filters=filters, mode=mode)
    return {"query": query, "hits": [h.as_dict() for h in hits], "terms": highlight_terms(engine, query)}


@router.get("/search", response_model=SearchResponse, summary="Search passages (query string)")
def search_get(
    engine: EngineDep,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS, description="the query")],
    k: Annotated[int, Query(ge=1, le=MAX_K)] = 10,
    since: Annotated[str | None, Query(max_length=MAX_FILTER_CHARS, description="YYYY[-MM[-DD]]")] = None,
    until: Annotated[str | None, Query(max_length=MAX_FILTER_CHARS, description="YYYY[-MM[-DD]]")] = None,
    source: Annotated[str | None, Query(max_length=MAX_FILTER_CHARS, description="source contains")] = None,
    mode: Mode = "hybrid",
) -> dict:
    """Top ``k`` passages; 409 while nothing is indexed."""
    return run_search(engine, q, k, make_filters(since, until, source), mode)


@router.post("/search", response_model=SearchResponse, summary="Search passages (JSON body)")
def search_post(engine: EngineDep, body: SearchRequest) -> dict:
    """Same as GET /search, with the fields in a JSON body (``query`` instead of ``q``)."""
    return run_search(engine, body.query, body.k, body.filters(), body.mode)

"""Documents: add or update (POST), list, show and delete. Writes need the bearer token when one is set.

POST /documents takes one object or a JSON list of objects with the fields of a JSONL line: ``id`` (or
``_id``; a string or an integer), ``title``, ``date``, ``source``, ``url``, and ``content`` (or ``text``).
The document id is ``id``/``_id``, else ``url``. A record that breaks these rules fails the whole request
with 422 naming each bad field; a record that is valid but cannot be indexed (no text after normalization,
an id repeated in the request) is reported per document with status ``rejected`` and the reason.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError, field_validator
from starlette.concurrency import run_in_threadpool

from api.http.deps import EngineDep, WriterDep
from corpus.models import Article
from qa.engine import Engine

router = APIRouter(tags=["documents"])

MAX_ID_CHARS = 1000
_DATE = re.compile(
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?\S*)?"
)


class ArticleIn(BaseModel):
    """One article, as on a line of a JSONL corpus file (unknown fields are ignored)."""

    model_config = ConfigDict(extra="ignore")

    id: StrictStr | StrictInt | None = Field(None, description="document id (else `_id`, else `url`)")
    alt_id: StrictStr | StrictInt | None = Field(None, alias="_id", description="alternative to `id`")
    title: StrictStr | None = None
    date: StrictStr | None = Field(None, description="YYYY-MM-DD (also 2025/3/24, 2025年3月24日, a time may follow)")
    source: StrictStr | None = None
    url: StrictStr | None = None
    content: StrictStr | None = Field(None, description="the article text (or use `text`)")
    text: StrictStr | None = None

    @field_validator("id", "alt_id", mode="before")
    @classmethod
    def _string_or_integer(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str | int) and not isinstance(value, bool)):
            return value
        raise ValueError(f"must be a string or an integer, got {_json_type(value)}")


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    return {int: "number", float: "number", str: "string", list: "array", dict: "object"}.get(type(value), "value")


class DocumentResult(BaseModel):
    doc_id: str
    status: str = Field(description="added, updated, unchanged, duplicate or rejected")
    reason: str | None = None
    duplicate_of: str | None = None


class IngestResponse(BaseModel):
    added: int
    updated: int
    unchanged: int
    duplicates: int
    rejected: int
    results: list[DocumentResult]


class DocumentList(BaseModel):
    total: int
    limit: int
    offset: int
    documents: list[dict]


class Deleted(BaseModel):
    doc_id: str
    deleted: bool


def _error(loc: tuple, msg: str, kind: str = "value_error") -> dict:
    return {"loc": loc, "msg": msg, "type": kind}


def parse_date(value: str) -> str | None:
    """ISO ``YYYY-MM-DD`` for the date forms news sites use; None when it is not a real date."""
    m = _DATE.fullmatch(value.strip())
    if not m:
        return None
    try:
        return dt.date(int(m["y"]), int(m["m"]), int(m["d"])).isoformat()
    except ValueError:
        return None


def _collapse(value: str | None) -> str | None:
    return " ".join(value.split()) if value and value.strip() else None


def to_article(record: Any, loc: tuple) -> tuple[Article | None, list[dict]]:
    """Validate one JSON record and build its Article; returns (article, errors)."""
    if not isinstance(record, dict):
        return None, [_error(loc, f"a document must be a JSON object, got {_json_type(record)}", "model_type")]
    try:
        rec = ArticleIn.model_validate(record)
    except ValidationError as e:
        return None, [{**err, "loc": loc + tuple(err["loc"])} for err in e.errors(include_url=False)]
    errors = []
    doc_id = None
    id_field = "id" if rec.id is not None else "_id"
    raw_id = rec.id if rec.id is not None else rec.alt_id
    if raw_id is not None:
        doc_id = str(raw_id).strip()
        if not doc_id:
            errors.append(_error(loc + (id_field,), "is empty"))
    url = (rec.url or "").strip() or None
    doc_id = doc_id or (url if raw_id is None else None)
    if raw_id is None and not url:
        errors.append(_error(loc, "needs an 'id' (or '_id') or a 'url' to name the document"))
    if doc_id and len(doc_id) > MAX_ID_CHARS:
        errors.append(_error(loc + (id_field,), f"is longer than {MAX_ID_CHARS} characters"))
    body_field = "content" if rec.content is not None else "text"
    body = rec.content if rec.content is not None else rec.text
    if body is None:
        errors.append(_error(loc + ("content",), "Field required: give 'content' (or 'text')", "missing"))
    elif not body.strip():
        errors.append(_error(loc + (body_field,), "is empty"))
    date = None
    if rec.date and rec.date.strip():
        date = parse_date(rec.date)
        if date is None:
            errors.append(_error(loc + ("date",), f"{rec.date!r} is not a date (use YYYY-MM-DD)"))
    if errors:
        return None, errors
    article = Article(doc_id=doc_id, text=body, title=_collapse(rec.title) or "", date=date,
                      source=_collapse(rec.source), url=url, id_explicit=True)
    return article, []


def articles_from_body(raw: bytes) -> list[Article]:
    """Articles from a request body; raises RequestValidationError listing every bad field."""
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError) as e:
        msg = f"{e.msg} at line {e.lineno} column {e.colno}" if isinstance(e, json.JSONDecodeError) else str(e)
        raise RequestValidationError([_error(("body",), msg, "json_invalid") | {"ctx": {"error": msg}}]) from None
    try:
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise RequestValidationError([_error(("body",), "contains an unpaired surrogate (\\uD800-\\uDFFF): "
                                             "not valid Unicode text")]) from None
    records = payload if isinstance(payload, list) else [payload]
    if isinstance(payload, list) and not payload:
        raise RequestValidationError([_error(("body",), "the list of documents is empty")])
    articles, errors = [], []
    for i, record in enumerate(records):
        loc = ("body", i) if isinstance(payload, list) else ("body",)
        article, errs = to_article(record, loc)
        errors.extend(errs)
        if article is not None:
            articles.append(article)
    if errors:
        raise RequestValidationError(errors)
    return articles


def ingest(engine: Engine, articles: list[Article]) -> dict:
    """Ingest articles and report each one's fate in request order."""
    first: dict[str, int] = {}
    repeated: dict[int, str] = {}
    todo = []
    for i, a in enumerate(articles):
        if a.doc_id in first:
            repeated[i] = f"id repeated in this request (first at position {first[a.doc_id]})"
        else:
            first[a.doc_id] = i
            todo.append(a)
    report = engine.ingest_items(todo)
    r = report.result
    fate: dict[str, dict] = {}
    for status, ids in (("added", r.added), ("updated", r.updated), ("unchanged", r.unchanged)):
        fate.update({doc_id: {"status": status} for doc_id in ids})
    fate.update({doc_id: {"status": "duplicate", "duplicate_of": twin} for doc_id, twin in r.duplicates})
    fate.update({rej.path: {"status": "rejected", "reason": rej.reason} for rej in report.rejected})
    results = []
    for i, a in enumerate(articles):
        if i in repeated:
            results.append({"doc_id": a.doc_id, "status": "rejected", "reason": repeated[i]})
        else:
            results.append({"doc_id": a.doc_id, **fate.get(a.doc_id, {"status": "rejected", "reason": "not indexed"})})
    counts = {k: sum(x["status"] == k for x in results) for k in ("added", "updated", "unchanged", "rejected")}
    counts["duplicates"] = sum(x["status"] == "duplicate" for x in results)
    return {**counts, "results": results}


_BODY_SCHEMA = {
    "anyOf": [
        ArticleIn.model_json_schema(by_alias=True),
        {"type": "array", "items": ArticleIn.model_json_schema(by_alias=True), "minItems": 1},
    ]
}


@router.post(
    "/documents",
    response_model=IngestResponse,
    response_model_exclude_none=True,
    dependencies=[WriterDep],
    summary="Add or update documents",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": _BODY_SCHEMA}}}},
)
async def add_documents(request: Request, engine: EngineDep) -> dict:
    """One article object or a list; the result lists each document's status in request order."""
    articles = articles_from_body(await request.body())
    return await run_in_threadpool(ingest, engine, articles)


@router.get("/documents", response_model=DocumentList, summary="List documents, newest date first")
def list_documents(
    engine: EngineDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> dict:
    """One page of document metadata."""
    docs = engine.store.list_documents(limit=limit, offset=offset)
    return {"total": engine.store.stats()["documents"], "limit": limit, "offset": offset, "documents": docs}


@router.get("/documents/{doc_id:path}", summary="One document with its original and normalized text")
def get_document(engine: EngineDep, doc_id: str) -> dict:
    """404 when there is no such document. Ids may contain '/'."""
    doc = engine.store.get_document(doc_id)
    if doc is None:
        raise HTTPException(404, f"no document {doc_id!r}")
    return doc


@router.delete("/documents/{doc_id:path}", response_model=Deleted, dependencies=[WriterDep],
               summary="Delete one document")
def delete_document(engine: EngineDep, doc_id: str) -> dict:
    """404 when there is no such document."""
    if not engine.delete(doc_id):
        raise HTTPException(404, f"no document {doc_id!r}")
    return {"doc_id": doc_id, "deleted": True}

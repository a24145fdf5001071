"""Every error as JSON ``{"detail": "<human-readable message>"}``: 4xx for caller mistakes, never 500 for bad input.

Mapping: validation problems -> 422 (one message naming each bad field); an empty index -> 409 Conflict (the
request is fine, the server has nothing to search yet; the detail says how to ingest); a busy writer -> 503 with
``Retry-After``; an oversized body -> 413. Under ``/v1/`` the body also carries an OpenAI-style ``"error"``
object so OpenAI clients show the message.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.http.deps import NO_DOCUMENTS, RETRY_AFTER_S
from index.backend import StoreError, WriterBusyError
from qa.errors import NoDocumentsError

log = logging.getLogger("policyqa.http")


class BodyTooLarge(StarletteHTTPException):
    """The request body went over the app's size cap."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is larger than the {limit:,}-byte limit")


def error_body(path: str, status: int, detail: str) -> dict:
    """The JSON error body for a request path."""
    body: dict = {"detail": detail}
    if path.startswith("/v1/"):
        kind = "invalid_request_error" if status < 500 else "server_error"
        body["error"] = {"message": detail, "type": kind, "param": None, "code": status}
    return body


def error_response(request: Request, status: int, detail: str, headers: dict | None = None) -> JSONResponse:
    """A JSON error response in this API's shape."""
    return JSONResponse(error_body(request.url.path, status, detail), status_code=status, headers=headers)


def describe_validation(errors: list[dict]) -> str:
    """One readable line per bad field, e.g. ``query parameter 'k': Input should be ... (got 0)``."""
    parts = []
    for err in errors:
        loc = [str(x) for x in err.get("loc", ())]
        where, rest = (loc[0], loc[1:]) if loc else ("body", [])
        msg = err.get("msg", "invalid value")
        kind = err.get("type", "")
        if kind == "json_invalid":
            parts.append(f"request body is not valid JSON ({err.get('ctx', {}).get('error', msg)})")
            continue
        if where == "body":
            item = f"document {rest.pop(0)}" if rest and rest[0].isdigit() else ""
            if not rest:
                if not item and kind == "missing":
                    parts.append("request body is required")
                else:
                    parts.append(f"{item or 'request body'}: {msg}")
                continue
            name = f"{item + ', ' if item else ''}field {'.'.join(rest)!r}"
        elif where in ("query", "path", "header"):
            name = f"{where} parameter {'.'.join(rest)!r}"
        else:
            name = ".".join(loc)
        got = ""
        if kind != "missing" and "input" in err and not isinstance(err["input"], dict | list):
            shown = repr(err["input"])
            got = f" (got {shown[:60]}{'…' if len(shown) > 60 else ''})"
        parts.append(f"{name}: {msg}{got}")
    return "; ".join(parts) or "invalid request"


def _clean(errors: list[dict]) -> list[dict]:
    """Validation errors in a JSON-safe form (no exception objects, no echoed input)."""
    return [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in errors]


async def _http_error(request: Request, exc: StarletteHTTPException):
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return error_response(request, exc.status_code, detail, getattr(exc, "headers", None))


async def _validation_error(request: Request, exc: RequestValidationError):
    errors = list(exc.errors())
    body = error_body(request.url.path, 422, describe_validation(errors))
    body["errors"] = _clean(errors)
    return JSONResponse(body, status_code=422)


async def _no_documents(request: Request, exc: NoDocumentsError):
    return error_response(request, 409, NO_DOCUMENTS)


async def _busy(request: Request, exc: WriterBusyError):
    detail = f"another writer is busy with this data directory; retry in {RETRY_AFTER_S} s"
    return error_response(request, 503, detail, {"Retry-After": str(RETRY_AFTER_S)})


async def _bad_value(request: Request, exc: ValueError):
    return error_response(request, 422, str(exc) or "invalid value")


async def _store_error(request: Request, exc: StoreError):
    log.error("store error on %s: %s", request.url.path, exc)
    return error_response(request, 500, f"data directory problem: {exc}")


async def _internal(request: Request, exc: Exception):
    # The server logs the traceback (the exception is re-raised after this response); the caller gets no internals.
    return error_response(request, 500, "internal server error")


def install(app: FastAPI) -> None:
    """Register the handlers on an app."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(NoDocumentsError, _no_documents)
    app.add_exception_handler(WriterBusyError, _busy)
    app.add_exception_handler(StoreError, _store_error)
    app.add_exception_handler(ValueError, _bad_value)
    app.add_exception_handler(Exception, _internal)

"""What every router shares: limits, the process-wide Engine, the write token, filters and highlight terms."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from qa.engine import Engine
from qa.search import MAX_K, Filters, plan_query

ENV_TOKEN = "POLICYQA_API_TOKEN"
MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_QUERY_CHARS = 1000
MAX_FILTER_CHARS = 200
RETRY_AFTER_S = 5
NO_DOCUMENTS = "no documents are indexed yet; add some with POST /documents or `policyqa ingest PATH`"


@dataclass(frozen=True)
class Settings:
    """Per-app settings, fixed when the app is created."""

    token: str | None = None
    max_body_bytes: int = MAX_BODY_BYTES


def get_engine(request: Request) -> Engine:
    """The one Engine of this app (thread-safe; shared by all requests)."""
    return request.app.state.engine


def get_settings(request: Request) -> Settings:
    """This app's settings."""
    return request.app.state.settings


EngineDep = Annotated[Engine, Depends(get_engine)]

_bearer = HTTPBearer(
    auto_error=False,
    description=f"Required for writes when the server was started with {ENV_TOKEN} set.",
)


def require_writer(
    settings: Annotated[Settings, Depends(get_settings)],
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Let a write through when no token is configured or the bearer token matches (constant-time)."""
    if not settings.token:
        return
    # Header values arrive decoded as latin-1; re-encoding gives the bytes sent, so UTF-8 tokens work too.
    given = creds.credentials.encode("latin-1") if creds else b""
    if not secrets.compare_digest(given, settings.token.encode("utf-8")):
        reason = "missing" if creds is None else "wrong"
        raise HTTPException(
            status_code=401,
            detail=f"{reason} bearer token: writes need the header 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )


WriterDep = Depends(require_writer)


class FilterFields(BaseModel):
    """Date range (inclusive; YYYY, YYYY-MM or YYYY-MM-DD) and source (substring) restrictions."""

    model_config = ConfigDict(extra="forbid")

    since: str | None = Field(None, max_length=MAX_FILTER_CHARS, examples=["2024-01"])
    until: str | None = Field(None, max_length=MAX_FILTER_CHARS, examples=["2025"])
    source: str | None = Field(None, max_length=MAX_FILTER_CHARS, examples=["昆明信息港"])

    def filters(self) -> Filters:
        return make_filters(self.since, self.until, self.source)


def make_filters(since: str | None, until: str | None, source: str | None) -> Filters:
    """Filters with blank values treated as absent (HTML forms send empty strings)."""
    return Filters(since=since or None, until=until or None, source=(source or "").strip() or None)


QueryText = Annotated[str, Field(min_length=1, max_length=MAX_QUERY_CHARS)]
K = Annotated[int, Field(ge=1, le=MAX_K)]


def highlight_terms(engine: Engine, text: str) -> list[str]:
    """Words worth highlighting in passages: the query's lexical tokens and the names it was bridged to."""
    with engine.store.read() as view:
        plan = plan_query(text, view.bridge)
    terms = {t for t in plan.tokens if len(t) >= 2}
    for targets in plan.bridged.values():
        terms.update(t for t in targets[:3] if t)
    return sorted(terms, key=lambda t: (-len(t), t))


def model_loaded(engine: Engine) -> bool:
    """Whether the embedding model is in memory (the Store loads it on first use)."""
    return engine.store.model_loaded

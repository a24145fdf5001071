"""The FastAPI app: one Engine per process shared by all routers, MCP under /mcp, JSON errors, a body cap."""

from __future__ import annotations

import os
import threading
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from api.http import errors
from api.http.body_limit import BodyLimit
from api.http.deps import ENV_TOKEN, MAX_BODY_BYTES, Settings
from api.http.routers import ask, chat, documents, health, page, search
from qa.engine import Engine

DESCRIPTION = """Semantic search and cited answers over Chinese regional-policy news.

* Reads are open. Writes (`POST /documents`, `DELETE /documents/{id}`) need `Authorization: Bearer <token>`
  when the server runs with `POLICYQA_API_TOKEN` set.
* Errors are JSON `{"detail": "..."}`. An empty index answers searches with **409** and says how to ingest;
  a busy writer gives **503** with `Retry-After`; bodies over 10 MB give **413**.
* OpenAI-compatible chat at `/v1`, MCP (streamable HTTP) at `/mcp`, a search page at `/`.
"""


DOCS_ASSETS = "/docs-assets"  # where the bundled Swagger UI and ReDoc files are served


def open_engine(data_dir: Path | str) -> Engine:
    """An Engine over ``data_dir``; a new directory gets the embedder named by POLICYQA_EMBEDDER (if any)."""
    from api.config import requested_embedder

    path = Path(data_dir).expanduser()
    return Engine(path, requested_embedder(path))


def _warm(engine: Engine) -> None:
    def load() -> None:
        from qa.extract.tokens import warm_up

        try:
            engine.store.embedder  # noqa: B018 - loads the model so the first query does not wait for it
            warm_up()  # jieba's dictionaries, which the first answer's extraction reads
        except Exception:  # a query will raise it again, with a response
            pass

    threading.Thread(target=load, name="policyqa-warm-model", daemon=True).start()


def create_app(
    engine_or_data_dir: Engine | Path | str,
    *,
    token: str | None = None,
    host: str = "127.0.0.1",
    mcp: bool = True,
    warm_model: bool = True,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    """The app over an Engine (shared as is) or a data directory (opened once, here).

    ``token`` defaults to $POLICYQA_API_TOKEN; ``""`` turns write auth off. ``host`` is where the server listens; on a loopback host the
    MCP endpoint only accepts loopback Host/Origin headers (DNS-rebinding protection). ``warm_model`` loads
    the embedding model in the background at start-up so that the first query does not wait for it.
    """
    engine = engine_or_data_dir if isinstance(engine_or_data_dir, Engine) else open_engine(engine_or_data_dir)
    mcp_server = None
    mcp_routes = []
    if mcp:
        from api.mcp_server import build_server

        mcp_server = build_server(engine)
        # The SDK's own app holds one route at /mcp; we take that route (not the app, whose lifespan a mount
        # would never run) and run its session manager in our lifespan below.
        mcp_routes = mcp_server.streamable_http_app(streamable_http_path="/mcp", host=host).routes

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if warm_model:
            _warm(engine)
        if mcp_server is None:
            yield
            return
        async with mcp_server.session_manager.run():
            yield

    # /docs (Swagger UI) and /redoc load their scripts and styles from this server (the fastapi-offline
    # package bundles them), not from a CDN, so they work offline; the validator badge, which would call
    # out to a public validator, is off.
    app = FastAPIOffline(title="policyqa", version="0.1.0", description=DESCRIPTION, lifespan=lifespan,
                         static_url=DOCS_ASSETS, swagger_ui_parameters={"validatorUrl": None})
    app.state.engine = engine
    app.state.settings = Settings(token=token if token is not None else os.environ.get(ENV_TOKEN) or None,
                                  max_body_bytes=max_body_bytes)
    errors.install(app)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    for module in (health, search, ask, documents, chat, page):
        app.include_router(module.router)
    app.router.routes.extend(mcp_routes)
    return app

"""The ``serve`` and ``mcp`` subcommands, and a background server for embedding the app (and for tests)."""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

LOOPBACK = "127.0.0.1"


def _engine(args):
    from api.config import store_config
    from index.stores import open_store
    from qa.engine import Engine

    return Engine(store=open_store(store_config(args.data_dir, args.store, args.milvus_uri)))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_serve(args) -> int:
    """Run the HTTP API, chat endpoint, MCP endpoint and search page on one port."""
    import os

    import uvicorn

    from api.http import create_app
    from api.http.deps import ENV_TOKEN

    if not _is_loopback(args.host) and not os.environ.get(ENV_TOKEN):
        print(f"warning: listening on {args.host} without {ENV_TOKEN}: anyone who can reach it may add and "
              "delete documents", file=sys.stderr)
    app = create_app(_engine(args), host=args.host)
    print(f"policyqa: page http://{args.host}:{args.port}/  API docs /docs  chat /v1  MCP /mcp", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, timeout_graceful_shutdown=5)
    return 0


def cmd_mcp(args) -> int:
    """Serve the MCP tools over stdio (for chat clients that launch the server themselves)."""
    from api.mcp_server import run_stdio

    run_stdio(_engine(args))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``serve`` and ``mcp`` to the CLI's subcommands."""
    p = sub.add_parser("serve", help="serve the HTTP API, search page, chat (/v1) and MCP (/mcp)")
    p.add_argument("--host", default=LOOPBACK, help=f"address to listen on (default {LOOPBACK})")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"],
                   help="how much the server logs (default info)")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("mcp", help="serve MCP tools (search, ask, get_document) over stdio",
                       description="Serve MCP tools over stdio, for chat clients that start the server.")
    p.set_defaults(func=cmd_mcp)


@contextmanager
def running_server(app, host: str = LOOPBACK, port: int = 0, start_timeout: float = 30.0) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a background thread; yields its base URL and stops it on exit.

    ``port=0`` picks a free port. Start-up and shutdown are bounded (``start_timeout``; 10 s to stop).
    """
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=3, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="policyqa-server", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + start_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        if thread.is_alive():
            server.force_exit = True
            thread.join(5)
        sock.close()

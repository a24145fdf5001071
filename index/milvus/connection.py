"""Reaching Milvus: parse the URI, check the network path, connect, and say plainly what went wrong.

Every failure becomes a :class:`index.backend.StoreUnavailableError` whose message names the URI (never
the token) and the reason: unreachable, TLS failure, credentials refused, a milvus-lite file in use.
"""

from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from index.backend import StoreUnavailableError

CONNECT_TIMEOUT = 5.0  # seconds for the TCP/TLS probe and for the client's first call
CALL_TIMEOUT = 60.0  # seconds for any later call


@dataclass(frozen=True)
class Target:
    """Where the store lives: a server (``http(s)://host:port``) or a milvus-lite file."""

    uri: str
    network: bool
    host: str = ""
    port: int = 19530
    tls: bool = False

    @property
    def shown(self) -> str:
        """The URI as messages show it (no credentials)."""
        return self.uri


def parse_uri(uri: str) -> Target:
    """A :class:`Target` from ``http://host:19530``, ``https://host:443`` or a ``*.db`` file path."""
    uri = (uri or "").strip()
    if not uri:
        raise StoreUnavailableError("no Milvus URI: set POLICYQA_MILVUS_URI or --milvus-uri")
    parsed = urlparse(uri)
    if parsed.scheme in ("http", "https", "tcp", "grpc"):
        if parsed.username or parsed.password:
            raise StoreUnavailableError(
                f"{parsed.scheme}://{parsed.hostname}: put credentials in POLICYQA_MILVUS_TOKEN, not the URI"
            )
        if not parsed.hostname:
            raise StoreUnavailableError(f"{uri}: no host in the Milvus URI")
        tls = parsed.scheme == "https"
        port = parsed.port or (443 if tls else 19530)
        return Target(f"{parsed.scheme}://{parsed.hostname}:{port}", True, parsed.hostname, port, tls)
    if parsed.scheme and len(parsed.scheme) > 1:
        raise StoreUnavailableError(f"{uri}: a Milvus URI is http://host:port, https://host:port or a .db file")
    path = Path(uri).expanduser()
    if path.suffix != ".db":
        raise StoreUnavailableError(f"{uri}: a milvus-lite file must end in .db")
    return Target(str(path.resolve()), False)


def probe(target: Target, timeout: float = CONNECT_TIMEOUT) -> None:
    """Check that a server's port answers (and completes a TLS handshake for https) before connecting."""
    if not target.network:
        parent = Path(target.uri).parent
        if not parent.is_dir():
            raise StoreUnavailableError(f"{target.shown}: folder {parent} does not exist")
        return
    try:
        sock = socket.create_connection((target.host, target.port), timeout=timeout)
    except OSError as e:
        raise StoreUnavailableError(f"{target.shown}: Milvus is unreachable ({_reason(e)})") from None
    try:
        if target.tls:
            ctx = ssl.create_default_context()
            try:
                with ctx.wrap_socket(sock, server_hostname=target.host) as tls_sock:
                    tls_sock.settimeout(timeout)
            except (ssl.SSLError, OSError) as e:
                raise StoreUnavailableError(f"{target.shown}: TLS failure ({_reason(e)})") from None
    finally:
        sock.close()


def _reason(e: BaseException) -> str:
    if isinstance(e, ssl.SSLCertVerificationError):
        return f"certificate not trusted: {e.verify_message}"
    if isinstance(e, ssl.SSLError):
        return e.reason or str(e)
    if isinstance(e, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(e, ConnectionRefusedError):
        return "connection refused"
    if isinstance(e, socket.gaierror):
        return "unknown host"
    return e.strerror or type(e).__name__


def connect(target: Target, token: str | None, db: str | None):
    """A pymilvus client for ``target``; raises StoreUnavailableError with the reason."""
    probe(target)
    from pymilvus import MilvusClient

    quiet_client_logs()

    kwargs = {"uri": target.uri, "timeout": CONNECT_TIMEOUT}
    if token:
        kwargs["token"] = token
    if db:
        kwargs["db_name"] = db
    if not target.network:
        # milvus-lite's in-process gRPC server allows no keepalive pings between calls; pymilvus' default
        # (every 10 s, even idle) earns a GOAWAY "too_many_pings" that fails the call in flight.
        kwargs["grpc_options"] = {"grpc.keepalive_time_ms": 600000, "grpc.keepalive_permit_without_calls": 0}
    with _lite_start_errors() as lite_errors:
        try:
            client = MilvusClient(**kwargs)
            client.list_collections(timeout=CONNECT_TIMEOUT)  # the first call that checks the credentials
            return client
        except Exception as e:  # pymilvus raises MilvusException and friends
            cause = lite_errors[-1] if lite_errors and not target.network else e
            raise StoreUnavailableError(f"{target.shown}: {describe(cause, target, token)}") from None


@contextmanager
def _lite_start_errors() -> Iterator[list[BaseException]]:
    """Collect the exceptions milvus-lite logs while it starts its in-process server, instead of letting
    it print them with a traceback; pymilvus then raises only "Open local milvus failed", so the collected
    one (a file locked by another process, say) is the reason to report."""
    caught: list[BaseException] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.exc_info and record.exc_info[1] is not None:
                caught.append(record.exc_info[1])

    lite = logging.getLogger("milvus_lite")
    handler, propagate = Collect(logging.ERROR), lite.propagate
    lite.addHandler(handler)
    lite.propagate = False
    try:
        yield caught
    finally:
        lite.removeHandler(handler)
        lite.propagate = propagate


def quiet_client_logs() -> None:
    """pymilvus logs each failed call with a trace; our messages say it once, in one line."""
    for name in [n for n in logging.root.manager.loggerDict if n.startswith("pymilvus")] + ["pymilvus"]:
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _chain(e: BaseException):
    seen: set[int] = set()
    while e is not None and id(e) not in seen:  # pymilvus raises "e from e": the chain can loop
        seen.add(id(e))
        yield e
        e = e.__cause__ or e.__context__


def _grpc_status(e: BaseException) -> str | None:
    for x in _chain(e):
        code = getattr(x, "code", None)
        if callable(code):
            try:
                return code().name
            except Exception:
                continue
    return None


def _chain_text(e: BaseException) -> str:
    return " ".join(str(x) for x in _chain(e)).lower()


def describe(e: BaseException, target: Target, token: str | None = None) -> str:
    """One line for a client error, the token removed."""
    text = str(getattr(e, "message", "") or e)
    low = text.lower()
    status = _grpc_status(e)
    if status == "UNAUTHENTICATED":
        reason = "authentication refused (check POLICYQA_MILVUS_TOKEN)"
    elif status == "UNAVAILABLE" and any(w in _chain_text(e) for w in ("ssl", "tls", "handshake", "certificate")):
        reason = "TLS failure (the server's certificate or protocol was not accepted)"
    elif status in ("UNAVAILABLE", "DEADLINE_EXCEEDED"):
        reason = "Milvus is unreachable (connection lost or timed out)"
    elif not target.network and ("lock" in low or "opened by another" in low or "in use" in low
                                 or type(e).__name__ == "DataDirLockedError"):
        reason = "the milvus-lite file is in use by another process (one process per file; use a server)"
    elif "database" in low and ("not found" in low or "not exist" in low):
        reason = "database not found"
    elif any(w in low for w in ("auth", "credential", "password", "unauthenticated", "permission")):
        reason = "authentication refused (check POLICYQA_MILVUS_TOKEN)"
    elif target.network and ("fail connecting" in low or "illegal connection params" in low):
        # The port answered the probe, so the server refused this client: with auth on, a wrong or
        # missing token reads exactly like this on Milvus 2.3.
        reason = "the server refused the connection (wrong or missing POLICYQA_MILVUS_TOKEN, or not Milvus)"
    elif "unavailable" in low or "connection" in low or "deadline" in low or "timeout" in low:
        reason = "Milvus is unreachable (connection lost or timed out)"
    else:
        reason = text.splitlines()[0][:300] if text else type(e).__name__
    if token:
        reason = reason.replace(token, "***")
    return reason

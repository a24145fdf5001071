"""The request-body cap: a JSON 413 for bodies over the limit, sent only after the rest of the body is read.

A server that answers early and closes the socket with request bytes still unread makes the kernel send a
TCP reset, and a client still uploading can lose the 413 it was sent (it sees "connection reset" instead).
So before refusing, the middleware reads and discards what is left of the body, within a byte and a time
budget, the way a lingering close does. A client that asked ``Expect: 100-continue`` has sent nothing yet
and is refused at once; so is one that declares more than the drain budget.
"""

from __future__ import annotations

import anyio
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.http import errors

DRAIN_BYTES = 64 * 1024 * 1024
DRAIN_SECONDS = 5.0


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with a JSON 413, whether or not they declare a length."""

    def __init__(self, app: ASGIApp, max_bytes: int, drain_bytes: int = DRAIN_BYTES,
                 drain_seconds: float = DRAIN_SECONDS) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.drain_bytes = drain_bytes
        self.drain_seconds = drain_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            if "100-continue" not in headers.get("expect", "").lower() and int(length) <= self.drain_bytes:
                await self._drain(receive, read=0)
            await self._refuse(scope, receive, send)
            return
        total = 0
        body_ended = False
        started = False

        async def limited_receive() -> Message:
            nonlocal total, body_ended
            message = await receive()
            if message["type"] == "http.request":
                total += len(message.get("body", b""))
                body_ended = not message.get("more_body", False)
                if total > self.max_bytes:
                    raise errors.BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except errors.BodyTooLarge:
            if started:
                raise
            if not body_ended:
                await self._drain(receive, read=total)
            await self._refuse(scope, receive, send)

    async def _drain(self, receive: Receive, read: int) -> None:
        """Read and discard the rest of the request body, up to the byte and time budgets."""
        with anyio.move_on_after(self.drain_seconds):
            while read <= self.drain_bytes:
                message = await receive()
                if message["type"] != "http.request":
                    return
                read += len(message.get("body", b""))
                if not message.get("more_body", False):
                    return

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        body = errors.error_body(path, 413, str(errors.BodyTooLarge(self.max_bytes).detail))
        await JSONResponse(body, status_code=413, headers={"Connection": "close"})(scope, receive, send)

"""The body cap reads what is left of an oversized body before it answers 413, so the 413 is not lost to a reset."""

from __future__ import annotations

import json

import anyio
import pytest

from api.http.body_limit import BodyLimit


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def echo_app(scope, receive, send) -> None:
    """Reads the whole body, then answers 200 with its length."""
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(size).encode()})


class Upload:
    """A client upload in chunks; records how many chunks the server read before its response started."""

    def __init__(self, chunks: int, size: int, stall: bool = False) -> None:
        self.left = chunks
        self.size = size
        self.stall = stall
        self.read = 0
        self.read_before_response: int | None = None
        self.sent: list[dict] = []

    async def receive(self) -> dict:
        if self.left == 0:
            if self.stall:
                await anyio.sleep(3600)
            return {"type": "http.disconnect"}
        self.left -= 1
        self.read += 1
        return {"type": "http.request", "body": b"x" * self.size, "more_body": self.left > 0 or self.stall}

    async def send(self, message: dict) -> None:
        if message["type"] == "http.response.start" and self.read_before_response is None:
            self.read_before_response = self.read
        self.sent.append(message)

    def status(self) -> int:
        return self.sent[0]["status"]

    def detail(self) -> str:
        return json.loads(b"".join(m.get("body", b"") for m in self.sent[1:]))["detail"]


def scope(headers: dict[str, str]) -> dict:
    return {"type": "http", "method": "POST", "path": "/documents",
            "headers": [(k.encode(), v.encode()) for k, v in headers.items()]}


@pytest.mark.anyio
async def test_declared_oversize_is_read_to_the_end_before_413():
    upload = Upload(chunks=10, size=500)
    await BodyLimit(echo_app, max_bytes=1000)(scope({"content-length": "5000"}), upload.receive, upload.send)
    assert upload.status() == 413 and "1,000-byte limit" in upload.detail()
    assert upload.read_before_response == 10


@pytest.mark.anyio
async def test_undeclared_oversize_is_read_to_the_end_before_413():
    upload = Upload(chunks=10, size=500)
    await BodyLimit(echo_app, max_bytes=1000)(scope({}), upload.receive, upload.send)
    assert upload.status() == 413
    assert upload.read_before_response == 10


@pytest.mark.anyio
async def test_expect_continue_is_refused_without_reading():
    upload = Upload(chunks=10, size=500)
    headers = {"content-length": "5000", "expect": "100-continue"}
    await BodyLimit(echo_app, max_bytes=1000)(scope(headers), upload.receive, upload.send)
    assert upload.status() == 413 and upload.read_before_response == 0


@pytest.mark.anyio
async def test_a_length_past_the_drain_budget_is_refused_without_reading():
    upload = Upload(chunks=10, size=500)
    limit = BodyLimit(echo_app, max_bytes=1000, drain_bytes=4000)
    await limit(scope({"content-length": "5000"}), upload.receive, upload.send)
    assert upload.status() == 413 and upload.read_before_response == 0


@pytest.mark.anyio
async def test_an_undeclared_body_is_drained_only_up_to_the_budget():
    upload = Upload(chunks=100, size=500)
    await BodyLimit(echo_app, max_bytes=1000, drain_bytes=4000)(scope({}), upload.receive, upload.send)
    assert upload.status() == 413
    assert 9 <= upload.read_before_response < 100


@pytest.mark.anyio
async def test_a_stalled_upload_is_refused_after_the_drain_time():
    upload = Upload(chunks=3, size=500, stall=True)
    with anyio.fail_after(5):
        await BodyLimit(echo_app, max_bytes=1000, drain_seconds=0.2)(scope({}), upload.receive, upload.send)
    assert upload.status() == 413 and upload.read_before_response == 3


@pytest.mark.anyio
async def test_bodies_within_the_cap_pass_through():
    upload = Upload(chunks=2, size=500)
    await BodyLimit(echo_app, max_bytes=1000)(scope({"content-length": "1000"}), upload.receive, upload.send)
    assert upload.status() == 200 and upload.sent[1]["body"] == b"1000"

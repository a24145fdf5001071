"""A deterministic OpenAI-compatible chat endpoint on loopback, for tests: no model, scripted by model name.

``echo`` (any unknown name) answers ``ANSWER`` prefixed with the passage numbers it was shown, so a test sees
both what went over the wire and how the reply's markers are checked ([1] is valid, [9] never is). Other
names misbehave on purpose: ``http500``, ``garbage`` (not JSON), ``shape`` (JSON without choices), ``slow``
(answers after SLOW_S seconds), ``trickle`` (streams an event every TRICKLE_S seconds), ``nostream`` (answers
a stream request with plain JSON), ``empty`` (no text), ``cutoff`` (a stream that breaks after two deltas).
Every request is recorded (headers and body) in the list the context manager yields.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from api.serve import running_server

ANSWER = "答案是浙江油气[1]，另见[9]。"
SLOW_S = 1.0
TRICKLE_S = 0.05  # seconds between the events of a ``trickle`` stream
PIECE = 3  # characters per streamed delta: markers get split across deltas


def shown_passages(messages: list[dict]) -> list[int]:
    """The passage numbers at the start of lines of the user message."""
    user = next(m["content"] for m in reversed(messages) if m["role"] == "user")
    return [int(n) for n in re.findall(r"^\[(\d+)\] ", user, flags=re.M)]


def reply_for(messages: list[dict]) -> str:
    """What ``echo`` answers: which passages it got, then ANSWER."""
    return "passages=" + ",".join(map(str, shown_passages(messages))) + "。" + ANSWER


def _sse(obj: dict | str) -> str:
    return "data: " + (obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False)) + "\n\n"


def _events(model: str, text: str) -> Iterator[str]:
    def chunk(delta: dict, finish: str | None = None) -> str:
        return _sse({"id": "fake", "object": "chat.completion.chunk", "model": model,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    yield ": a comment line, to be ignored\n\n"
    yield chunk({"role": "assistant", "content": ""})
    for i, at in enumerate(range(0, len(text), PIECE)):
        if model == "cutoff" and i == 2:
            yield "data: {broken\n\n"
            return
        yield chunk({"content": text[at : at + PIECE]})
    yield chunk({}, "stop")
    yield _sse("[DONE]")


async def _trickle(events: Iterator[str]) -> AsyncIterator[str]:
    for event in events:
        await asyncio.sleep(TRICKLE_S)
        yield event


def build_app(requests: list[dict]) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        body = await request.json()
        requests.append({"headers": dict(request.headers), "body": body})
        model = body.get("model", "")
        if model == "http500":
            return JSONResponse({"error": {"message": "boom"}}, status_code=500)
        if model == "garbage":
            return Response(b"{not json", media_type="text/event-stream" if body.get("stream") else "application/json")
        if model == "shape":
            return JSONResponse({"choices": []})
        if model == "slow":
            await asyncio.sleep(SLOW_S)
        text = "" if model == "empty" else reply_for(body["messages"])
        if body.get("stream") and model == "trickle":
            return StreamingResponse(_trickle(_events(model, text)), media_type="text/event-stream")
        if body.get("stream") and model != "nostream":
            return StreamingResponse(_events(model, text), media_type="text/event-stream")
        return JSONResponse({"id": "fake", "object": "chat.completion", "model": model, "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]})

    return app


@contextmanager
def fake_llm() -> Iterator[tuple[str, list[dict]]]:
    """The base URL (``http://127.0.0.1:PORT/v1``) and the list of requests it records; stops on exit."""
    requests: list[dict] = []
    with running_server(build_app(requests)) as url:
        yield f"{url}/v1", requests

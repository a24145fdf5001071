"""OpenAI-compatible chat: POST /v1/chat/completions and GET /v1/models.

The last user message is the question. The reply is the cited answer followed by a "Sources:" list (each
citation's title, date, source, span and whole quote, as the CLI prints them: api.citation_text); the
citations are also returned as structured data in the non-standard field ``sources`` (front-ends that do
not know it ignore it). ``"stream": true`` sends the same reply as server-sent ``chat.completion.chunk``
events ending with ``data: [DONE]``; when an LLM is configured (qa.llm), its answer streams through as it
is generated, markers checked, before the sources. Optional non-standard request fields: ``k``, ``since``,
``until``, ``source``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Iterator
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from api.citation_text import cited_answer_text, sources_text
from api.http.deps import MAX_QUERY_CHARS, EngineDep, FilterFields, K
from qa.llm import GenerationStream

router = APIRouter(tags=["chat (OpenAI-compatible)"])

MODEL_ID = "policyqa"
STREAM_PIECE_CHARS = 24


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str = Field(max_length=64)
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(FilterFields):
    model_config = ConfigDict(extra="allow")  # temperature, max_tokens, ... are accepted and ignored

    model: str = Field(MODEL_ID, max_length=200)
    messages: list[ChatMessage] = Field(min_length=1, max_length=1000)
    stream: bool = False
    k: K = 5


def message_text(content: str | list[dict[str, Any]] | None) -> str:
    """The text of a message: a string, or the ``text`` parts of a content-part list."""
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content or [] if p.get("type") == "text" and isinstance(p.get("text"), str))


def question_of(messages: list[ChatMessage]) -> str:
    """The last user message's text; 422 when there is none or it is too long."""
    for m in reversed(messages):
        if m.role == "user":
            text = message_text(m.content).strip()
            if not text:
                break
            if len(text) > MAX_QUERY_CHARS:
                raise HTTPException(422, f"the question is longer than {MAX_QUERY_CHARS} characters")
            return text
    raise HTTPException(422, "messages: no user message with text to answer")


def reply_text(answer: dict) -> str:
    """The answer with its [n] markers, then the sources (the nearest passages when not found), each with its
    span and whole quote, in the format the CLI prints (api.citation_text)."""
    return cited_answer_text(answer)


def _pieces(text: str, size: int = STREAM_PIECE_CHARS) -> Iterator[str]:
    for i in range(0, len(text), size):
        yield text[i : i + size]


def _sse(obj: dict | str) -> str:
    data = obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False)
    return f"data: {data}\n\n"


def generated_pieces(answer: dict, generation: GenerationStream) -> Iterator[str]:
    """The LLM's checked deltas as they come, then the sources; the extractive answer if it fails before any."""
    yield from generation
    if not generation.emitted:
        yield from _pieces(answer["answer"])
    elif generation.generated and generation.generated["error"]:
        yield f"\n\n(the generated answer was cut short: {generation.generated['error']})"
    text = (generation.generated or {}).get("text") or generation.emitted or answer["answer"]
    sources = sources_text(text, answer["citations"], answer.get("found", True))  # ordered as the text cites
    if sources:
        yield from _pieces("\n\n" + sources)


def stream_events(completion_id: str, created: int, content: str | Iterable[str], sources: list[dict]) -> Iterator[str]:
    """The reply as OpenAI chunk events: role first, content pieces, a final stop chunk, then [DONE]."""
    base = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID}

    def chunk(delta: dict, finish: str | None = None, **extra: Any) -> str:
        return _sse({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra})

    yield chunk({"role": "assistant", "content": ""})
    for piece in _pieces(content) if isinstance(content, str) else content:
        yield chunk({"content": piece})
    yield chunk({}, "stop", sources=sources)
    yield _sse("[DONE]")


@router.post("/v1/chat/completions", summary="Chat completion (the answer to the last user message)")
def chat_completions(engine: EngineDep, body: ChatRequest):
    """A ``chat.completion`` object, or an event stream of ``chat.completion.chunk`` when ``stream`` is true."""
    question = question_of(body.messages)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if body.stream:
        result, generation = engine.ask_stream(question, k=body.k, filters=body.filters())
        answer = result.as_dict()
        content = reply_text(answer) if generation is None else generated_pieces(answer, generation)
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream_events(completion_id, created, content, answer["citations"]),
                                 media_type="text/event-stream", headers=headers)
    answer = engine.ask(question, k=body.k, filters=body.filters()).as_dict()
    content = reply_text(answer)
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": MODEL_ID,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "sources": answer["citations"],
        "items": answer["items"],
    }


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "policyqa"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


@router.get("/v1/models", response_model=ModelList, summary="The one model this server offers")
def models() -> ModelList:
    """Lists ``policyqa``; any model name in a chat request is answered by it."""
    return ModelList(data=[ModelCard(id=MODEL_ID)])

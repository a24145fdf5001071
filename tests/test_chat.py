"""The OpenAI-compatible endpoints, driven by the official openai SDK against a real loopback server."""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from conftest import SAMPLE

from api.http import create_app
from api.serve import running_server
from corpus.models import Article
from index.embedder import EmbedderSpec
from qa.engine import Engine

HASH = EmbedderSpec("hash", "256")
QUESTION = "昆明承接产业转移的核心承载区是哪里？"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Base URL of a server over the sample article and one other item, and of one over an empty data dir."""
    engine = Engine(tmp_path_factory.mktemp("chat-data"), HASH)
    engine.ingest_paths([SAMPLE])
    engine.ingest_items([Article("hn/port", "海南自由贸易港实施零关税政策，吸引跨境电商企业落户。", "海南自贸港零关税",
                                 "2024-06-01", "海南日报", "https://news.example/hn/port")])
    empty = Engine(tmp_path_factory.mktemp("chat-empty"), HASH)
    with running_server(create_app(engine, mcp=False)) as url, running_server(create_app(empty, mcp=False)) as url2:
        yield url, url2


@pytest.fixture(scope="module")
def client(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server[0]}/v1", api_key="not-needed", max_retries=0, timeout=30)


def test_models(client):
    assert [m.id for m in client.models.list()] == ["policyqa"]


def test_plain_completion(client, server):
    reply = client.chat.completions.create(
        model="policyqa",
        messages=[
            {"role": "system", "content": "Answer from the news."},
            {"role": "user", "content": "海南自贸港有什么政策？"},
            {"role": "assistant", "content": "零关税。"},
            {"role": "user", "content": QUESTION},
        ],
    )
    assert reply.object == "chat.completion" and reply.model == "policyqa"
    choice = reply.choices[0]
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    expected = httpx.post(f"{server[0]}/ask", json={"question": QUESTION}, timeout=30).json()
    heading = "Sources:" if expected["found"] else "Nearest passages (not an answer):"
    answer, _, sources = choice.message.content.partition(f"\n\n{heading}\n")
    assert answer == expected["answer"]  # the last user message is the question
    assert sources.startswith("[1] 抢抓机遇协调发展 有序承接产业梯度转移 — 2025-03-24 · 昆明信息港")
    cited = reply.model_extra["sources"]
    assert cited == expected["citations"] and cited[0]["doc_id"] == SAMPLE.name
    blocks = sources.split("\n\n")  # one block per citation: title line, span line, quote line
    assert len(blocks) == len(cited)
    for c in cited:
        block = next(b for b in blocks if b.startswith(f"[{c['n']}] "))
        assert block.splitlines()[1:] == [f"    chars {c['start']}-{c['end']} (original {c['orig_start']}-{c['orig_end']})",
                                          f"    “{c['quote']}”"]


def test_streamed_completion_matches_plain(client):
    plain = client.chat.completions.create(model="policyqa", messages=[{"role": "user", "content": QUESTION}])
    chunks = list(client.chat.completions.create(
        model="policyqa", messages=[{"role": "user", "content": QUESTION}], stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.object == "chat.completion.chunk" and c.id == chunks[0].id for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])
    assert len(chunks) > 3
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert streamed == plain.choices[0].message.content
    assert chunks[-1].model_extra["sources"] == plain.model_extra["sources"]


def test_raw_event_stream(server):
    body = {"model": "policyqa", "stream": True, "messages": [{"role": "user", "content": "海南 零关税"}]}
    with httpx.stream("POST", f"{server[0]}/v1/chat/completions", json=body, timeout=30) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line for line in response.iter_lines() if line]
    assert all(line.startswith("data: ") for line in events)
    assert events[-1] == "data: [DONE]"
    first = json.loads(events[0][6:])
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert json.loads(events[-2][6:])["choices"][0] == {"index": 0, "delta": {}, "finish_reason": "stop"}


def test_content_parts_and_filters(client):
    reply = client.chat.completions.create(
        model="anything",
        messages=[{"role": "user", "content": [{"type": "text", "text": "零关税 政策"}]}],
        extra_body={"k": 1, "source": "海南"},
    )
    assert reply.model == "policyqa"
    assert [s["doc_id"] for s in reply.model_extra["sources"]] == ["hn/port"]


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"messages": []}, "'messages'"),
        ({"messages": [{"role": "system", "content": "hi"}]}, "no user message"),
        ({"messages": [{"role": "user", "content": "   "}]}, "no user message"),
        ({"messages": [{"role": "user", "content": "长" * 1001}]}, "longer than"),
        ({"messages": [{"role": "user", "content": "产业"}], "extra_body": {"k": 0}}, "'k'"),
        ({"messages": [{"role": "user", "content": "产业"}], "extra_body": {"k": 1000}}, "'k'"),
        ({"messages": [{"role": "user", "content": "产业"}], "extra_body": {"since": "soon"}}, "date filter"),
        ({"messages": "产业"}, "'messages'"),
    ],
)
def test_bad_requests_are_422_with_a_message(client, kwargs, needle):
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        client.chat.completions.create(model="policyqa", **kwargs)
    assert needle in caught.value.body["message"]
    assert needle in caught.value.response.json()["detail"]


def test_empty_index_is_409(server):
    empty = openai.OpenAI(base_url=f"{server[1]}/v1", api_key="x", max_retries=0, timeout=30)
    with pytest.raises(openai.ConflictError) as caught:
        empty.chat.completions.create(model="policyqa", messages=[{"role": "user", "content": "产业"}], stream=True)
    assert "POST /documents" in caught.value.response.json()["detail"]

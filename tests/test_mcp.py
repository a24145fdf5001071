"""MCP tools through the SDK's own client: over stdio (``policyqa mcp``) and streamable HTTP (``/mcp``)."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import pytest
from conftest import SAMPLE
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from api.http import create_app
from api.serve import running_server
from index.embedder import EmbedderSpec
from qa.engine import Engine

ROOT = Path(__file__).resolve().parents[1]
HASH = EmbedderSpec("hash", "256")
QUESTION = "昆明承接产业转移的核心承载区是哪里？"


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Engine:
    engine = Engine(tmp_path_factory.mktemp("mcp-data"), HASH)
    engine.ingest_paths([SAMPLE])
    return engine


async def exercise(client: Client) -> None:
    """List the tools and call each one, including the error cases."""
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == {"search", "ask", "get_document"}
    assert tools["search"].input_schema["properties"]["k"]["maximum"] == 100

    answer = await client.call_tool("ask", {"question": QUESTION, "k": 3})
    assert not answer.is_error
    data = answer.structured_content
    assert data["question"] == QUESTION and data["answer"] and data["citations"][0]["doc_id"] == SAMPLE.name
    assert '"citations"' in answer.content[0].text
    assert data["text"].startswith(data["answer"] + "\n\n")  # the answer, then its sources as the CLI prints them
    for c in data["citations"]:
        assert f"    chars {c['start']}-{c['end']} (original {c['orig_start']}-{c['orig_end']})\n    “{c['quote']}”" in data["text"]

    found = await client.call_tool("search", {"query": "磨憨 合作区", "k": 2, "since": "2025", "mode": "bm25"})
    hits = found.structured_content["hits"]
    assert not found.is_error and 1 <= len(hits) <= 2 and "磨憨" in hits[0]["text"]
    none = await client.call_tool("search", {"query": "磨憨", "until": "2020"})
    assert none.structured_content["hits"] == []

    doc = await client.call_tool("get_document", {"doc_id": SAMPLE.name, "max_chars": 40})
    assert doc.structured_content["truncated"] and len(doc.structured_content["text"]) == 40
    assert doc.structured_content["title"].startswith("抢抓机遇")

    for name, args, needle in [
        ("get_document", {"doc_id": "nope"}, "no document 'nope'"),
        ("search", {"query": "产业", "k": 0}, "k"),
        ("search", {"query": "产业", "since": "last week"}, "date filter"),
        ("ask", {"question": ""}, "question"),
    ]:
        result = await client.call_tool(name, args)
        assert result.is_error and needle in result.content[0].text, (name, result)


def test_stdio(engine):
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "api.cli", "--data-dir", str(engine.store.data_dir), "mcp"],
        cwd=str(ROOT),
        env={"PYTHONPATH": str(ROOT)},
    )

    async def main() -> None:
        with anyio.fail_after(120):
            async with Client(params) as client:
                await exercise(client)

    anyio.run(main)


def test_streamable_http(engine, tmp_path):
    empty = Engine(tmp_path / "empty", HASH)
    with running_server(create_app(engine)) as url, running_server(create_app(empty)) as empty_url:

        async def main() -> None:
            with anyio.fail_after(60):
                async with Client(f"{url}/mcp") as client:
                    await exercise(client)
                async with Client(f"{empty_url}/mcp") as client:
                    result = await client.call_tool("ask", {"question": "产业"})
                    assert result.is_error and "policyqa ingest" in result.content[0].text

        anyio.run(main)

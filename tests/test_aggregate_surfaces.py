"""Corpus-wide answers on every surface: CLI table and CSV, HTTP /ask items with mentions, chat items."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import httpx
import pytest

from api.cli import main
from api.http import create_app
from api.serve import running_server
from corpus.models import Article
from index.embedder import EmbedderSpec
from qa.engine import Engine

DEV = Path(__file__).resolve().parents[1] / "bench" / "aggregate_sets" / "dev" / "articles"
QUESTION = "哪些企业落地磨憨？"
ARTICLES = [
    Article("x1", "云岭星河新能源科技有限公司正式落户磨憨。寻甸特色产业园区引进了宏达钢构。", "甲", "2024-01-15", "测试"),
    Article("x2", "今年以来，磨憨招商成效明显。蓝湾物流、曙光医疗等12家企业相继入驻磨憨。", "乙", "2024-06-18", "测试"),
    Article("x3", "因市场原因，青松化工已撤出磨憨。", "丙", "2025-05-01", "测试"),
]


def test_cli_table_and_csv(hash_env, capsys):
    assert main(["ingest", str(DEV)]) == 0
    capsys.readouterr()
    assert main(["ask", QUESTION, "-k", "1"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("item"))
    assert header.split() == ["item", "status", "first_date", "last_date", "articles", "citations"]
    assert "青松化工" in out and "withdrawn" in out and "宏达钢构" not in out
    assert main(["ask", QUESTION, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["item"] for r in rows} >= {"蓝湾物流", "青松化工", "云岭星河新能源科技有限公司"}
    star = [r for r in rows if r["item"] == "云岭星河新能源科技有限公司"]
    assert {r["doc_id"] for r in star} >= {"a01.txt", "a03.txt", "a10.txt"}
    assert main(["ask", QUESTION, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["aggregate"]["n_items"] == len([i for i in answer["items"] if i["status"] not in ("planned", "withdrawn")])


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    engine = Engine(tmp_path_factory.mktemp("agg-http"), EmbedderSpec("hash", "64"))
    engine.ingest_items(ARTICLES)
    with running_server(create_app(engine, token="")) as base:
        yield base


def test_http_ask_returns_items_with_mentions(url):
    r = httpx.post(f"{url}/ask", json={"question": QUESTION, "k": 1}, timeout=60)
    assert r.status_code == 200, r.text
    body = r.json()
    items = {it["name"]: it for it in body["items"]}
    assert set(items) == {"云岭星河新能源科技有限公司", "蓝湾物流", "曙光医疗", "青松化工"}
    assert items["青松化工"]["status"] == "withdrawn"
    m = items["蓝湾物流"]["mentions"][0]
    assert m["doc_id"] == "x2" and body["citations"][m["citation"] - 1]["doc_id"] == "x2"
    assert body["aggregate"]["n_items"] == 3 and body["aggregate"]["truncated"] is False


def test_chat_lists_the_items_with_their_sources(url):
    r = httpx.post(f"{url}/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTION}]},
                   timeout=60)
    assert r.status_code == 200, r.text
    content = r.json()["choices"][0]["message"]["content"]
    assert "Items:\n- " in content and "青松化工 (withdrawn" in content and "Sources:" in content
    assert {it["name"] for it in r.json()["items"]} >= {"蓝湾物流"}


def test_mcp_ask_lists_the_items_with_their_mentions(url):
    import anyio
    from mcp import Client

    async def main() -> dict:
        with anyio.fail_after(60):
            async with Client(f"{url}/mcp") as client:
                result = await client.call_tool("ask", {"question": QUESTION, "k": 1})
                assert not result.is_error
                return result.structured_content

    data = anyio.run(main)
    items = {it["name"]: it for it in data["items"]}
    assert items["青松化工"]["status"] == "withdrawn" and data["aggregate"]["n_items"] == 3
    m = items["云岭星河新能源科技有限公司"]["mentions"][0]
    assert data["citations"][m["citation"] - 1]["doc_id"] == m["doc_id"] == "x1"

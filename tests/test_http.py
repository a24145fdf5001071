"""The HTTP API over a real loopback uvicorn server (and httpx's ASGI transport where a socket adds nothing)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import httpx
import pytest
from conftest import SAMPLE
from filelock import FileLock
from hypothesis import HealthCheck, given, settings

from api.http import create_app
from api.serve import running_server
from corpus.models import Article
from index.embedder import EmbedderSpec
from index.store import Store
from qa.engine import Engine

ROOT = Path(__file__).resolve().parents[1]
HASH = EmbedderSpec("hash", "256")
HIT_KEYS = {"doc_id", "chunk_id", "score", "title", "date", "source", "url", "text", "start", "end"}
CITATION_KEYS = {"n", "doc_id", "chunk_id", "title", "date", "source", "url", "quote", "start", "end",
                 "orig_start", "orig_end", "score"}

ARTICLES = [
    Article("gx/2024/energy", "广西壮族自治区加快建设新能源基地，推动风电和光伏项目落地。", "广西新能源基地建设",
            "2024-05-10", "广西日报", "https://news.example/gx/energy"),
    Article("yn/2023/tea", "云南省普洱市推进茶产业绿色发展，打造有机茶园。", "普洱茶产业绿色发展",
            "2023-09-01", "云南网", "https://news.example/yn/tea"),
]


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Engine:
    """A hash-embedder engine with the sample article and two short news items."""
    engine = Engine(tmp_path_factory.mktemp("http-data"), HASH)
    assert engine.ingest_paths([SAMPLE]).as_dict()["added"] == 1
    assert engine.ingest_items(ARTICLES).as_dict()["added"] == 2
    return engine


@pytest.fixture(scope="module")
def http(engine):
    """A client of a real uvicorn server on a free loopback port (stopped after the module)."""
    with running_server(create_app(engine, token="")) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def asgi_client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1", timeout=30)


def assert_error(response: httpx.Response, status: int) -> str:
    """The response is a JSON error with that status and a readable string detail."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail
    return detail


# ----- health, docs -----------------------------------------------------------------------------------------
def test_health(http, engine):
    body = http.get("/health").json()
    assert body["status"] == "ok"
    assert isinstance(body["model_loaded"], bool)
    assert body["documents"] >= 3 and body["chunks"] >= 3 and body["generation"] >= 2
    assert body["embedder"] == {"backend": "hash", "model": "256"}


def test_openapi_and_docs(http):
    paths = http.get("/openapi.json").json()["paths"]
    for path in ("/health", "/search", "/ask", "/documents", "/documents/{doc_id}", "/v1/chat/completions",
                 "/v1/models"):
        assert path in paths
    assert "post" in paths["/search"] and "get" in paths["/search"]
    assert "bearer" in json.dumps(http.get("/openapi.json").json()["components"]["securitySchemes"]).lower()
    docs = http.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_unknown_route_and_method_are_json(http):
    assert_error(http.get("/nope"), 404)
    assert_error(http.put("/search"), 405)


# ----- search -----------------------------------------------------------------------------------------------
def test_search_get_and_post_agree(http):
    got = http.get("/search", params={"q": "昆明 承接产业转移", "k": 3}).json()
    posted = http.post("/search", json={"query": "昆明 承接产业转移", "k": 3}).json()
    assert got["query"] == "昆明 承接产业转移"
    assert 1 <= len(got["hits"]) <= 3
    assert set(got["hits"][0]) >= HIT_KEYS
    assert got["hits"][0]["doc_id"] == SAMPLE.name
    assert got["hits"] == posted["hits"]
    assert "昆明" in got["terms"]


def test_search_filters(http):
    only_gx = http.get("/search", params={"q": "新能源 基地", "source": "广西", "k": 10}).json()["hits"]
    assert only_gx and {h["doc_id"] for h in only_gx} == {"gx/2024/energy"}
    in_2023 = http.post("/search", json={"query": "茶产业 绿色发展", "since": "2023", "until": "2023-12"}).json()["hits"]
    assert {h["doc_id"] for h in in_2023} == {"yn/2023/tea"}
    blank = http.get("/search", params={"q": "产业", "since": "", "source": ""})
    assert blank.status_code == 200 and blank.json()["hits"]
    bm25 = http.get("/search", params={"q": "普洱 茶", "mode": "bm25"}).json()["hits"]
    assert bm25[0]["doc_id"] == "yn/2023/tea"


@pytest.mark.parametrize(
    "params, needle",
    [
        ({"q": "产业", "k": 0}, "'k'"),
        ({"q": "产业", "k": 1000}, "'k'"),
        ({"q": "产业", "k": "ten"}, "'k'"),
        ({}, "'q'"),
        ({"q": ""}, "'q'"),
        ({"q": "长" * 1001}, "'q'"),
        ({"q": "产业", "mode": "fuzzy"}, "'mode'"),
        ({"q": "产业", "since": "2024/01"}, "date filter"),
        ({"q": "产业", "until": "last year"}, "date filter"),
    ],
)
def test_search_get_rejects_bad_input(http, params, needle):
    assert needle in assert_error(http.get("/search", params=params), 422)


@pytest.mark.parametrize(
    "body, needle",
    [
        ({}, "'query'"),
        ({"query": 42}, "'query'"),
        ({"query": "产业", "k": 0}, "'k'"),
        ({"query": "产业", "k": 101}, "'k'"),
        ({"query": "产业", "k": "ten"}, "'k'"),
        ({"query": "产业", "since": 2024}, "'since'"),
        ({"q": "产业"}, "'q'"),  # unknown field: most likely a typo
        ([1, 2], "request body"),
    ],
)
def test_search_post_rejects_bad_input(http, body, needle):
    assert needle in assert_error(http.post("/search", json=body), 422)


def test_bad_json_body(http):
    detail = assert_error(http.post("/search", content=b"{not json", headers={"content-type": "application/json"}),
                          422)
    assert "JSON" in detail
    surrogate = http.post("/documents", content=b'{"id": "x\\ud800", "content": "text"}')
    assert "surrogate" in assert_error(surrogate, 422)


# ----- ask --------------------------------------------------------------------------------------------------
def test_ask_cites_exact_spans(http):
    """The answer contract; whether the hash embedder's passages count as an answer is not the point here."""
    body = http.post("/ask", json={"question": "昆明承接产业转移的核心承载区是哪里？", "k": 3}).json()
    assert body["question"].startswith("昆明") and body["answer"] and isinstance(body["found"], bool)
    assert set(re.findall(r"\[(\d+)\]", body["answer"])) <= {"1", "2", "3"}
    assert body["citations"] and set(body["citations"][0]) >= CITATION_KEYS
    assert body["citations"][0]["doc_id"] == SAMPLE.name
    assert [c["n"] for c in body["citations"]] == list(range(1, len(body["citations"]) + 1))
    for c in body["citations"]:
        doc = http.get(f"/documents/{c['doc_id']}").json()
        assert doc["normalized"][c["start"]:c["end"]] == c["quote"]


@pytest.mark.parametrize(
    "body, needle",
    [
        ({}, "'question'"),
        ({"question": ""}, "'question'"),
        ({"question": ["产业"]}, "'question'"),
        ({"question": "产业", "k": 0}, "'k'"),
        ({"question": "产业", "k": 1000}, "'k'"),
        ({"question": "长" * 1001}, "'question'"),
        ({"question": "产业", "until": "May"}, "date filter"),
    ],
)
def test_ask_rejects_bad_input(http, body, needle):
    assert needle in assert_error(http.post("/ask", json=body), 422)


# ----- documents --------------------------------------------------------------------------------------------
def test_documents_lifecycle(http):
    total = http.get("/documents").json()["total"]
    doc = {"id": "km/2025/park", "title": "昆明 新建  数字经济产业园", "date": "2025年4月2日", "source": "昆明日报",
           "url": "https://news.example/km/park", "content": "昆明市呈贡区新建数字经济产业园，首批入驻企业三十家。"}
    first = http.post("/documents", json=doc).json()
    assert first["results"] == [{"doc_id": "km/2025/park", "status": "added"}] and first["added"] == 1
    hits = http.get("/search", params={"q": "呈贡 数字经济产业园", "k": 1}).json()["hits"]
    assert hits[0]["doc_id"] == "km/2025/park"  # a write is visible to the next search

    shown = http.get("/documents/km/2025/park").json()
    assert (shown["title"], shown["date"], shown["source"]) == ("昆明 新建 数字经济产业园", "2025-04-02", "昆明日报")
    encoded = http.get("/documents/km%2F2025%2Fpark")
    assert encoded.status_code == 200 and encoded.json()["doc_id"] == "km/2025/park"

    again = http.post("/documents", json=[doc]).json()["results"]
    assert again == [{"doc_id": "km/2025/park", "status": "unchanged"}]
    changed_text = doc["content"] + "园区计划年内扩建。"
    changed = http.post("/documents", json={**doc, "content": changed_text}).json()
    assert changed["results"][0]["status"] == "updated"
    twin = http.post("/documents", json={"_id": 7, "text": changed_text}).json()["results"][0]
    assert twin == {"doc_id": "7", "status": "duplicate", "duplicate_of": "km/2025/park"}
    by_url = http.post("/documents", json=[{"url": "https://news.example/x", "content": "柳州汽车产业链招商。"},
                                           {"url": "https://news.example/x", "content": "重复编号。"}]).json()
    assert [r["status"] for r in by_url["results"]] == ["added", "rejected"]
    assert "repeated" in by_url["results"][1]["reason"] and by_url["rejected"] == 1

    page = http.get("/documents", params={"limit": 2, "offset": 0}).json()
    assert page["total"] == total + 2 and page["limit"] == 2 and len(page["documents"]) == 2
    assert page["documents"][0]["doc_id"] == "km/2025/park"  # newest date first
    rest = http.get("/documents", params={"limit": 500, "offset": 2}).json()["documents"]
    assert len(rest) == total

    assert http.delete("/documents/km/2025/park").json() == {"doc_id": "km/2025/park", "deleted": True}
    assert http.delete("/documents/https://news.example/x").status_code == 200
    assert "no document" in assert_error(http.get("/documents/km/2025/park"), 404)
    assert_error(http.delete("/documents/km/2025/park"), 404)
    hits = http.get("/search", params={"q": "呈贡 数字经济产业园", "k": 5}).json()["hits"]
    assert "km/2025/park" not in {h["doc_id"] for h in hits}


def test_unknown_document(http):
    assert "no document 'missing/doc'" in assert_error(http.get("/documents/missing/doc"), 404)
    assert_error(http.delete("/documents/missing"), 404)


@pytest.mark.parametrize(
    "body, needle",
    [
        ({"id": "a"}, "'content'"),
        ({"id": "a", "content": "  "}, "'content': is empty"),
        ({"id": "a", "text": 42}, "'text'"),
        ({"id": True, "content": "正文"}, "'id'"),
        ({"_id": ["x"], "content": "正文"}, "'_id'"),
        ({"id": "a", "title": ["不是", "字符串"], "content": "正文"}, "'title'"),
        ({"id": "a", "date": "去年", "content": "正文"}, "'date'"),
        ({"id": "a", "date": "2025-02-30", "content": "正文"}, "'date'"),
        ({"title": "无编号", "content": "正文"}, "'id'"),
        ({"id": "", "content": "正文"}, "'id'"),
        ([], "empty"),
        (42, "JSON object"),
        ([{"id": "ok", "content": "正文"}, "text"], "document 1"),
    ],
)
def test_documents_reject_bad_records(http, body, needle):
    detail = assert_error(http.post("/documents", json=body), 422)
    assert needle in detail
    assert http.get("/documents/ok").status_code == 404  # a bad record fails the whole request


def test_documents_paging_bounds(http):
    assert_error(http.get("/documents", params={"limit": 0}), 422)
    assert_error(http.get("/documents", params={"limit": 501}), 422)
    assert_error(http.get("/documents", params={"offset": -1}), 422)


def test_body_size_cap(http):
    big = b'{"id": "big", "content": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    assert "limit" in assert_error(http.post("/documents", content=big), 413)


@pytest.mark.anyio
async def test_body_size_cap_without_content_length(engine):
    app = create_app(engine, token="", mcp=False, max_body_bytes=1000)

    async def chunks():
        for _ in range(5):
            yield b"x" * 400

    async with asgi_client(app) as client:
        assert_error(await client.post("/documents", content=chunks()), 413)
        assert_error(await client.post("/search", content=chunks()), 413)
        ok = await client.post("/search", json={"query": "产业"})
        assert ok.status_code == 200


# ----- auth -------------------------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_writes_need_the_token(engine, monkeypatch):
    monkeypatch.setenv("POLICYQA_API_TOKEN", "s3cret-令牌")
    app = create_app(engine, mcp=False)
    doc = {"id": "auth/1", "content": "北海市发展向海经济。"}
    async with asgi_client(app) as client:
        missing = await client.post("/documents", json=doc)
        assert "missing bearer token" in assert_error(missing, 401)
        assert missing.headers["www-authenticate"] == "Bearer"
        for header in ("Bearer wrong", "Basic s3cret", "Bearer "):
            assert_error(await client.post("/documents", json=doc, headers={"Authorization": header}), 401)
        assert_error(await client.delete("/documents/auth/1"), 401)
        good = {"Authorization": "Bearer s3cret-令牌".encode()}
        added = await client.post("/documents", json=doc, headers=good)
        assert added.status_code == 200 and added.json()["added"] == 1
        assert (await client.get("/documents/auth/1")).status_code == 200  # reads are open
        assert (await client.get("/search", params={"q": "向海经济"})).status_code == 200
        assert (await client.delete("/documents/auth/1", headers=good)).status_code == 200


# ----- empty data dir, busy writer, concurrency ---------------------------------------------------------------
@pytest.mark.anyio
async def test_empty_data_dir_is_409_until_something_is_added(hash_env):
    app = create_app(hash_env, mcp=False)
    async with asgi_client(app) as client:
        health = (await client.get("/health")).json()
        assert (health["documents"], health["chunks"], health["generation"]) == (0, 0, 0)
        detail = assert_error(await client.get("/search", params={"q": "产业"}), 409)
        assert "POST /documents" in detail and "policyqa ingest" in detail
        assert_error(await client.post("/ask", json={"question": "产业？"}), 409)
        added = await client.post("/documents", json={"id": "one", "content": "贵州大数据产业加快发展。"})
        assert added.json()["added"] == 1
        hits = (await client.get("/search", params={"q": "大数据"})).json()["hits"]
        assert hits[0]["doc_id"] == "one"
    assert Store(hash_env).spec == EmbedderSpec("hash", "256")  # created with POLICYQA_EMBEDDER=hash


@pytest.mark.anyio
async def test_busy_writer_is_503_with_retry_after(tmp_path):
    engine = Engine(tmp_path / "busy", HASH)
    engine.store.write = partial(Store.write, engine.store, lock_timeout=0.2)
    app = create_app(engine, token="", mcp=False)
    with FileLock(str(tmp_path / "busy" / "write.lock")):
        async with asgi_client(app) as client:
            busy = await client.post("/documents", json={"id": "b", "content": "海南自贸港政策。"})
    assert "busy" in assert_error(busy, 503)
    assert int(busy.headers["retry-after"]) > 0


def test_concurrent_reads_and_a_write(http):
    start = threading.Barrier(8)

    def query(i: int) -> int:
        start.wait(10)
        if i == 3:
            return http.post("/documents", json={"id": f"conc/{i}", "content": "钦州港扩建集装箱码头。"}).status_code
        return http.get("/search", params={"q": "产业 园区", "k": 5}).status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(query, range(8))) == [200] * 8
    assert http.get("/search", params={"q": "钦州港 集装箱", "k": 1}).json()["hits"][0]["doc_id"] == "conc/3"
    assert http.delete("/documents/conc/3").status_code == 200


# ----- the serve subcommand ---------------------------------------------------------------------------------
def test_serve_subcommand(engine, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = open(tmp_path / "serve.log", "w+b")  # noqa: SIM115 - closed below
    cmd = [sys.executable, "-m", "api.cli", "--data-dir", str(engine.store.data_dir), "serve", "--port", str(port),
           "--log-level", "warning"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.1)
        assert health.json()["documents"] >= 3
        assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
    assert proc.returncode == 0, (tmp_path / "serve.log").read_text()


# ----- the real model ---------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.anyio
async def test_real_model_answers_from_the_sample(real_engine_with_sample):
    app = create_app(real_engine_with_sample, mcp=False, warm_model=False)
    async with asgi_client(app) as client:
        answer = (await client.post("/ask", json={"question": "昆明承接产业转移的核心承载区是哪里？"})).json()
        health = (await client.get("/health")).json()
    assert health["model_loaded"] is True and health["embedder"]["backend"] != "hash"
    assert answer["found"] and answer["citations"][0]["doc_id"] == SAMPLE.name
    assert any("磨憨" in c["quote"] for c in answer["citations"])


# ----- fuzzing: no input makes a 500 ------------------------------------------------------------------------
def test_no_input_makes_a_server_error(tmp_path):
    import schemathesis
    from schemathesis.checks import not_a_server_error

    engine = Engine(tmp_path / "fuzz", HASH)
    engine.ingest_items(ARTICLES)
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(engine, token="", mcp=False))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck),
                  database=None)
        def check(case) -> None:
            case.call_and_validate(checks=[not_a_server_error])

        check()

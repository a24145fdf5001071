"""The network path against a real Milvus 2.3 standalone server (loopback only, see tests/milvus_server.py):
credentials, the server going away mid-ingest and coming back, and two ``policyqa serve`` processes on
one server, a write through one read through the other at once."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from index.backend import StoreConfig, StoreUnavailableError
from index.embedder import EmbedderSpec
from index.tokenizer import tokenize
from tests.backends import documents, require
from tests.milvus_server import TOKEN, MilvusServerProcess

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    reason = MilvusServerProcess.available()
    require(reason is None, reason or "")
    srv = MilvusServerProcess(tmp_path_factory.mktemp("milvus-server"))
    srv.start()
    yield srv
    srv.stop()


def _open(uri: str, prefix: str, token: str | None = TOKEN):
    from index.milvus import open_milvus_store

    return open_milvus_store(StoreConfig(kind="milvus", milvus_uri=uri, milvus_token=token, milvus_prefix=prefix,
                                         embedder=EmbedderSpec("hash", "64")))


def _env(server, tmp: Path, prefix: str) -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "POLICYQA_DATA": str(tmp / "data"), "POLICYQA_STORE": "milvus",
            "POLICYQA_MILVUS_URI": server.uri, "POLICYQA_MILVUS_TOKEN": TOKEN, "POLICYQA_MILVUS_PREFIX": prefix,
            "POLICYQA_EMBEDDER": "hash:64"}


def test_credentials_are_checked_and_never_shown(server):
    store = _open(server.uri, "auth")
    assert store.config["lexical"] == "postings"  # Milvus 2.3 holds no sparse vectors
    docs = documents(3)
    store.write(docs)
    assert store.stats()["documents"] == 3
    for token in ("root:not-the-password", None):
        with pytest.raises(StoreUnavailableError) as info:
            _open(server.uri, "auth", token)
        message = str(info.value)
        assert server.uri in message and "authentication refused" in message
        assert "not-the-password" not in message


def test_reads_of_more_rows_than_one_query_window_work_on_the_server(server, monkeypatch):
    """Past Milvus' 16,384-row query window a read goes slice by slice over the key range. The last slice
    was bounded by 2^63, which the server parses as INT64 and refuses ("value out of range"), so on a
    100,000-chunk corpus a search whose token held over 8,192 postings failed; milvus-lite accepts it."""
    import index.milvus.store as milvus_store

    store = _open(server.uri, "window")
    docs = documents(12)
    store.write(docs)
    monkeypatch.setattr(milvus_store, "QUERY_WINDOW", 8)  # slices of ~4 rows: the same path at any size
    rows = store.query_all(store.names.chunks, "id >= 0", ["chunk_id"])
    assert sorted(r["chunk_id"] for r in rows) == sorted(c.chunk_id for d in docs for c in d.chunks)


def test_a_read_point_sees_what_another_client_just_wrote(server):
    """Reads at one server timestamp (the view's read point) see every write acknowledged before it was
    taken, whichever client wrote: the guarantee Strong gave, with one wait for the time tick a view."""
    writer, reader = _open(server.uri, "point"), _open(server.uri, "point")
    first = reader.read_point()
    assert first.get("consistency_level") == "Customized"  # 2.3 has the timestamp call
    for n, doc in enumerate(documents(3, start=20), start=1):
        writer.write([doc])
        with reader.read() as view:  # at once, no retry
            assert view.at["guarantee_timestamp"] > first["guarantee_timestamp"]
            assert view.n_chunks == sum(len(d.chunks) for d in documents(n, start=20))
            assert reader.documents([doc.doc_id], view.at)[doc.doc_id]["normalized"] == doc.text
            _scores, keys = view.lexical(tokenize(doc.title), 5)
            assert doc.doc_id in {row.doc_id for row in view.chunks(keys).values()}


def _jsonl(path: Path, n: int) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for d in documents(n):
            f.write(json.dumps({"id": d.doc_id, "title": d.title, "date": d.date, "source": d.source,
                                "content": d.original}, ensure_ascii=False) + "\n")
    return path


def test_server_going_away_mid_ingest_then_resume(server, tmp_path):
    corpus = _jsonl(tmp_path / "news.jsonl", 40)
    env = {**_env(server, tmp_path, "resume"), "POLICYQA_BATCH_CHUNKS": "4"}
    store = _open(server.uri, "resume")
    cmd = [sys.executable, "-m", "api.cli", "ingest", str(corpus)]
    child = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while store.count(store.names.documents, "part == 0") == 0:
        assert time.monotonic() < deadline and child.poll() is None, "the ingest never committed a batch"
        time.sleep(0.05)
    server.kill_server()
    out, err = child.communicate(timeout=120)
    assert child.returncode == 4, err
    assert err.strip().count("\n") == 0 and server.uri in err and "Traceback" not in err
    assert TOKEN not in err
    server.start_server()
    rerun = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert rerun.returncode == 0, rerun.stderr
    store = _open(server.uri, "resume")
    expected = documents(40)
    assert store.stats()["documents"] == 40
    rows = store.query_all(store.names.chunks, "id >= 0", ["doc_id", "version"])
    assert len(rows) == sum(len(d.chunks) for d in expected)  # nothing twice
    heads = store.heads([d.doc_id for d in expected])
    assert all(heads[r["doc_id"]]["version"] == r["version"] for r in rows)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_OPEN_ONE = """
import sys
from index.backend import StoreConfig
from index.embedder import EmbedderSpec
from index.milvus import open_milvus_store
store = open_milvus_store(StoreConfig(kind="milvus", milvus_uri=sys.argv[1], milvus_token=sys.argv[2],
                                      milvus_prefix=sys.argv[3], embedder=EmbedderSpec("hash", "64")))
print(store.stats()["documents"])
"""


def test_processes_opening_one_new_corpus_at_once_all_open_it(server):
    """Several processes creating the same new collections at once (two servers started together on an
    empty Milvus): each one opens the corpus, none finds a collection another just made and not loaded."""
    prefix = "race"
    procs = [subprocess.Popen([sys.executable, "-c", _OPEN_ONE, server.uri, TOKEN, prefix], cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [p.communicate(timeout=180) for p in procs]
    for p, (out, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
        assert out.strip() == "0"
    store = _open(server.uri, prefix)
    assert store.stats()["documents"] == 0 and store.config["dim"] == 64


def test_two_servers_on_one_milvus_see_each_others_writes(server, tmp_path):
    procs, urls = [], []
    try:
        for n in range(2):
            port = _free_port()
            env = _env(server, tmp_path / f"s{n}", "shared")
            procs.append(subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)], env=env,
                                          cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
            urls.append(f"http://127.0.0.1:{port}")
        for url, proc in zip(urls, procs, strict=True):
            deadline = time.monotonic() + 90
            while True:
                assert proc.poll() is None, proc.stderr.read().decode()
                try:
                    if httpx.get(url + "/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        writer, reader = (httpx.Client(base_url=u, timeout=30) for u in urls)
        doc = documents(1, start=9)[0]
        body = {"id": "shared-1", "title": doc.title, "date": doc.date, "content": doc.original}
        assert writer.post("/documents", json=body).json()["results"][0]["status"] == "added"
        hits = reader.post("/search", json={"query": doc.title, "k": 3}).json()["hits"]  # at once, no retry
        assert hits and hits[0]["doc_id"] == "shared-1"
        assert reader.get("/documents/shared-1").json()["normalized"] == doc.text
        a = writer.post("/ask", json={"question": f"{doc.title}计划投资多少？", "k": 3}).json()
        b = reader.post("/ask", json={"question": f"{doc.title}计划投资多少？", "k": 3}).json()
        assert a["answer"] == b["answer"] and a["citations"] == b["citations"]
        assert reader.delete("/documents/shared-1").status_code == 200
        assert writer.get("/documents/shared-1").status_code == 404
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()

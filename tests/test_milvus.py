"""The Milvus backend on milvus-lite: BM25 equal to the embedded default's, interrupted writes that
re-run without duplicates, concurrent writers of one document, and bad configuration refused plainly."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

from corpus.prepare import prepare
from index.backend import StoreConfig, StoreUnavailableError
from index.embedder import EmbedderSpec
from index.tokenizer import tokenize
from tests.backends import HASH, article, documents, milvus_lite_missing, open_backend, require

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _needs_milvus_lite():
    missing = milvus_lite_missing()
    require(missing is None, missing or "")


def _rows(store, collection: str, expr: str = "id >= 0") -> list[dict]:
    return store.query_all(collection, expr, ["doc_id", "version"])


def _bm25(docs, query: list[str]) -> dict[str, float]:
    """BM25 (Lucene variant, k1 1.2, b 0.75) by the book, per chunk id."""
    chunks = [(c.chunk_id, tokenize(f"{d.title}\n{c.text}")) for d in docs for c in d.chunks]
    n = len(chunks)
    avgdl = sum(len(t) for _, t in chunks) / n
    df = Counter(t for _, toks in chunks for t in set(toks))
    out = {}
    for cid, toks in chunks:
        tf = Counter(toks)
        s = sum(
            math.log(1 + (n - df[q] + 0.5) / (df[q] + 0.5)) * tf[q] / (tf[q] + 1.2 * (0.25 + 0.75 * len(toks) / avgdl))
            for q in query if tf[q]
        )
        if s > 0:
            out[cid] = s
    return out


def test_bm25_scores_are_the_textbook_scores(tmp_path):
    store = open_backend("milvus", tmp_path)
    docs = documents(25)
    store.write(docs)
    query = tokenize("磨憨口岸经济项目投资") + ["推进"]
    expected = _bm25(docs, query)
    with store.read() as view:
        scores, keys = view.lexical(query, 10)
        rows = view.chunks(keys)
    got = {rows[int(k)].chunk_id: float(s) for s, k in zip(scores, keys, strict=True)}
    best = sorted(expected.items(), key=lambda kv: -kv[1])[:10]
    assert len(got) == 10
    for cid, s in best:
        assert got[cid] == pytest.approx(s, rel=1e-4)


def test_lexical_and_dense_agree_with_the_local_store(tmp_path):
    docs = documents(20)
    milvus = open_backend("milvus", tmp_path)
    local = open_backend("local", tmp_path)
    for s in (milvus, local):
        s.write(docs)
    query = tokenize("玉溪数字经济项目")
    qvec = milvus.embedder.encode_queries(["玉溪数字经济项目"])[0]
    results = []
    for s in (milvus, local):
        with s.read() as view:
            ls, lk = view.lexical(query, 10)
            ds, dk = view.dense(qvec, 10)
            rows = view.chunks([*lk, *dk])
            results.append(([rows[int(k)].chunk_id for k in lk], list(ls), [rows[int(k)].chunk_id for k in dk], list(ds)))
    (m_lex, m_ls, m_dense, m_ds), (l_lex, l_ls, l_dense, l_ds) = results
    assert m_lex == l_lex and m_ls == pytest.approx(l_ls, rel=1e-4)
    assert m_dense == l_dense and m_ds == pytest.approx(l_ds, abs=1e-5)


_WRITER = """
import sys
from corpus.prepare import prepare
from index.backend import StoreConfig
from index.embedder import EmbedderSpec
from index.milvus import open_milvus_store
from tests.backends import documents
store = open_milvus_store(StoreConfig(kind="milvus", milvus_uri=sys.argv[1], milvus_prefix="c",
                                      embedder=EmbedderSpec("hash", "64")))
store.write(documents(int(sys.argv[2]), sentences=int(sys.argv[3])))
"""


def _write_in_child(uri: str, n: int, sentences: int, crash_at: str | None) -> int:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if crash_at:
        env["POLICYQA_MILVUS_CRASH_AT"] = crash_at
    else:
        env.pop("POLICYQA_MILVUS_CRASH_AT", None)
    return subprocess.run([sys.executable, "-c", _WRITER, uri, str(n), str(sentences)], env=env, cwd=ROOT,
                          timeout=120).returncode


def test_rerunning_an_interrupted_write_never_duplicates(tmp_path):
    uri = str(tmp_path / "crash.db")
    assert _write_in_child(uri, 4, 3, None) == 0
    # Rewrite the same documents with other text; the writer dies before, then after, its commit marker.
    for crash_at, committed_sentences in (("before-commit", 3), ("after-commit", 5)):
        assert _write_in_child(uri, 4, 5 if crash_at == "before-commit" else 6, crash_at) == 137
        if crash_at == "after-commit":
            committed_sentences = 6
        store = open_backend("milvus", tmp_path, uri, prefix="c")
        committed = documents(4, sentences=committed_sentences)
        with store.read() as view:  # readers see exactly one whole version of each document
            keys, _ = view.term_candidates(["推进"], 1000)
            seen = Counter(r.doc_id for r in view.chunks(keys).values())
        assert seen == Counter({d.doc_id: len(d.chunks) for d in committed}), crash_at
        store.shutdown()
    assert _write_in_child(uri, 4, 5, None) == 0  # the re-run
    store = open_backend("milvus", tmp_path, uri, prefix="c")
    final = documents(4, sentences=5)
    chunks = _rows(store, store.names.chunks)
    assert len(chunks) == sum(len(d.chunks) for d in final)  # no leftovers of the killed versions
    assert len({r["version"] for r in chunks}) == 1
    assert store.stats()["documents"] == 4
    for d in final:
        assert store.get_document(d.doc_id)["normalized"] == d.text
    store.shutdown()


def test_concurrent_writers_of_one_document_last_writer_wins(tmp_path):
    uri = str(tmp_path / "race.db")
    a = open_backend("milvus", tmp_path, uri, prefix="r")
    b = open_backend("milvus", tmp_path, uri, prefix="r")  # its own write lock: writes interleave
    versions = [prepare(article(7, sentences=n)) for n in (2, 6)]
    for _round in range(4):
        barrier = threading.Barrier(2)
        errors = []

        def write(store, doc, barrier=barrier, errors=errors):
            try:
                barrier.wait()
                store.write([doc])
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=write, args=(s, d)) for s, d in ((a, versions[0]), (b, versions[1]))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors
        chunks = _rows(a, a.names.chunks)
        heads = a.heads([versions[0].doc_id])
        winner = heads[versions[0].doc_id]["version"]
        assert {r["version"] for r in chunks} == {winner}  # one version left, never both
        text = a.get_document(versions[0].doc_id)["normalized"]
        doc = next(d for d in versions if d.text == text)
        assert len(chunks) == len(doc.chunks)
        postings = _rows(a, a.names.postings)  # milvus-lite has sparse vectors: a corpus there keeps none
        assert not a.postings and postings == []
        a.write([], delete=[versions[0].doc_id])
        assert _rows(a, a.names.chunks) == []


def test_another_embedder_is_refused_and_nothing_is_touched(tmp_path):
    store = open_backend("milvus", tmp_path, prefix="e")
    store.write(documents(3))
    before = len(_rows(store, store.names.chunks))
    uri = store.location
    with pytest.raises(StoreUnavailableError, match=r"built with embedder .*hash.*64.*not.*128"):
        from index.milvus import open_milvus_store

        open_milvus_store(StoreConfig(kind="milvus", milvus_uri=uri, milvus_prefix="e",
                                      embedder=EmbedderSpec("hash", "128")))
    assert len(_rows(store, store.names.chunks)) == before


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("http://127.0.0.1:9", "unreachable (connection refused)"),
        ("https://127.0.0.1:9", "unreachable (connection refused)"),
        ("/no/such/folder/x.db", "folder /no/such/folder does not exist"),
        ("ftp://host/x", "a Milvus URI is http://host:port"),
        ("http://root:secret@127.0.0.1:9", "put credentials in POLICYQA_MILVUS_TOKEN"),
    ],
)
def test_bad_configuration_is_one_line_with_the_uri_and_reason(tmp_path, uri, reason):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "POLICYQA_DATA": str(tmp_path / "data"),
           "POLICYQA_MILVUS_TOKEN": "root:topsecret", "POLICYQA_EMBEDDER": "hash:64"}
    proc = subprocess.run([sys.executable, "-m", "api.cli", "--store", "milvus", "--milvus-uri", uri, "stats"],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 4, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and reason in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and "topsecret" not in proc.stderr + proc.stdout
    assert "secret" not in lines[0]
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").iterdir())


def test_a_milvus_lite_file_another_process_holds_is_one_line(tmp_path):
    """milvus-lite serves a file to one process. A second one got "Open local milvus failed" after a
    logged traceback; now one line says the file is in use, exit code 4."""
    uri = str(tmp_path / "held.db")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pymilvus import MilvusClient; c = MilvusClient(uri=sys.argv[1]); "
         "c.list_collections(); print('open', flush=True); time.sleep(120)", uri],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "POLICYQA_DATA": str(tmp_path / "data"),
               "POLICYQA_EMBEDDER": "hash:64"}
        proc = subprocess.run([sys.executable, "-m", "api.cli", "--store", "milvus", "--milvus-uri", uri, "stats"],
                              env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 4, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"policyqa: {uri}: the milvus-lite file is in use by another process (one process per file; use a server)"
    ]


def test_a_tls_failure_is_named(tmp_path):
    """A plain TCP listener that is not TLS: the handshake fails and the message says so."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def answer():
        try:
            conn, _ = listener.accept()
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
            conn.close()
        except OSError:
            pass

    threading.Thread(target=answer, daemon=True).start()
    uri = f"https://127.0.0.1:{listener.getsockname()[1]}"
    with pytest.raises(StoreUnavailableError, match="TLS failure") as info:
        open_backend("milvus", tmp_path, uri)
    assert uri in str(info.value)
    listener.close()


def test_hash_spec_is_recorded_and_reopened(tmp_path):
    store = open_backend("milvus", tmp_path, prefix="m")
    store.write(documents(1))
    from index.milvus import open_milvus_store

    again = open_milvus_store(StoreConfig(kind="milvus", milvus_uri=store.location, milvus_prefix="m"))
    assert again.spec == HASH and again.stats()["documents"] == 1


def test_the_client_library_is_imported_only_under_index():
    import re

    pattern = re.compile(r"^\s*(import|from)\s+(pymilvus|milvus_lite|milvus)\b", re.M)
    offenders = [str(p.relative_to(ROOT)) for layer in ("corpus", "qa", "api") for p in (ROOT / layer).rglob("*.py")
                 if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_term_statistics_equal_the_local_stores_through_adds_updates_deletes(tmp_path):
    milvus = open_backend("milvus", tmp_path, prefix="s")
    local = open_backend("local", tmp_path)
    steps = [
        (documents(8), []),
        (documents(3, start=2, sentences=6) + documents(2, start=8), []),  # updates and adds
        ([], ["doc001", "doc004", "doc009"]),  # deletes
        (documents(2, start=6) + documents(1, start=3, sentences=1), ["doc000"]),  # unchanged, update, delete
    ]
    seen: set[str] = set()

    def stats(store):
        with store.read() as view:
            return view.n_chunks, view.terms.prefetch(sorted(seen)), view.bridge.lookup("yuxi")

    for docs, gone in steps:
        for s in (milvus, local):
            s.write(docs, delete=gone)
        seen |= {t for d in docs for c in d.chunks for t in tokenize(f"{d.title}\n{c.text}")}
        assert stats(milvus) == stats(local)
    expected = stats(milvus)
    assert expected[1]["推进"] > 0 and any(v == 0 for v in expected[1].values()) and expected[2]
    milvus.repair()  # the exact recount from the chunk texts agrees with the maintained counts
    assert stats(milvus) == expected


def test_collections_of_an_older_schema_are_refused_in_one_line(tmp_path):
    store = open_backend("milvus", tmp_path, prefix="o")
    store.write(documents(1))
    store._set_meta({"schema": "1"})
    from index.milvus import open_milvus_store

    with pytest.raises(StoreUnavailableError, match=r"have schema 1 .*another --milvus-prefix") as info:
        open_milvus_store(StoreConfig(kind="milvus", milvus_uri=store.location, milvus_prefix="o"))
    assert "\n" not in str(info.value) and store.location in str(info.value)
    assert store.stats()["documents"] == 1


def test_collections_another_process_just_created_are_loaded_before_use(tmp_path, monkeypatch):
    """The interleaving behind two servers starting together on an empty Milvus: this process finds no
    collections to load, then another creates them (indexed, not yet loaded) before this one reads its
    meta. The open loads what it reads instead of failing with "collection not loaded"."""
    require(milvus_lite_missing() is None, milvus_lite_missing() or "")
    from index.milvus import schema
    from index.milvus.store import MilvusStore

    first = open_backend("milvus", tmp_path)  # only to reach the client and names of this uri and prefix
    client, names = first.client, first.names
    first.drop()
    original = MilvusStore._load

    def load_then_another_creates(self):
        original(self)
        schema.create_collections(client, names, 64, True)
        for name in names.all():
            client.release_collection(name)

    monkeypatch.setattr(MilvusStore, "_load", load_then_another_creates)
    store = open_backend("milvus", tmp_path)
    store.write(documents(2))
    assert store.stats()["documents"] == 2


def test_every_read_of_a_search_guarantees_the_views_one_read_point(tmp_path, monkeypatch):
    """A view takes one server timestamp and passes it to each of its reads, so the search waits for the
    server's time tick once, not once per read (2.4 s against 0.2 s a search on the 2.3 server). A read
    that forgot the point would read at the collection's Strong level: this finds any such read."""
    from qa.routes import answerer
    from qa.search import Searcher

    store = open_backend("milvus", tmp_path)
    store.write(documents(12))
    points = iter(range(1000, 2000))
    monkeypatch.setattr(store, "read_point",
                        lambda: {"consistency_level": "Customized", "guarantee_timestamp": next(points)})
    seen: list[tuple[str, object, object]] = []
    for name in ("query", "search"):
        original = getattr(store.client, name)

        def recording(*a, _original=original, _name=name, **k):
            seen.append((_name, k.get("consistency_level"), k.get("guarantee_timestamp")))
            return _original(*a, **k)

        monkeypatch.setattr(store.client, name, recording)
    searcher = Searcher(store)
    with store.read() as view:
        point = view.at["guarantee_timestamp"]
    seen.clear()
    hits = searcher.search("昆明磨憨口岸项目", k=5)
    assert hits
    assert {s[0] for s in seen} == {"query", "search"}
    assert {s[1:] for s in seen} == {("Customized", point + 1)}  # the search's own view: one point
    seen.clear()
    answer = answerer(searcher).ask("昆明磨憨口岸项目投资多少？")
    assert answer.citations
    assert seen and all(s[1] == "Customized" for s in seen)


def test_a_row_missing_a_field_is_refused_naming_the_collection(tmp_path):
    store = open_backend("milvus", tmp_path)
    with pytest.raises(ValueError, match=f"{store.names.terms}: rows lack fields"):
        store.columns.insert(store.names.terms, [{"id": 1, "token": "磨憨"}], 10, 5.0)
    assert store.count(store.names.terms) == 0


def test_milvus_lite_reads_log_no_server_tracebacks(tmp_path, caplog):
    """milvus-lite's in-process server has no timestamp call and logs a traceback at ERROR for each
    attempt; reads there stay at Strong and never ask, so a search leaves the log (and a user's stderr)
    clean."""
    import logging

    from qa.search import Searcher

    store = open_backend("milvus", tmp_path)
    store.write(documents(6))
    with caplog.at_level(logging.WARNING):
        assert Searcher(store).search("昆明磨憨口岸项目", k=3)
        store.write(documents(8))
    assert [r for r in caplog.records if r.name.startswith("grpc")] == []


def test_an_engine_search_takes_one_read_point(tmp_path, monkeypatch):
    """The empty-store check reads the search's own view, so a search waits for the server's time tick
    once: before, ``Engine`` asked ``stats()`` first, which took a read point (and a wait) of its own."""
    from qa.engine import Engine
    from qa.errors import NoDocumentsError

    store = open_backend("milvus", tmp_path)
    engine = Engine(store=store)
    with pytest.raises(NoDocumentsError):
        engine.search("昆明磨憨口岸项目")
    store.write(documents(6))
    taken: list[int] = []
    original = store.read_point
    monkeypatch.setattr(store, "read_point", lambda: taken.append(1) or original())
    assert engine.search("昆明磨憨口岸项目", k=3)
    assert len(taken) == 1


def test_a_milvus_lite_corpus_searches_its_vectors_exactly(tmp_path):
    """milvus-lite's HNSW never returned some chunks (6 of DuReader-robust's 2,090, whatever M), so a
    milvus-lite corpus gets a FLAT dense index: every chunk's own vector finds it first."""
    import numpy as np

    store = open_backend("milvus", tmp_path)
    store.write(documents(20))
    assert store.client.describe_index(store.names.chunks, "vector")["index_type"] == "FLAT"
    rows = store.query_all(store.names.chunks, "id >= 0", ["id", "vector"])
    with store.read() as view:
        for r in rows:
            _scores, keys = view.dense(np.asarray(r["vector"], np.float32), 1)
            assert keys.tolist() == [r["id"]]

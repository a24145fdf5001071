"""``policyqa migrate``: local -> Milvus (milvus-lite) -> local without re-embedding, verified; resumed
after a SIGKILL without duplicate chunks; refused with nothing touched when the target was built with
another embedder; a target holding other documents is merged by id, conflicts reported unless --replace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from corpus.prepare import prepare
from index.backend import EXIT_STORE_UNAVAILABLE, StoreConfig
from index.embedder import EmbedderSpec
from index.migrate import fingerprint, migrate
from index.stores import open_store
from tests.backends import HASH, article, milvus_lite_missing, require

ROOT = Path(__file__).resolve().parents[1]
N_DOCS = 16


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    missing = milvus_lite_missing()
    require(missing is None, missing or "")
    for name in ("POLICYQA_MILVUS_PREFIX", "POLICYQA_MILVUS_TOKEN", "POLICYQA_MILVUS_DB", "POLICYQA_STORE",
                 "POLICYQA_EMBEDDER", "POLICYQA_EMBED_RUNTIME", "POLICYQA_MIGRATE_KILL_AFTER",
                 "POLICYQA_MILVUS_CRASH_AT"):
        monkeypatch.delenv(name, raising=False)


def _corpus(n: int = N_DOCS, start: int = 0):
    """Documents with two chunks each, every other one from a known source file."""
    docs = []
    for i in range(start, start + n):
        extra = {"path": f"news/d{i}.txt", "source_path": f"/srv/news/d{i}.txt"} if i % 2 else {}
        docs.append(prepare(article(i, sentences=8, **extra)))
    return docs


def _local(path: Path, docs=(), spec=HASH):
    store = open_store(StoreConfig(kind="local", data_dir=path, embedder=spec))
    if docs:
        store.write(list(docs))
    return store


def _milvus(uri: Path, spec=HASH, prefix: str = "policyqa"):
    return open_store(StoreConfig(kind="milvus", milvus_uri=str(uri), milvus_prefix=prefix, embedder=spec))


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    from api.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _no_model(*_args, **_kwargs):
    raise AssertionError("a migration loaded an embedder")


def test_round_trip_through_milvus_gives_the_same_search_results_and_documents(tmp_path, capsys, monkeypatch):
    from qa.engine import Engine

    source = _local(tmp_path / "a", _corpus())
    for module in ("index.store", "index.milvus.store"):
        monkeypatch.setattr(f"{module}.create_embedder", _no_model)
    assert source.stats()["chunks"] > N_DOCS  # several chunks per document: chunk order matters
    db = tmp_path / "m.db"
    code, out, _ = _cli(capsys, "--data-dir", str(tmp_path / "a"), "migrate", "--to", "milvus", "--milvus-uri",
                        str(db), "--batch", "6", "--json")
    there = json.loads(out)
    assert code == 0 and there["verified"] and there["copied"] == N_DOCS and there["stray_chunks"] == 0
    assert there["target_chunks"] == source.stats()["chunks"]
    code, out, _ = _cli(capsys, "migrate", "--to", "local", "--milvus-uri", str(db), "--data-dir",
                        str(tmp_path / "c"), "--batch", "9")
    assert code == 0 and "verified: every document" in out
    back = open_store(StoreConfig(kind="local", data_dir=tmp_path / "c"))
    assert back.spec == HASH
    monkeypatch.undo()
    ids = source.document_ids()
    assert back.document_ids() == ids
    assert [fingerprint(d) for d in back.export(ids)] == [fingerprint(d) for d in source.export(ids)]
    engines = [Engine(tmp_path / "a"), Engine(tmp_path / "c")]
    for query in ("玉溪数字经济项目", "磨憨口岸经济", "昆明招商引资第7-3号项目"):
        for mode in ("hybrid", "bm25", "dense"):
            a, c = ([h.as_dict() for h in e.search(query, k=5, mode=mode)] for e in engines)
            assert a == c and len(a) >= 3
    for doc_id in ("doc001", "doc004", "doc013"):
        shown = [_cli(capsys, "--data-dir", str(tmp_path / d), "show", doc_id, *j)[1] for d in "ac" for j in ((), ("--json",))]
        assert shown[0] == shown[2] and shown[1] == shown[3]
    assert "file: /srv/news/d1.txt" in _cli(capsys, "--data-dir", str(tmp_path / "c"), "show", "doc001")[1]


def test_killed_migration_resumes_without_duplicate_chunks(tmp_path):
    _local(tmp_path / "a", _corpus())
    db = tmp_path / "m.db"
    cmd = [sys.executable, "-m", "api.cli", "--data-dir", str(tmp_path / "a"), "migrate", "--to", "milvus",
           "--milvus-uri", str(db), "--batch", "5", "--json"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # 1. SIGKILL after the second batch's write; 2. a resumed run killed inside the next batch's write,
    # after its chunk rows and before its commit markers (uncommitted rows left behind).
    log = tmp_path / "child.log"

    def run(**extra: str) -> int:  # output to a file: milvus-lite's server process outlives a killed client
        with open(log, "w") as out:
            return subprocess.run(cmd, env={**env, **extra}, stdout=out, stderr=out, timeout=120).returncode

    assert run(POLICYQA_MIGRATE_KILL_AFTER="2") == -9, log.read_text()
    assert run(POLICYQA_MILVUS_CRASH_AT="before-commit") == 137, log.read_text()
    target = _milvus(db)
    assert target.stats()["documents"] == 10  # two batches committed
    assert target.stats()["chunks"] > sum(d["chunks"] for d in target.list_documents())  # uncommitted rows
    source = open_store(StoreConfig(kind="local", data_dir=tmp_path / "a"))
    report = migrate(source, target, batch_docs=5)
    assert report.verified, report.problems
    assert (report.already, report.copied, report.stray_chunks) == (10, N_DOCS - 10, 0)
    rows = target.query_all(target.names.chunks, "id >= 0", ["chunk_id"])
    assert len(rows) == len({r["chunk_id"] for r in rows}) == source.stats()["chunks"]
    again = migrate(source, target, batch_docs=5)
    assert again.verified and (again.already, again.copied) == (N_DOCS, 0)


def test_target_built_with_another_embedder_is_refused_with_nothing_touched(tmp_path, capsys):
    _local(tmp_path / "a", _corpus(5))
    other = EmbedderSpec("hash", "32")
    db = tmp_path / "m.db"
    target = _milvus(db, other)
    target.write(_corpus(2, start=40))
    before = (target.document_ids(), target.stats()["chunks"])
    target.shutdown()
    code, out, err = _cli(capsys, "--data-dir", str(tmp_path / "a"), "migrate", "--to", "milvus", "--milvus-uri",
                          str(db))
    assert code == EXIT_STORE_UNAVAILABLE and out == ""
    assert len(err.strip().splitlines()) == 1 and "embedder" in err and str(db) in err
    target = _milvus(db, other)
    assert (target.document_ids(), target.stats()["chunks"]) == before
    local = _local(tmp_path / "b", _corpus(2, start=40), other)
    code, _out, err = _cli(capsys, "migrate", "--to", "local", "--data-dir", str(tmp_path / "b"), "--milvus-uri",
                           str(db))  # the source is the 32-d corpus now; the local 32-d target matches
    assert code == 0
    code, _out, err = _cli(capsys, "migrate", "--to", "local", "--data-dir", str(tmp_path / "a"), "--milvus-uri",
                           str(db))
    assert code == EXIT_STORE_UNAVAILABLE and "hash:32" in err and "hash:64" in err
    assert open_store(StoreConfig(kind="local", data_dir=tmp_path / "a")).stats()["documents"] == 5
    assert local.stats()["documents"] == 2


def test_target_with_other_documents_is_merged_by_id_and_conflicts_need_replace(tmp_path, capsys):
    from tests.memory_backend import MemoryStore

    source = MemoryStore(HASH)  # any backend is a source: the copy runs on the store interface alone
    source.write(_corpus(10))
    target = _local(tmp_path / "t")
    changed = prepare(article(7, doc_id="doc007", text="另一篇文章，讲的是别的事情。" * 5))
    twin = prepare(article(3, doc_id="copy-of-3", sentences=8))  # doc003's text under another id
    target.write([*_corpus(1, start=5), changed, twin, *_corpus(1, start=12)])
    report = migrate(source, target, batch_docs=4)
    assert not report.verified
    assert report.already == 1 and report.copied == 7  # doc005 was there; doc003 and doc007 were not copied
    assert [d for d, _why in report.conflicts] == ["doc007"]
    assert report.duplicates == [("doc003", "copy-of-3")]
    assert target.get_document("doc007")["normalized"] == changed.text  # the target's kept
    assert "doc012" in target.document_ids()
    target.write([], delete=["copy-of-3"])
    report = migrate(source, target, batch_docs=4, replace_conflicts=True)
    assert report.verified, report.problems
    assert report.replaced == ["doc007"] and report.copied == 2 and report.already == 8
    assert target.get_document("doc007")["normalized"] == source.get_document("doc007")["normalized"]
    assert set(target.document_ids()) == {*source.document_ids(), "doc012"}

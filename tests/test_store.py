"""The data directory: idempotent re-ingest, updates, deletes, duplicates, generations, recovery."""

from __future__ import annotations

import json

import numpy as np
import pytest

from corpus.models import Article
from index import catalog, generations
from index.embedder import EmbedderSpec
from index.ingest import ingest_items
from index.store import Store, StoreError

HASH = EmbedderSpec("hash", "64")


def art(doc_id: str, text: str, **kw) -> Article:
    return Article(doc_id=doc_id, text=text, title=kw.pop("title", doc_id), **kw)


def texts(n: int) -> list[Article]:
    return [art(f"d{i}", f"第{i}篇文章。昆明市推进第{i}个产业园区建设，投资{i}亿元。") for i in range(n)]


def consistent(store: Store) -> None:
    """FAISS ids, BM25 ids and SQLite chunk rows agree; CURRENT names a sealed generation."""
    with store.read() as (conn, gen):
        rows = [r[0] for r in conn.execute("SELECT id FROM chunks ORDER BY id")]
        assert sorted(gen.lexical.ids.tolist()) == rows
        assert len(gen.vectors) == len(rows)
        number = catalog.generation(conn)
    if number:
        assert generations.read_current(store.data_dir) == number
        assert generations.is_complete(generations.gen_dir(store.data_dir, number))


def test_reingest_unchanged_is_a_noop(tmp_path):
    store = Store(tmp_path, HASH)
    first = ingest_items(store, texts(3)).as_dict()
    assert first["added"] == 3
    gen = store.stats()["generation"]
    again = ingest_items(store, texts(3)).as_dict()
    assert again["unchanged"] == 3 and again["added"] == 0
    assert store.stats()["generation"] == gen
    consistent(store)


def test_changed_document_replaces_its_chunks(tmp_path):
    store = Store(tmp_path, HASH)
    ingest_items(store, texts(2))
    before = store.stats()["chunks"]
    report = ingest_items(store, [art("d0", "完全不同的内容。磨憨口岸建设加快推进。")]).as_dict()
    assert report["updated"] == 1
    conn = store._conn()
    chunk_texts = [r[0] for r in conn.execute("SELECT text FROM chunks WHERE doc_id = 'd0'")]
    assert chunk_texts == ["完全不同的内容。磨憨口岸建设加快推进。"]
    assert store.stats()["chunks"] == before
    consistent(store)


def test_identical_text_under_another_id_is_a_duplicate(tmp_path):
    store = Store(tmp_path, HASH)
    ingest_items(store, texts(1))
    copy = art("copy", texts(1)[0].text, title="another title")
    report = ingest_items(store, [copy])
    assert report.result.duplicates == [("copy", "d0")]
    assert store.get_document("copy") is None


def test_delete_removes_document_and_chunks(tmp_path):
    store = Store(tmp_path, HASH)
    ingest_items(store, texts(3))
    result = store.write([], delete=["d1", "missing"])
    assert result.deleted == ["d1"]
    assert store.get_document("d1") is None
    assert store.stats()["documents"] == 2
    consistent(store)


def test_offsets_and_original_are_stored(tmp_path):
    store = Store(tmp_path, HASH)
    ingest_items(store, [art("t", "機(jī)遇與挑戰(zhàn)並存。")])
    doc = store.get_document("t")
    assert doc["normalized"] == "机遇与挑战并存。"
    offsets = store.offsets("t")
    i = doc["normalized"].index("挑战")
    assert doc["original"][offsets[i] : offsets[i + 1] + 1] == "挑戰"
    assert doc["original"][offsets[0] : offsets[i + 1] + 1] == "機(jī)遇與挑戰"


def test_reopen_sees_committed_state(tmp_path):
    ingest_items(Store(tmp_path, HASH), texts(4))
    store = Store(tmp_path)
    assert store.stats()["documents"] == 4
    consistent(store)


def test_other_embedder_on_existing_dir_is_refused(tmp_path):
    Store(tmp_path, HASH)
    with pytest.raises(StoreError, match="built with embedder"):
        Store(tmp_path, EmbedderSpec("hash", "128"))


def test_unsealed_generation_is_rebuilt_on_open(tmp_path):
    store = Store(tmp_path, HASH)
    ingest_items(store, texts(3))
    number = store.stats()["generation"]
    directory = generations.gen_dir(tmp_path, number)
    (directory / generations.DONE).unlink()
    (directory / "vectors.faiss").write_bytes(b"torn")
    reopened = Store(tmp_path)
    assert generations.is_complete(directory)
    consistent(reopened)


def test_commit_interrupted_before_current_switch_is_completed(tmp_path):
    store = Store(tmp_path, HASH)
    ingest_items(store, texts(2))
    ingest_items(store, texts(5))
    number = store.stats()["generation"]
    generations.write_current(tmp_path, number - 1)  # as if killed right after the catalog commit
    reopened = Store(tmp_path)
    assert generations.read_current(tmp_path) == number
    consistent(reopened)


def test_orphan_generation_dirs_are_pruned(tmp_path):
    store = Store(tmp_path, HASH)
    ingest_items(store, texts(2))
    orphan = generations.gen_dir(tmp_path, 99)
    orphan.mkdir(parents=True)
    (orphan / "junk").write_text("x")
    ingest_items(store, texts(3))
    names = sorted(p.name for p in (tmp_path / "generations").iterdir())
    assert len(names) <= 2 and orphan.name not in names


def test_no_pickles_only_faiss_sqlite_npy_json(tmp_path):
    store = Store(tmp_path, HASH)
    ingest_items(store, texts(3))
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert path.suffix in {".faiss", ".sqlite", ".npy", ".json", ".lock", ""} or path.name.startswith(
                "catalog.sqlite"
            ), path
            if path.suffix == ".npy":
                np.load(path, allow_pickle=False)
            if path.suffix == ".json":
                json.loads(path.read_text(encoding="utf-8"))

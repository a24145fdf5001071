"""The data directory: idempotent re-ingest, updates, deletes, duplicates, segments, merges, recovery."""

from __future__ import annotations

import json

import numpy as np
import pytest

from corpus.models import Article
from corpus.prepare import prepare
from index import catalog, segments
from index.backend import Filter, StoreConfig
from index.embedder import EmbedderSpec
from index.ingest import ingest_items
from index.store import Store, StoreError
from index.stores import BACKENDS, open_store

HASH = EmbedderSpec("hash", "64")


def art(doc_id: str, text: str, **kw) -> Article:
    return Article(doc_id=doc_id, text=text, title=kw.pop("title", doc_id), **kw)


def texts(n: int, start: int = 0) -> list[Article]:
    return [art(f"d{i}", f"第{i}篇文章。昆明市推进第{i}个产业园区建设，投资{i}亿元。") for i in range(start, start + n)]


def consistent(store: Store) -> None:
    """Every chunk row is live in exactly one published, sealed segment; nothing else is live."""
    with store.read() as view:
        conn = view._conn
        rows = {r[0]: r[1] for r in conn.execute("SELECT id, segment FROM chunks")}
        live: dict[int, int] = {}
        for seg, mask in view.segments:
            assert segments.is_sealed(seg.directory)
            ids = np.asarray(seg.arrays.ids)
            for key in (ids if mask is None else ids[mask]).tolist():
                assert key not in live, f"chunk {key} live in two segments"
                live[key] = seg.id
        assert live == rows
        assert view.n_chunks == len(rows)


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
    chunk_texts = [r[0] for r in store._conn().execute("SELECT text FROM chunks WHERE doc_id = 'd0'")]
    assert chunk_texts == ["完全不同的内容。磨憨口岸建设加快推进。"]
    assert store.stats()["chunks"] == before
    consistent(store)
    with store.read() as view:
        _s, keys = view.lexical(["投资"], 10)
        assert {r.doc_id for r in view.chunks(keys).values()} == {"d1"}  # the old d0 text is tombstoned


def test_identical_text_under_another_id_is_a_duplicate(tmp_path):
    store = Store(tmp_path, HASH)
    ingest_items(store, texts(1))
    copy = art("copy", texts(1)[0].text, title="another title")
    report = ingest_items(store, [copy])
    assert report.result.duplicates == [("copy", "d0")]
    assert store.get_document("copy") is None


def test_same_id_from_another_source_file_is_a_conflict_unless_replaced(tmp_path):
    store = Store(tmp_path, HASH)
    first = prepare(art("x", "最初的文本。", path="a.txt"))
    first.source_path = "/in/a.txt"
    store.write([first])
    other = prepare(art("x", "另一个文件的文本。", path="b.txt"))
    other.source_path = "/in/b.txt"
    assert store.write([other]).conflicts == [("x", "/in/a.txt", "/in/b.txt")]
    assert store.get_document("x")["normalized"] == "最初的文本。"
    assert store.write([other], replace=True).updated == ["x"]
    assert store.get_document("x")["source_path"] == "/in/b.txt"


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
    with store.read() as view:
        offsets = view.offsets(["t"])["t"]
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


def test_one_segment_per_commit_then_tiered_merges(tmp_path):
    store = Store(tmp_path, HASH, merge_factor=3)
    for i in range(8):
        ingest_items(store, texts(1, start=i))
        consistent(store)
    sizes = sorted(n - d for _s, n, d in catalog.manifest(store._conn()))
    assert sum(sizes) == 8 and len(sizes) < 8  # merges ran
    assert all(sizes.count(s) < 3 for s in set(sizes))  # no size class left with a full group
    store.write([], delete=[f"d{i}" for i in range(6)])
    consistent(store)
    with store.lock:
        store.merge(force=True)
    assert len(catalog.manifest(store._conn())) == 1
    consistent(store)
    assert not catalog.tombstones(store._conn(), catalog.manifest(store._conn())[0][0]).size


def test_a_commit_writes_only_its_batch(tmp_path):
    store = Store(tmp_path, HASH, merge_factor=100)
    ingest_items(store, texts(20))
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "segments").rglob("*.npy")}
    ingest_items(store, texts(1, start=50))
    after = {p: p.stat().st_mtime_ns for p in (tmp_path / "segments").rglob("*.npy")}
    assert all(after[p] == t for p, t in before.items())  # old segments untouched
    new = {p.parent for p in set(after) - set(before)}
    assert len(new) == 1 and int(np.load(next(iter(new)) / "ids.npy").size) == 1


def test_unpublished_segment_and_temp_files_are_removed_on_open(tmp_path):
    store = Store(tmp_path, HASH)
    ingest_items(store, texts(2))
    orphan = segments.seg_dir(tmp_path, 99)
    orphan.mkdir(parents=True)
    (orphan / "ids.npy").write_bytes(b"torn")
    (tmp_path / ".config.json.123.tmp").write_text("x")
    reopened = Store(tmp_path)
    assert not orphan.exists() and not (tmp_path / ".config.json.123.tmp").exists()
    consistent(reopened)


def test_a_published_segment_that_vanished_is_a_clear_error(tmp_path):
    store = Store(tmp_path, HASH)
    ingest_items(store, texts(2))
    [(seg, _n, _d)] = catalog.manifest(store._conn())
    (segments.seg_dir(tmp_path, seg) / segments.DONE).unlink()
    with pytest.raises(StoreError, match="published segment is missing"):
        Store(tmp_path).recover()


def test_vectors_are_stored_once_in_segments(tmp_path):
    store = Store(tmp_path, HASH)
    ingest_items(store, texts(3))
    cols = [r[1] for r in store._conn().execute("PRAGMA table_info(chunks)")]
    assert "embedding" not in cols
    with store.read() as view:
        [(seg, _mask)] = view.segments
        vec = np.asarray(seg.arrays.vectors[0])
        _scores, keys = view.dense(vec, 1)
        assert keys.tolist() == [int(seg.arrays.ids[0])]


def test_filters_push_down_per_segment(tmp_path):
    store = Store(tmp_path, HASH, merge_factor=100)
    for i in range(6):
        a = art(f"f{i}", f"磨憨口岸第{i}期建设。", date=f"2024-0{i + 1}-15", source="云南网" if i % 2 else "昆明日报")
        ingest_items(store, [a])
    with store.read() as view:
        q = np.ones(64, np.float32)
        _s, keys = view.dense(q, 10, Filter(since="2024-02-01", until="2024-04-99"))
        assert sorted(r.date for r in view.chunks(keys).values()) == ["2024-02-15", "2024-03-15", "2024-04-15"]
        _s, keys = view.lexical(["磨憨"], 10, Filter(source="云南"))
        assert {r.source for r in view.chunks(keys).values()} == {"云南网"} and len(keys) == 3
        keys, cut = view.term_candidates(["磨憨"], 2, Filter(source="昆明"))
        assert cut and len(keys) == 2


def test_approximate_index_above_the_threshold_honours_deletes(tmp_path, monkeypatch):
    monkeypatch.setattr(segments, "FLAT_FILTER_MAX", 50)  # searches of this small segment go through IVF
    store = Store(tmp_path, HASH, ann_min=200, merge_factor=100)
    arts = [art(f"a{i}", f"第{i}号公告：项目{i * 7919 % 1000}落地，编号{i}。") for i in range(400)]
    ingest_items(store, arts)
    with store.read() as view:
        [(seg, _m)] = view.segments
        assert seg.ann is not None  # one commit of 400 chunks: over the threshold
        target = np.asarray(seg.arrays.vectors[10])
        _s, keys = view.dense(target, 5)
        assert int(seg.arrays.ids[10]) in keys.tolist()
    doc = view.chunks([int(seg.arrays.ids[10])])[int(seg.arrays.ids[10])].doc_id
    store.write([], delete=[doc])
    with store.read() as view:
        _s, keys = view.dense(target, 5)
        assert int(seg.arrays.ids[10]) not in keys.tolist() and len(keys) == 5



def test_ivf_segments_searched_side_by_side_rank_as_one_after_another(tmp_path, monkeypatch):
    from index import store as store_mod

    monkeypatch.setattr(segments, "FLAT_FILTER_MAX", 20)  # these small segments are searched through IVF
    store = Store(tmp_path, HASH, ann_min=100, merge_factor=100)
    for batch in range(3):  # three commits: three segments, each with its IVF index
        ingest_items(store, [art(f"b{batch}-{i}", f"第{batch}批第{i}号公告：项目{i * 7919 % 1000}落地。")
                             for i in range(120)])
    real_pool, pools = store_mod._search_pool, []
    with store.read() as view:
        assert sum(seg.ann is not None for seg, _m in view.segments) == 3
        queries = [np.asarray(seg.arrays.vectors[7]) for seg, _m in view.segments]
        monkeypatch.setattr(store_mod, "_search_pool", lambda: None)
        alone = [view.dense(q, 10) for q in queries]
        monkeypatch.setenv("POLICYQA_SEARCH_THREADS", "2")
        monkeypatch.setattr(store_mod, "_pool", None)
        monkeypatch.setattr(store_mod, "_search_pool", lambda: pools.append(real_pool()) or pools[-1])
        pooled = [view.dense(q, 10) for q in queries]
    assert pools and all(p is not None for p in pools)
    for (s1, k1), (s2, k2) in zip(alone, pooled, strict=True):
        assert k1.tolist() == k2.tolist() and s1.tolist() == s2.tolist() and len(k1) == 10

def test_open_store_by_kind(tmp_path):
    store = open_store(StoreConfig(kind="local", data_dir=tmp_path, embedder=HASH))
    assert isinstance(store, Store) and "local" in BACKENDS
    with pytest.raises(StoreError, match="unknown store kind"):
        open_store(StoreConfig(kind="nope"))


def test_no_pickles_only_sqlite_npy_json_faiss(tmp_path):
    store = Store(tmp_path, HASH, ann_min=5)
    ingest_items(store, texts(6))
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert path.suffix in {".faiss", ".sqlite", ".npy", ".json", ".lock", ""} or path.name.startswith(
                "catalog.sqlite"
            ), path
            if path.suffix == ".npy":
                np.load(path, allow_pickle=False)
            if path.suffix == ".json" or path.name == segments.DONE:
                json.loads(path.read_text(encoding="utf-8"))


def test_fast_romanization_reads_as_pypinyin_does():
    import re

    from pypinyin import Style, lazy_pinyin

    from index.pinyin_bridge import romanize
    from index.tokenizer import tokenize
    from tests.conftest import SAMPLE

    tokens = set(tokenize(SAMPLE.read_text(encoding="utf-8"))) | {"银行", "行走", "重庆", "重量", "磨憨", "长江"}
    for t in tokens:
        want = None
        if re.fullmatch(r"[\u3400-\u4dbf\u4e00-\u9fff]{2,6}", t):
            slow = "".join(lazy_pinyin(t, style=Style.NORMAL, errors="ignore")).replace("ü", "v")
            want = slow if len(slow) >= 4 and slow.isascii() else None
        assert romanize(t) == want, t

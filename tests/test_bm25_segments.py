"""BM25 over segments equals a fresh full build (bm25s, Lucene variant) after any adds, updates,
deletes and merges: corpus-global statistics, tombstones honoured, only the query's postings scored."""

from __future__ import annotations

import json
import logging

import bm25s
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus.models import Article
from corpus.prepare import prepare
from index.embedder import EmbedderSpec
from index.store import Store

WORDS = "昆明 磨憨 口岸 园区 投资 企业 签约 物流 跨境 电商 能源 电池 医药 数字 农业 文旅 通关 项目 建设 推进".split()
QUERIES = [["磨憨", "口岸"], ["投资", "企业", "企业"], ["能源"], ["数字", "农业", "通关", "建设"], ["未知词"]]
HASH = EmbedderSpec("hash", "32")

doc_text = st.lists(st.sampled_from(WORDS), min_size=1, max_size=12).map(lambda ws: "，".join(ws) + "。")
op = st.one_of(
    st.tuples(st.just("put"), st.integers(0, 7), doc_text),  # add, or update when the id exists
    st.tuples(st.just("delete"), st.integers(0, 7), st.just("")),
    st.tuples(st.just("merge"), st.just(0), st.just("")),
)


def reference(store: Store) -> tuple[list[int], bm25s.BM25]:
    """A fresh bm25s index over the live chunks' tokens (the catalog is the source of truth)."""
    rows = list(store._conn().execute("SELECT id, tokens FROM chunks ORDER BY id"))
    logging.getLogger("bm25s").setLevel(logging.ERROR)
    retriever = bm25s.BM25(k1=1.2, b=0.75)
    retriever.index([json.loads(r[1]) or [""] for r in rows], show_progress=False)
    return [r[0] for r in rows], retriever


def check_scores(store: Store) -> None:
    if not store.stats()["chunks"]:
        with store.read() as view:
            assert all(len(view.lexical(q, 10)[1]) == 0 for q in QUERIES)
        return
    keys, retriever = reference(store)
    vocab = set(retriever.vocab_dict)
    with store.read() as view:
        for q in QUERIES:
            scores, got = view.lexical(q, 1000)
            known = [t for t in q if t in vocab]
            want = np.asarray(retriever.get_scores(known), np.float64) if known else np.zeros(len(keys))
            expected = {k: s for k, s in zip(keys, want, strict=True) if s > 0}
            assert set(got.tolist()) == set(expected), q
            for k, s in zip(got.tolist(), scores.tolist(), strict=True):
                assert abs(s - expected[k]) <= 1e-4 * abs(expected[k]), (q, k, s, expected[k])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(op, min_size=1, max_size=10))
def test_scores_equal_a_fresh_full_build(tmp_path_factory, ops):
    store = Store(tmp_path_factory.mktemp("bm25"), HASH, merge_factor=3)
    version = 0
    for kind, n, text in ops:
        if kind == "put":
            version += 1
            store.write([prepare(Article(doc_id=f"d{n}", title="", text=f"{text}第{version}版。"))])
        elif kind == "delete":
            store.write([], delete=[f"d{n}"])
        else:
            with store.lock:
                store.merge(force=True)
        check_scores(store)
    store.close()


def test_a_query_reads_only_its_terms_postings(tmp_path, monkeypatch):
    store = Store(tmp_path, HASH)
    store.write([prepare(Article(doc_id=f"d{i}", title="", text="，".join(WORDS[i:i + 5]) + "。")) for i in range(10)])
    from index import segments

    read: list[int] = []
    real = segments.Segment.postings

    def counting(self, h):
        pos, tf = real(self, h)
        read.append(len(pos))
        return pos, tf

    monkeypatch.setattr(segments.Segment, "postings", counting)
    with store.read() as view:
        view.lexical(["签约"], 10)
    assert read == [5]  # one token, one segment: exactly the 5 chunks that hold it

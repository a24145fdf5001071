"""The store interface (index.backend) behaves the same on every backend: the local data directory and
Milvus (through milvus-lite, in-process)."""

from __future__ import annotations

import numpy as np
import pytest

from corpus.prepare import prepare
from index.backend import Filter
from index.tokenizer import tokenize
from tests.backends import article, documents, empty_milvus, open_backend


@pytest.fixture(scope="module")
def milvus_store(tmp_path_factory):
    """One set of milvus-lite collections for the module (creating them costs seconds), emptied per test."""
    s = open_backend("milvus", tmp_path_factory.mktemp("lite"), prefix="b")
    yield s
    s.drop()


@pytest.fixture(params=["local", "milvus"])
def store(request, tmp_path):
    if request.param == "milvus":
        s = request.getfixturevalue("milvus_store")
        empty_milvus(s)
    else:
        s = open_backend("local", tmp_path)
    yield s
    s.close()


def _chunk_tokens(docs) -> list[list[str]]:
    return [tokenize(f"{d.title}\n{c.text}" if d.title else c.text) for d in docs for c in d.chunks]


def test_written_documents_read_back_whole(store):
    docs = documents(6)
    result = store.write(docs)
    assert sorted(result.added) == sorted(d.doc_id for d in docs)
    stats = store.stats()
    assert stats["documents"] == 6 and stats["chunks"] == sum(len(d.chunks) for d in docs)
    got = store.get_document(docs[2].doc_id)
    assert got["normalized"] == docs[2].text and got["original"] == docs[2].original
    assert got["title"] == docs[2].title and got["date"] == docs[2].date
    listed = store.list_documents()
    assert [d["date"] for d in listed] == sorted((d.date for d in docs), reverse=True)
    with store.read() as view:
        maps = view.offsets([docs[1].doc_id])
        assert np.array_equal(maps[docs[1].doc_id], np.asarray(docs[1].offsets))
        assert view.document(docs[3].doc_id)["normalized"] == docs[3].text
        assert view.n_chunks == stats["chunks"]


def test_dense_and_lexical_find_the_right_chunk(store):
    docs = documents(8)
    store.write(docs)
    target = docs[5]
    with store.read() as view:
        qvec = store.embedder.encode_queries([target.chunks[0].text])[0]
        scores, keys = view.dense(qvec, 3)
        rows = view.chunks(keys)
        assert rows[int(keys[0])].chunk_id == target.chunks[0].chunk_id
        assert scores[0] == pytest.approx(1.0, abs=0.05) or scores[0] >= scores[-1]
        scores, keys = view.lexical(tokenize(f"{target.title}第5-1号项目"), 5)
        assert view.chunks(keys[:1])[int(keys[0])].doc_id == target.doc_id
        assert all(s > 0 for s in scores) and list(scores) == sorted(scores, reverse=True)


def test_filters_run_inside_the_store(store):
    docs = documents(12)
    store.write(docs)
    tokens = tokenize("推进工作项目计划投资")
    qvec = store.embedder.encode_queries(["推进工作项目计划投资"])[0]
    with store.read() as view:
        for where, ok in (
            (Filter(since="2024-03-01", until="2024-06-99"), lambda d: "2024-03-01" <= d.date <= "2024-06-99"),
            (Filter(source="云南"), lambda d: "云南" in d.source),
        ):
            allowed = {d.doc_id for d in docs if ok(d)}
            for _scores, keys in (view.dense(qvec, 50, where), view.lexical(tokens, 50, where)):
                found = {r.doc_id for r in view.chunks(keys).values()}
                assert found and found <= allowed
            keys, _cut = view.term_candidates(["推进"], 100, where)
            assert {r.doc_id for r in view.chunks(keys).values()} == allowed


def test_term_statistics_count_chunks_holding_each_token(store):
    docs = documents(7)
    store.write(docs)
    token_sets = [set(t) for t in _chunk_tokens(docs)]
    with store.read() as view:
        assert view.n_chunks == len(token_sets)
        for tok in ("推进", "昆明", "磨憨", "口岸", "第3-1", "不存在的词"):
            assert view.terms[tok] == sum(tok in s for s in token_sets), tok
        assert "推进" in view.terms and "不存在的词" not in view.terms


def test_term_candidates_rarest_first_within_budget(store):
    docs = documents(10)
    store.write(docs)
    with store.read() as view:
        rare = docs[4].title  # the title's place+topic words occur in few chunks
        tokens = ["推进", *tokenize(rare)]
        keys, cut = view.term_candidates(tokens, 2)
        assert len(keys) == 2 and cut
        keys, cut = view.term_candidates(["磨憨"], 1000)
        assert not cut and len(keys) == sum("磨憨" in s for s in map(set, _chunk_tokens(docs)))


def test_upsert_replaces_a_document_and_unchanged_is_a_noop(store):
    docs = documents(3)
    store.write(docs)
    changed = prepare(article(1, text="完全不同的内容。磨憨口岸建设加快推进，跨境物流通道畅通。"))
    result = store.write([changed])
    assert result.updated == [changed.doc_id]
    assert store.stats()["chunks"] == len(docs[0].chunks) + len(docs[2].chunks) + len(changed.chunks)
    with store.read() as view:
        _s, keys = view.lexical(tokenize("磨憨口岸跨境物流"), 10)
        texts = [r.text for r in view.chunks(keys).values() if r.doc_id == changed.doc_id]
        assert texts == [c.text for c in changed.chunks]
        assert view.terms["跨境"] == 1
    again = store.write([changed, *docs[::2]])
    assert sorted(again.unchanged) == sorted([changed.doc_id, docs[0].doc_id, docs[2].doc_id])


def test_delete_by_document_id(store):
    docs = documents(4)
    store.write(docs)
    result = store.write([], delete=[docs[0].doc_id, "no-such-doc"])
    assert result.deleted == [docs[0].doc_id]
    assert store.get_document(docs[0].doc_id) is None
    assert store.stats()["documents"] == 3
    with store.read() as view:
        keys, _ = view.term_candidates(tokenize(docs[0].title), 100)
        assert docs[0].doc_id not in {r.doc_id for r in view.chunks(keys).values()}


def test_same_text_under_another_id_is_a_duplicate(store):
    docs = documents(2)
    store.write(docs)
    twin = prepare(article(0, doc_id="copy-of-0"))
    result = store.write([twin])
    assert result.duplicates == [("copy-of-0", docs[0].doc_id)]
    assert store.stats()["documents"] == 2


def test_pinyin_bridge_reads_the_stored_vocabulary(store):
    store.write(documents(3))
    with store.read() as view:
        assert view.bridge.expand("projects in Mohan")["Mohan"][0] == "磨憨"
        assert view.bridge.expand("nothing here") == {}

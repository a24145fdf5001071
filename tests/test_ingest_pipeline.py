"""The ingest pipeline: reading/preparing overlaps embedding, commits stay in order, errors surface,
and the progress bar shows only on a terminal."""

from __future__ import annotations

import threading
import time

import pytest

from api.cli import main as cli
from corpus.models import Article
from index import embedder
from index.embedder import EmbedderSpec, HashingEmbedder
from index.ingest import ingest_items
from index.store import Store

HASH = EmbedderSpec("hash", "64")


def articles(n: int, tag: str = "") -> list[Article]:
    return [
        Article(f"d{i}", f"第{i}条{tag}新闻。昆明推进园区建设，第{i}批企业落地磨憨，投资{i}亿元。" * 3, title=f"标题{i}")
        for i in range(n)
    ]


def _chunk_ids(store: Store) -> list[str]:
    with store.read() as view:
        keys = [int(k) for seg, live in view.segments for k in (seg.arrays.ids if live is None else seg.arrays.ids[live])]
        return sorted(row.chunk_id for row in view.chunks(keys).values())


def test_pipeline_result_matches_one_commit(tmp_path):
    a = Store(tmp_path / "a", HASH)
    b = Store(tmp_path / "b", HASH)
    ra = ingest_items(a, articles(30), batch_chunks=4)
    rb = ingest_items(b, articles(30), batch_chunks=10_000)
    assert sorted(ra.result.added) == sorted(rb.result.added) and len(ra.result.added) == 30
    assert _chunk_ids(a) == _chunk_ids(b)
    again = ingest_items(a, articles(30), batch_chunks=4)
    assert len(again.result.unchanged) == 30 and not again.result.added


def test_reader_runs_ahead_of_a_slow_embedder(tmp_path, monkeypatch):
    class Slow(HashingEmbedder):
        def encode_passages(self, texts, show_progress=False):
            time.sleep(0.05)
            return super().encode_passages(texts)

    monkeypatch.setitem(embedder.BACKENDS, "hash", lambda spec: Slow(64))
    store = Store(tmp_path, HASH)
    prepared, embedded, ahead = [0], [0], []

    def on_prepared(n):
        prepared[0] += n

    def on_chunks(n):
        ahead.append(prepared[0] - embedded[0])
        embedded[0] += n

    ingest_items(store, articles(40), batch_chunks=8, on_prepared=on_prepared, on_chunks=on_chunks)
    assert embedded[0] == prepared[0] == store.stats()["chunks"]
    assert max(ahead) >= 8  # the next batch was prepared while this one was embedding


def test_reader_error_surfaces_and_earlier_batches_stay(tmp_path):
    store = Store(tmp_path, HASH)

    def items():
        yield from articles(10)
        raise RuntimeError("disk gone")

    with pytest.raises(RuntimeError, match="disk gone"):
        ingest_items(store, items(), batch_chunks=4)
    assert 0 < store.stats()["documents"] <= 10
    assert not [t for t in threading.enumerate() if t.name.startswith("policyqa-ingest")]  # none left behind


def test_commit_error_surfaces(tmp_path, monkeypatch):
    store = Store(tmp_path, HASH)
    calls = []

    def failing_write(docs, embeddings=None, **kw):
        calls.append(len(docs))
        raise OSError("no space left")

    monkeypatch.setattr(store, "write", failing_write)
    with pytest.raises(OSError, match="no space"):
        ingest_items(store, articles(10), batch_chunks=4)
    assert len(calls) == 1  # the pipeline stopped at the first failed commit


def _jsonl(tmp_path):
    import json

    src = tmp_path / "in.jsonl"
    rows = [{"id": f"n{i}", "title": f"标题{i}", "content": f"第{i}条新闻。昆明推进园区建设，企业落地磨憨。"}
            for i in range(5)]
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return src


def test_no_progress_bar_off_a_terminal(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("POLICYQA_EMBEDDER", "hash:64")
    src = _jsonl(tmp_path)
    assert cli(["--data-dir", str(tmp_path / "d"), "ingest", str(src)]) == 0
    captured = capsys.readouterr()
    assert "added 5" in captured.out
    assert "chunk/s" not in captured.err and "it/s" not in captured.err


def test_progress_bar_on_a_terminal(tmp_path, monkeypatch, capsys):
    import sys

    monkeypatch.setenv("POLICYQA_EMBEDDER", "hash:64")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    src = _jsonl(tmp_path)
    assert cli(["--data-dir", str(tmp_path / "d"), "ingest", str(src)]) == 0
    err = capsys.readouterr().err
    assert "ingest" in err and "chunk" in err and "5/5" in err

"""Embedder specs in data directories: runtime and precision recorded, old configs read, mismatches
refused with the reembed path, `policyqa reembed` crash-safe, and the model loaded once under a lock."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest

from api.cli import main as cli
from corpus.models import Article
from index import dir_swap, embedder
from index.embedder import EmbedderSpec, HashingEmbedder, parse_runtime
from index.ingest import ingest_items
from index.reembed import reembed
from index.store import Store, StoreError

HASH = EmbedderSpec("hash", "64")


def articles(n: int) -> list[Article]:
    return [
        Article(f"d{i}", f"第{i}条新闻。昆明市推进产业园区建设，第{i}批企业落地磨憨，投资{i}亿元。", title=f"标题{i}")
        for i in range(n)
    ]


def test_new_spec_records_runtime_and_precision(tmp_path):
    spec = EmbedderSpec()
    assert (spec.runtime, spec.precision) == ("onnx", "int8")
    Store(tmp_path, spec)
    stored = json.loads((tmp_path / "config.json").read_text())["embedder"]
    assert stored == {"backend": "sentence-transformers", "model": "multilingual-e5-small",
                      "runtime": "onnx", "precision": "int8"}
    assert Store(tmp_path).spec == spec


def test_old_config_reads_as_what_it_was_built_with(tmp_path, monkeypatch):
    (tmp_path / "config.json").write_text(json.dumps({
        "embedder": {"backend": "sentence-transformers", "model": "multilingual-e5-small"},
        "vector_store": "faiss", "lexical_store": "bm25s"}))
    monkeypatch.setattr(embedder, "cpu_supports_bf16", lambda: False)
    assert Store(tmp_path).spec == EmbedderSpec(runtime="torch", precision="fp32")
    monkeypatch.setattr(embedder, "cpu_supports_bf16", lambda: True)
    assert Store(tmp_path).spec == EmbedderSpec(runtime="torch", precision="bf16")
    monkeypatch.setenv("POLICYQA_BF16", "0")
    assert Store(tmp_path).spec == EmbedderSpec(runtime="torch", precision="fp32")
    # hash directories of every version read the same
    assert EmbedderSpec.from_dict({"backend": "hash", "model": "64"}) == HASH


def test_other_numerics_are_refused_naming_both_and_reembed(tmp_path):
    Store(tmp_path, EmbedderSpec(runtime="torch", precision="fp32"))
    with pytest.raises(StoreError) as e:
        Store(tmp_path, EmbedderSpec(runtime="onnx", precision="int8"))
    msg = str(e.value)
    assert "torch fp32" in msg and "onnx int8" in msg and "policyqa" in msg and "reembed onnx-int8" in msg


def test_bad_runtime_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="no precision 'bf16'"):
        Store(tmp_path, EmbedderSpec(runtime="onnx", precision="bf16"))
    with pytest.raises(ValueError, match="unknown runtime"):
        parse_runtime("tensorflow-fp32")
    assert parse_runtime("onnx") == ("onnx", "int8")


def test_cli_refuses_mismatch_from_environment(tmp_path, monkeypatch, capsys):
    Store(tmp_path, EmbedderSpec(runtime="torch", precision="fp32"))
    monkeypatch.setenv("POLICYQA_EMBED_RUNTIME", "onnx-int8")
    assert cli(["--data-dir", str(tmp_path), "stats"]) == 1
    err = capsys.readouterr().err
    assert "torch fp32" in err and "reembed" in err


class _Recorder:
    """A factory standing in for a slow model load; counts how often it runs."""

    def __init__(self, delay: float, dim: int = 64) -> None:
        self.delay, self.dim, self.calls = delay, dim, 0

    def __call__(self, spec: EmbedderSpec):
        self.calls += 1
        time.sleep(self.delay)
        return HashingEmbedder(int(spec.model) if spec.model.isdigit() else self.dim)


def test_model_loaded_once_under_concurrent_first_use(tmp_path, monkeypatch):
    recorder = _Recorder(0.3)
    monkeypatch.setitem(embedder.BACKENDS, "hash", recorder)
    store = Store(tmp_path, HASH)
    got = []
    threads = [threading.Thread(target=lambda: got.append(store.embedder)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert recorder.calls == 1 and len({id(e) for e in got}) == 1


def test_query_during_server_warm_up_loads_no_second_model(tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from api.http.app import create_app

    ingest_items(Store(tmp_path, HASH), articles(3))
    recorder = _Recorder(1.0)
    monkeypatch.setitem(embedder.BACKENDS, "hash", recorder)
    app = create_app(tmp_path, token="", mcp=False, warm_model=True)
    with TestClient(app) as client:  # the lifespan starts the background warm-up
        time.sleep(0.2)  # the warm-up is now inside its (slow) load
        r = client.post("/search", json={"query": "磨憨企业", "k": 3})
        assert r.status_code == 200, r.text
    assert recorder.calls == 1


def _vectors(store: Store) -> np.ndarray:
    """Every live chunk's vector, in chunk_id order, read from the published segments."""
    by_chunk: dict[str, np.ndarray] = {}
    with store.read() as view:
        for seg, live in view.segments:
            ids = seg.arrays.ids if live is None else seg.arrays.ids[live]
            vecs = seg.arrays.vectors if live is None else seg.arrays.vectors[live]
            rows = view.chunks(int(i) for i in ids)
            for key, vec in zip(ids, vecs, strict=True):
                by_chunk[rows[int(key)].chunk_id] = np.asarray(vec, dtype=np.float32)
    return np.stack([by_chunk[c] for c in sorted(by_chunk)])


def test_reembed_rewrites_every_vector_and_swaps(tmp_path, monkeypatch):
    # Two "numerics" of one model: the hash embedder under two runtime names, one of them scaled.
    class Scaled(HashingEmbedder):
        def encode_passages(self, texts, show_progress=False):
            return -super().encode_passages(texts)

    monkeypatch.setitem(embedder.BACKENDS, "sentence-transformers",
                        lambda spec: (Scaled if spec.runtime == "onnx" else HashingEmbedder)(64))
    data = tmp_path / "data"
    old_spec = EmbedderSpec(runtime="torch", precision="fp32")
    store = Store(data, old_spec)
    ingest_items(store, articles(20), batch_chunks=8)
    before = _vectors(store)
    docs_before = [store.get_document(d["doc_id"]) for d in store.list_documents()]
    new_spec = EmbedderSpec(runtime="onnx", precision="int8")
    report = reembed(data, new_spec)
    assert report.documents == 20 and report.chunks == len(before)
    after_store = Store(data)
    assert after_store.spec == new_spec
    np.testing.assert_allclose(_vectors(after_store), -before, atol=1e-6)
    def strip(d: dict) -> dict:
        return {k: v for k, v in d.items() if k not in ("added_at", "updated_at")}

    docs_after = [after_store.get_document(d["doc_id"]) for d in after_store.list_documents()]
    assert [strip(d) for d in docs_after] == [strip(d) for d in docs_before]
    assert not dir_swap.new_copy(data).exists() and not (data / dir_swap.DONE).exists()
    assert not data.with_name("data.reembed-old").exists()


def test_reembed_cli_unchanged_spec_is_a_no_op(tmp_path, capsys):
    store = Store(tmp_path, EmbedderSpec(runtime="onnx", precision="int8"))
    assert store.spec.runtime == "onnx"
    assert cli(["--data-dir", str(tmp_path), "reembed", "onnx-int8"]) == 0
    assert "nothing to do" in capsys.readouterr().out


@pytest.mark.parametrize("sealed", [True, False])
def test_swap_interrupted_between_renames_is_finished_on_open(tmp_path, sealed):
    data = tmp_path / "data"
    ingest_items(Store(data, HASH), articles(2))
    copy = dir_swap.new_copy(data)
    ingest_items(Store(copy, EmbedderSpec("hash", "32")), articles(3))
    if sealed:
        dir_swap.seal(copy)
    data.rename(data.with_name("data.reembed-old"))  # the crash: old moved away, copy not yet in place
    store = Store(data)
    assert store.spec == (EmbedderSpec("hash", "32") if sealed else HASH)
    assert store.stats()["documents"] == (3 if sealed else 2)
    assert not data.with_name("data.reembed-old").exists()
    assert not (data / dir_swap.DONE).exists()


def test_unsealed_copy_from_a_crashed_reembed_is_replaced(tmp_path, monkeypatch):
    monkeypatch.setitem(embedder.BACKENDS, "sentence-transformers", lambda spec: HashingEmbedder(64))
    data = tmp_path / "data"
    ingest_items(Store(data, EmbedderSpec(runtime="torch", precision="fp32")), articles(4))
    copy = dir_swap.new_copy(data)
    copy.mkdir()
    (copy / "junk").write_text("half written")
    reembed(data, EmbedderSpec(runtime="onnx", precision="fp32"))
    assert Store(data).spec.precision == "fp32" and Store(data).spec.runtime == "onnx"
    assert Store(data).stats()["documents"] == 4
    assert not copy.exists()


def test_reembed_keeps_the_sample_article_whole(tmp_path):
    from pathlib import Path

    from index.ingest import ingest_paths

    sample = Path(__file__).resolve().parents[1] / "corpus" / "samples" / "kunming"
    data = tmp_path / "data"
    store = Store(data, HASH)
    ingest_paths(store, [sample])
    before = {d["doc_id"]: store.get_document(d["doc_id"]) for d in store.list_documents()}
    assert any(d["body_start"] > 0 for d in before.values())
    report = reembed(data, EmbedderSpec("hash", "32"))
    after = Store(data)
    assert after.spec == EmbedderSpec("hash", "32") and report.documents == len(before)
    for doc_id, d in before.items():
        got = after.get_document(doc_id)
        assert {k: got[k] for k in d if k not in ("added_at", "updated_at")} == {
            k: v for k, v in d.items() if k not in ("added_at", "updated_at")}
    assert after.stats()["chunks"] == store.stats()["chunks"]

"""Commands that need no embedding load no model and import no model runtime (CLI cold start)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from corpus.models import Article
from index import embedder
from index.embedder import EmbedderSpec, HashingEmbedder
from index.ingest import ingest_items
from index.store import Store

ROOT = Path(__file__).resolve().parents[1]

PROBE = r"""
import json, sys
from index import embedder
loads = []
for name, factory in list(embedder.BACKENDS.items()):
    embedder.BACKENDS[name] = lambda spec, f=factory: (loads.append(spec.backend), f(spec))[1]
from api.cli import main
codes = [main(["--data-dir", sys.argv[1], *cmd.split("|")]) for cmd in sys.argv[2:]]
heavy = sorted(m for m in ("torch", "transformers", "sentence_transformers", "onnxruntime") if m in sys.modules)
print(json.dumps({"codes": codes, "loads": loads, "heavy": heavy}))
"""


def test_show_docs_stats_delete_load_no_model(tmp_path, monkeypatch):
    # A directory of the default (onnx int8) spec whose vectors come from a stand-in, so no real model
    # is needed to build it; the probe process below must then never create an embedder at all.
    monkeypatch.setitem(embedder.BACKENDS, "sentence-transformers", lambda spec: HashingEmbedder(384))
    store = Store(tmp_path, EmbedderSpec())
    ingest_items(store, [Article(f"d{i}", f"第{i}条：昆明推进园区建设，企业落地磨憨。", title=f"标题{i}") for i in range(3)])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop("POLICYQA_EMBEDDER", None)
    env.pop("POLICYQA_EMBED_RUNTIME", None)
    cmds = ["stats", "docs", "show|d1", "docs|--json", "delete|d2", "show|d2"]
    r = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path), *cmds], env=env, capture_output=True,
                       text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["codes"] == [0, 0, 0, 0, 0, 1]
    assert out["loads"] == [] and out["heavy"] == []


JIEBA_PROBE = r"""
import json, sys
from qa.extract import jieba_dict
jieba, posseg = jieba_dict.load_jieba()
texts = json.loads(sys.argv[1])
out = [[[p.word, p.flag] for p in posseg.cut(t, HMM=hmm)] + [list(jieba.cut(t, HMM=hmm))]
       for t in texts for hmm in (True, False)]
print(json.dumps({"from": jieba_dict.loaded_from, "out": out}, ensure_ascii=False))
"""


def _sample_texts() -> list[str]:
    text = next((ROOT / "corpus" / "samples" / "kunming").glob("*.txt")).read_text(encoding="utf-8")
    return [text[:3000], "哪些企业落地磨憨？", "2024年5月，Mohan-Boten 经济合作区引进iPhone配件厂。", "磨憨口岸 GDP 增长 8.5%"]


def test_jieba_dictionary_cache_holds_what_jieba_builds_and_is_rebuilt_when_stale(tmp_path):
    """The cache is jieba's own dictionaries; a stale one is refused; taggings agree with jieba's own load."""
    import jieba
    from jieba.posseg import POSTokenizer

    from qa.extract import jieba_dict

    freq, total = jieba.dt.gen_pfdict(jieba.dt.get_dict_file())  # jieba's own build, from dict.txt
    reference_tags = object.__new__(POSTokenizer)
    reference_tags.load_word_tag(jieba.dt.get_dict_file())
    key = jieba_dict.source_key(jieba)
    directory = tmp_path / "cache" / "jieba-dict"
    jieba_dict.write_cache(directory, key, freq, total, reference_tags.word_tag_tab)
    assert jieba_dict.read_cache(directory, key) == (freq, total, reference_tags.word_tag_tab)
    assert jieba_dict.read_cache(directory, {**key, "mtime_ns": key["mtime_ns"] + 1}) is None  # dict.txt changed
    assert jieba_dict.read_cache(directory, {**key, "jieba": "0.0"}) is None
    jieba_dict.write_cache(directory, key, {"磨憨": 3}, 3, {"磨憨": "ns"})  # a rebuild replaces the old files
    assert jieba_dict.read_cache(directory, key) == ({"磨憨": 3}, 3, {"磨憨": "ns"})

    # Fresh processes: the first (empty cache) loads as jieba does and writes the cache, the second reads it.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "POLICYQA_MODEL_CACHE": str(tmp_path / "models")}
    texts = json.dumps(_sample_texts(), ensure_ascii=False)
    runs = []
    for _ in range(2):
        r = subprocess.run([sys.executable, "-c", JIEBA_PROBE, texts], env=env, capture_output=True, text=True,
                           timeout=120, cwd=ROOT)
        assert r.returncode == 0, r.stderr
        runs.append(json.loads(r.stdout))
    assert [r["from"] for r in runs] == ["jieba", "cache"]
    assert runs[0]["out"] == runs[1]["out"]


def _tokenizer_texts() -> list[str]:
    import random

    text = next((ROOT / "corpus" / "samples" / "kunming").glob("*.txt")).read_text(encoding="utf-8")
    texts = ["", " ", "哪些企业落地磨憨？", "query:   多  空格  ", "𠀀𠀁 unknown 𪚥 ", "Mohan-Boten iPhone 8.5% ＡＢＣ１２３",
             "e\u0301 cafe\u0301 ﬁ ① ⅷ", "😀👍🏽 emoji", "\t\n tabs\nnewlines\r\n", "a <mask> b </s>", "＜ｓ＞ full width", text[:1990],
             text[:2500], "磨" * 600]
    rng = random.Random(11)
    for _ in range(400):
        a = rng.randrange(len(text))
        texts.append("query: " + text[a : a + rng.randrange(1, 160)])
    return texts


def test_query_tokens_equal_the_full_tokenizers_and_the_cache_follows_its_file(tmp_path):
    """Query ids from the cached vocabulary equal the full tokenizer's; a changed tokenizer.json is re-cached."""
    import shutil

    from tokenizers import Tokenizer

    from index.model_export import ensure_onnx_model
    from index.subset_tokenizer import SubsetTokenizer, cache_dir_for

    source = tmp_path / "tokenizer.json"
    shutil.copyfile(ensure_onnx_model("int8") / "tokenizer.json", source)
    full = Tokenizer.from_file(str(source))
    full.enable_truncation(512)
    full.no_padding()
    texts = _tokenizer_texts()
    subset = SubsetTokenizer(source, 512, full=lambda: full)
    left = [t for t in texts if not subset.handles(t)]  # added tokens and long texts go to the full one
    assert left == ["a <mask> b </s>", texts[12]]
    assert subset.encode(texts) == [e.ids for e in full.encode_batch(texts)]

    first = cache_dir_for(source)
    assert first.is_dir()
    os.utime(source, ns=(first.stat().st_mtime_ns, source.stat().st_mtime_ns + 10**9))  # the file changes
    again = SubsetTokenizer(source, 512, full=lambda: full)
    assert cache_dir_for(source) != first and cache_dir_for(source).is_dir() and not first.exists()
    assert again.encode(texts[:40]) == subset.encode(texts[:40])


def test_onnx_query_vectors_equal_with_either_tokenizer():
    import numpy as np

    from index.embedder import OnnxEmbedder
    from index.model_export import ensure_onnx_model

    embedder = OnnxEmbedder(str(ensure_onnx_model("int8")), "e5")
    assert embedder._full_tokenizer is None  # queries need no full tokenizer
    questions = ["哪些企业落地磨憨？", "Which firms landed in Mohan?", "2024年5月 磨憨 投资 12.92亿元"]
    fast = embedder.encode_queries(questions)
    embedder._query_tokens = None
    assert np.array_equal(fast, embedder.encode_queries(questions))

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

"""Opening each store backend for the tests that run against all of them, and their small corpus."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from corpus.models import Article
from corpus.prepare import Document, prepare
from index.backend import StoreConfig
from index.embedder import EmbedderSpec

HASH = EmbedderSpec("hash", "64")
PLACES = "昆明 磨憨 玉溪 曲靖 大理 丽江 红河 文山 保山 普洱".split()
TOPICS = "产业园区 招商引资 口岸经济 跨境物流 数字经济 绿色能源 营商环境 乡村振兴 科技创新 生物医药".split()


def require(ok: bool, reason: str) -> None:
    """Skip when ``ok`` is false, but fail under CI=true (CI installs everything these tests need)."""
    if ok:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI installs it, so its absence is a broken setup")
    pytest.skip(reason)


def milvus_lite_missing() -> str | None:
    try:
        import milvus_lite  # noqa: F401
        import pymilvus  # noqa: F401
    except ImportError:
        return "needs pymilvus and milvus-lite (declared in pyproject.toml: pip install -e .)"
    return None


def open_backend(kind: str, tmp: Path, lite_uri: str | None = None, prefix: str = "t"):
    """A fresh store of ``kind`` ("local" or "milvus") with the 64-d hash embedder."""
    if kind == "milvus":
        missing = milvus_lite_missing()
        require(missing is None, missing or "")
        from index.milvus import open_milvus_store

        return open_milvus_store(
            StoreConfig(kind="milvus", milvus_uri=lite_uri or str(tmp / "milvus.db"), milvus_prefix=prefix,
                        embedder=HASH)
        )
    try:
        from index.stores import open_store
    except ImportError:
        require(False, "the local store does not implement index.backend yet (index/stores.py missing)")
    return open_store(StoreConfig(kind="local", data_dir=tmp / "data", embedder=HASH))


def article(i: int, rng: random.Random | None = None, **kw) -> Article:
    """A short policy article; ``i`` picks its place, topic and date, so articles differ."""
    rng = rng or random.Random(i)
    place, topic = PLACES[i % len(PLACES)], TOPICS[(i // len(PLACES)) % len(TOPICS)]
    body = "".join(
        f"{place}市推进{topic}工作，第{i}-{n}号项目计划投资{rng.randint(1, 999)}亿元，带动就业岗位持续增加。"
        for n in range(kw.pop("sentences", 3))
    )
    return Article(
        doc_id=kw.pop("doc_id", f"doc{i:03d}"),
        text=kw.pop("text", body),
        title=kw.pop("title", f"{place}{topic}进展{i}"),
        date=kw.pop("date", f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}"),
        source=kw.pop("source", "云南日报" if i % 2 else "昆明日报"),
        **kw,
    )


def documents(n: int, start: int = 0, **kw) -> list[Document]:
    return [prepare(article(i, **kw)) for i in range(start, start + n)]


def empty_milvus(store) -> None:
    """Delete every row of a Milvus store's corpus (keeping its collections), as if newly created."""
    for name in (store.names.documents, store.names.chunks, store.names.postings, store.names.terms):
        store.client.delete(name, filter="id >= 0")
    store.client.delete(store.names.meta, filter='key in ["avgdl", "last_version"]')
    store.config["avgdl"] = None
    store._romanized.clear()


_POOL: dict = {}


def milvus_engine(spec=None, embedder=None):
    """An Engine over milvus-lite collections for ``spec``, created once per test session and emptied
    for each caller (creating collections costs seconds); one such engine per spec is live at a time."""
    from qa.engine import Engine

    missing = milvus_lite_missing()
    require(missing is None, missing or "")
    from index.milvus import open_milvus_store

    spec = spec or EmbedderSpec()
    key = (spec.backend, spec.model)
    if key not in _POOL:
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="policyqa-milvus-"))
        prefix = "q_" + "".join(c if c.isalnum() else "_" for c in f"{spec.backend}_{spec.model}")[:40]
        _POOL[key] = open_milvus_store(StoreConfig(kind="milvus", milvus_uri=str(folder / "qa.db"),
                                                   milvus_prefix=prefix, embedder=spec))
    store = _POOL[key]
    empty_milvus(store)
    store._embedder = None
    if embedder is not None:
        store.use_embedder(embedder)
    return Engine(store=store)


def make_engine(kind: str, data_dir: Path, spec=None, embedder=None):
    """An Engine over the local store, the in-memory backend or Milvus (milvus-lite)."""
    if kind == "milvus":
        return milvus_engine(spec, embedder)
    from tests.memory_backend import make_engine as other

    return other(kind, data_dir, spec, embedder)

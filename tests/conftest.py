"""Shared fixtures: the bundled sample, data dirs with a fast or the real embedder, shared eval data."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.memory_backend import make_engine

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "corpus" / "samples" / "kunming" / "kunming-industry-transfer-2025-03-24.txt"
SHARED_DATA = Path(os.environ.get("POLICYQA_SHARED_DATA", ROOT.parent / "shared" / "data"))


def shared_data(*parts: str) -> Path:
    """A path in ../shared/data; skips the test where it is absent, but fails under CI=true."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        reason = f"needs {path} (evaluation data kept outside the repository)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI always has it, so its absence is a broken path")
        pytest.skip(reason)
    return path


def news_jsonl(tmp_path: Path, n: int, offset: int = 0) -> Path:
    """Write the first ``n`` CCTV news items (after ``offset``) as a JSONL file for ingest."""
    src = shared_data("xwlb_news", "xwlb_items.jsonl")
    out = tmp_path / f"news-{offset}-{n}.jsonl"
    with open(src, encoding="utf-8") as f, open(out, "w", encoding="utf-8") as g:
        for i, line in enumerate(f):
            if i < offset:
                continue
            if i >= offset + n:
                break
            o = json.loads(line)
            g.write(json.dumps({k: o[k] for k in ("id", "title", "date", "source", "url", "content")},
                               ensure_ascii=False) + "\n")
    return out


@pytest.fixture(autouse=True)
def no_llm_from_the_shell(monkeypatch):
    """A developer's own LLM settings must not reach the tests (test_llm.py sets its own)."""
    for name in ("POLICYQA_LLM_BASE_URL", "POLICYQA_LLM_MODEL", "POLICYQA_LLM_API_KEY", "POLICYQA_LLM_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def hash_env(monkeypatch, tmp_path):
    """Data dirs created in this test use the model-free hashing embedder."""
    monkeypatch.setenv("POLICYQA_EMBEDDER", "hash")
    monkeypatch.setenv("POLICYQA_DATA", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture(scope="session")
def real_engine_with_sample(tmp_path_factory):
    """A data dir with the real default model holding only the sample article (built once)."""
    from qa.engine import Engine

    engine = Engine(tmp_path_factory.mktemp("sample-data"))
    report = engine.ingest_paths([SAMPLE])
    assert report.as_dict()["added"] == 1, report.as_dict()
    return engine


@pytest.fixture(scope="session")
def memory_engine_with_sample(real_engine_with_sample):
    """The in-memory backend holding the sample article, sharing the real model already loaded."""
    engine = make_engine("memory", Path("."), embedder=real_engine_with_sample.store.embedder)
    report = engine.ingest_paths([SAMPLE])
    assert report.as_dict()["added"] == 1, report.as_dict()
    return engine


@pytest.fixture(scope="session")
def milvus_engine_with_sample(real_engine_with_sample):
    """Milvus (milvus-lite) holding the sample article, sharing the real model already loaded."""
    from tests.backends import milvus_engine

    engine = milvus_engine(real_engine_with_sample.store.spec, real_engine_with_sample.store.embedder)
    report = engine.ingest_paths([SAMPLE])
    assert report.as_dict()["added"] == 1, report.as_dict()
    return engine


@pytest.fixture(params=["local", "memory", "milvus"])
def sample_engine(request):
    """The sample article in every backend: qa/ must answer the same through the store interface."""
    return request.getfixturevalue(f"{request.param if request.param != 'local' else 'real'}_engine_with_sample")


@pytest.fixture(scope="session")
def mixed_engine(tmp_path_factory):
    """The real model over the sample mixed among 300 CCTV news items (built once per session)."""
    from qa.engine import Engine

    tmp = tmp_path_factory.mktemp("mixed")
    engine = Engine(tmp / "data")
    report = engine.ingest_paths([SAMPLE, news_jsonl(tmp, 300)])
    assert report.as_dict()["added"] == 301, report.as_dict()
    return engine

"""Crash safety: ``policyqa ingest`` SIGKILLed at random moments, at each step of a commit and of a merge.

The random part is bench/crasher.py (20 kills here; ``python bench/crasher.py --kills 100
--real-model`` for the long run): a seeded schedule kills ingest runs at crash points inside their
commits and merges (so kills land inside segment writes whatever the timing) and at random moments.
The deterministic part kills a writer at each named step of a commit (bench.crasher.CRASH_POINTS)
while it updates a store that already holds documents, and a merge at each named step
(bench.crasher.MERGE_CRASH_POINTS).
"""

from __future__ import annotations

import re
import shutil
import signal
from pathlib import Path

import pytest

from bench import crasher
from index import catalog
from index.embedder import EmbedderSpec
from index.store import Store
from qa.engine import Engine

KILLS = 20
HASH = EmbedderSpec("hash", crasher.HASH_EMBEDDER.partition(":")[2])
IN_WRITES = {"commit segment partly written, catalog not committed", "commit segment sealed, catalog not committed",
             "merge segment partly written, catalog not committed", "merge segment sealed, catalog not committed"}


def test_random_sigkills_never_lose_or_tear_data(tmp_path):
    lines: list[str] = []
    stats = crasher.crash_loop(
        tmp_path, kills=KILLS, seed=20240601, parts=6, docs_per_part=2, max_seconds=420, log=lines.append
    )
    print("\n".join(lines), stats.summary(), stats.as_dict(), sep="\n")
    assert stats.kills == KILLS
    assert stats.completed_runs >= 1 and stats.final_generation >= 5, stats.as_dict()
    assert IN_WRITES & set(stats.states), f"no kill landed inside a segment write: {stats.as_dict()}"
    assert stats.final_documents == 6 * (2 + 2)  # per part: the .txt articles and two JSONL records
    # A kill inside an atomic write leaves its temp file; those inside a segment directory go with it,
    # config.json's would stay in the data directory.
    assert all(re.fullmatch(r"\.config\.json\.\d+\.tmp", p) for p in stats.temp_files_at_end), stats


@pytest.fixture(scope="module")
def _filled_once(tmp_path_factory) -> tuple[Path, crasher.Corpus, crasher.Corpus]:
    tmp = tmp_path_factory.mktemp("filled")
    v0 = crasher.write_corpus(tmp / "corpus", 0, parts=3, docs_per_part=2, seed=7)
    v1 = crasher.write_corpus(tmp / "corpus", 1, parts=3, docs_per_part=2, seed=7)
    data = tmp / "data"
    rc, _, _ = crasher.run_round(data, v0.parts, crasher.ingest_env(), tmp / "log", "complete", 0, 300)
    assert rc == 0, (tmp / "log").read_text()
    crasher.check_data_dir(data, {}, v0, HASH, require_complete=True)
    return data, v0, v1


@pytest.fixture
def filled(_filled_once, tmp_path) -> tuple[Path, crasher.Corpus, crasher.Corpus]:
    """A data dir holding version 0 of a small corpus, and version 1 (every text changed) to ingest."""
    data, v0, v1 = _filled_once
    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    return copy, v0, v1


def complete(data: Path, corpus: crasher.Corpus) -> None:
    """The next ingest (in this process, to save the start-up of another one) completes the work."""
    engine = Engine(data)
    try:
        report = engine.ingest_paths(corpus.parts, replace=True)  # a new version, in other files
    finally:
        engine.close()
    assert not report.rejected


def stored_texts(data: Path) -> dict[str, str]:
    store = Store(data)
    try:
        return {d["doc_id"]: store.get_document(d["doc_id"])["normalized"] for d in store.list_documents()}
    finally:
        store.close()


@pytest.mark.parametrize("point", sorted(crasher.CRASH_POINTS))
def test_kill_at_each_commit_step_keeps_old_version_then_completes(filled, point):
    data, v0, v1 = filled
    env = crasher.ingest_env()
    commits_before = crasher.catalog_commits(data)
    rc = crasher.ingest_crashing_at(point, data, v1.parts, env)
    assert rc == -signal.SIGKILL, f"the child did not reach {point!r} (exit {rc})"
    temp = set(crasher.temp_files(data))
    state = crasher.raw_state(data)
    stats = crasher.check_data_dir(data, v0.by_id(), v1, HASH, allow_temp=temp)
    committed = point in crasher.COMMITTED
    assert stats["commits"] == commits_before + committed, state
    assert stats["documents"] == len(v0.docs)
    # one commit holds the whole update: all documents are at version 1, or all still at version 0
    expected = v1 if committed else v0
    assert stored_texts(data) == {d.doc_id: d.normalized for d in expected.docs}
    complete(data, v1)
    crasher.check_data_dir(data, v0.by_id(), v1, HASH, require_complete=True)
    assert crasher.temp_files(data) == []


@pytest.fixture(scope="module")
def _segmented_once(tmp_path_factory) -> tuple[Path, crasher.Corpus]:
    """Version 0 ingested one part per run with merges off: three segments; then one part updated, so
    the first segment carries tombstones."""
    tmp = tmp_path_factory.mktemp("segmented")
    v0 = crasher.write_corpus(tmp / "corpus", 0, parts=3, docs_per_part=2, seed=11)
    data = tmp / "data"
    env = dict(crasher.ingest_env(), POLICYQA_MERGE_FACTOR="100")
    for part in v0.parts:
        rc, _, _ = crasher.run_round(data, [part], env, tmp / "log", "complete", 0, 300)
        assert rc == 0, (tmp / "log").read_text()
    store = Store(data)
    store.write([], delete=[v0.docs[0].doc_id])
    assert len(catalog.manifest(store._conn())) == 3
    store.close()
    return data, v0


@pytest.mark.parametrize("point", sorted(crasher.MERGE_CRASH_POINTS))
def test_kill_at_each_merge_step_keeps_every_document(_segmented_once, tmp_path, point):
    source, v0 = _segmented_once
    data = tmp_path / "data"
    shutil.copytree(source, data)
    before = stored_texts(data)
    rc = crasher.merge_crashing_at(point, data, crasher.ingest_env())
    assert rc == -signal.SIGKILL, f"the child did not reach {point!r} (exit {rc})"
    state = crasher.raw_state(data)
    stats = crasher.check_store(data, HASH)[0]
    assert stats["segments"] == (1 if point == "merge-published" else 3), state
    assert stored_texts(data) == before
    store = Store(data)
    with store.lock:
        store.merge(force=True)  # the next merge completes the work
    store.close()
    assert crasher.check_store(data, HASH)[0]["segments"] == 1
    assert stored_texts(data) == before and len(before) == len(v0.docs) - 1


def test_temp_file_of_a_killed_atomic_write_is_cleaned_up(filled):
    data, _v0, v1 = filled
    rc = crasher.ingest_crashing_at("mid-done-write", data, v1.parts, crasher.ingest_env())
    assert rc == -signal.SIGKILL
    assert crasher.temp_files(data), "the kill should have left DONE's temp file"
    Store(data).close()  # opening repairs what a crash left behind
    assert crasher.temp_files(data) == []
    complete(data, v1)
    assert crasher.temp_files(data) == []

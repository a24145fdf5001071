"""Concurrency: writers serialize on the lock, a blocked writer fails clearly, readers see whole commits."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from filelock import FileLock

from bench import crasher
from corpus.models import Article
from corpus.prepare import prepare
from index.embedder import EmbedderSpec
from index.ingest import ingest_items
from index.store import LOCK, Store, WriterBusyError
from qa.search import Searcher

ROOT = Path(__file__).resolve().parents[1]
HASH = EmbedderSpec("hash", crasher.HASH_EMBEDDER.partition(":")[2])
PER_BATCH = 3


def cli(data: Path, *args: str, patch: str = "") -> subprocess.Popen:
    """Start ``policyqa`` in a child process (``patch``: Python run before the CLI, for test hooks)."""
    code = f"import sys\n{patch}\nfrom api.cli import main\nsys.exit(main(sys.argv[1:]))"
    cmd = [sys.executable, "-c", code, "--data-dir", str(data), *args]
    return subprocess.Popen(
        cmd, cwd=ROOT, env=crasher.ingest_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def batch_articles(b: int) -> list[Article]:
    """Batch ``b``: PER_BATCH articles whose ids name the batch."""
    import random

    rng = random.Random(b)
    return [
        Article(doc_id=f"b{b:03d}-d{i}", title=f"第{b}批第{i}篇", text=crasher.body(rng, f"b{b}d{i}", 12))
        for i in range(PER_BATCH)
    ]


def test_two_writer_processes_both_finish_and_both_sets_are_in(tmp_path):
    corpora = [
        crasher.write_corpus(tmp_path / "in", 0, parts=4, docs_per_part=2, seed=3, sentences=(10, 30), name=n)
        for n in ("a-", "b-")
    ]
    data = tmp_path / "data"  # both start on a data directory that does not exist yet
    results: dict[str, list] = {}

    def writer(c: crasher.Corpus, key: str) -> None:
        out = results.setdefault(key, [])
        for half in (c.parts[:2], c.parts[2:]):  # two runs: two commits per writer
            p = cli(data, "ingest", *map(str, half), "--json")
            stdout, stderr = p.communicate(timeout=300)
            out.append((p.returncode, stdout, stderr))

    threads = [threading.Thread(target=writer, args=(c, c.docs[0].doc_id[:2])) for c in corpora]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for runs in results.values():
        for rc, stdout, stderr in runs:
            assert rc == 0, stderr
            assert json.loads(stdout)["added"] > 0
    both = crasher.Corpus(0, [], corpora[0].docs + corpora[1].docs)
    stats = crasher.check_data_dir(data, {}, both, HASH, require_complete=True)
    assert stats["documents"] == len(both.docs)
    assert stats["commits"] == 4  # one commit per run: none was lost or merged


def test_writer_blocked_past_its_bounded_wait_fails_clearly(tmp_path):
    data = tmp_path / "data"
    store = Store(data, HASH)
    ingest_items(store, batch_articles(0))
    before = store.stats()
    holder = FileLock(str(data / LOCK))
    with holder.acquire(timeout=5):
        t0 = time.monotonic()
        with pytest.raises(WriterBusyError, match=r"write\.lock.*gave up after"):
            store.write([prepare(a) for a in batch_articles(1)], lock_timeout=0.5)
        waited = time.monotonic() - t0
    assert 0.4 <= waited < 5
    assert store.stats() == before  # nothing half-written
    ingest_items(store, batch_articles(1))  # once the lock is free the same write goes through
    assert store.stats()["documents"] == 2 * PER_BATCH


def test_cli_writer_blocked_past_its_bounded_wait_exits_3_with_a_busy_message(tmp_path):
    src = crasher.write_corpus(tmp_path / "in", 0, parts=1, docs_per_part=1, seed=5, sentences=(5, 10))
    data = tmp_path / "data"
    Store(data, HASH).close()
    # The CLI has no option for the lock timeout (30 s); shorten it through the environment.
    patch = "import os; os.environ['POLICYQA_LOCK_TIMEOUT'] = '1.0'"
    with FileLock(str(data / LOCK)).acquire(timeout=5):
        t0 = time.monotonic()
        p = cli(data, "ingest", str(src.parts[0]), "--json", patch=patch)
        _stdout, stderr = p.communicate(timeout=120)
        waited = time.monotonic() - t0
    assert p.returncode == 3, stderr
    assert "busy:" in stderr and "write.lock" in stderr and "Traceback" not in stderr
    assert waited < 60
    store = Store(data)
    assert store.stats()["documents"] == 0


WRITER = textwrap.dedent(
    """
    import random, sys
    sys.path.insert(0, {root!r})
    from corpus.models import Article
    from bench import crasher
    from index.embedder import EmbedderSpec
    from index.ingest import ingest_items
    from index.store import Store

    store = Store({data!r}, EmbedderSpec("hash", "64"))
    for b in range(1, {batches} + 1):
        rng = random.Random(b)
        arts = [Article(doc_id=f"b{{b:03d}}-d{{i}}", title=f"第{{b}}批第{{i}}篇",
                        text=crasher.body(rng, f"b{{b}}d{{i}}", 12)) for i in range({per})]
        ingest_items(store, arts)  # one commit per batch
    """
)


def check_snapshot(view) -> tuple[int, int]:
    """One read: the live segments hold exactly the catalog snapshot's chunks, which form whole batches."""
    conn = view._conn
    number = int(conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
    assert view.generation == number, f"reader got generation {view.generation} for catalog generation {number}"
    rows = [r[0] for r in conn.execute("SELECT id FROM chunks ORDER BY id")]
    live = np.concatenate([np.asarray(seg.arrays.ids)[mask] if mask is not None else np.asarray(seg.arrays.ids)
                           for seg, mask in view.segments]) if view.segments else np.zeros(0, np.int64)
    assert sorted(live.tolist()) == rows
    assert view.n_chunks == len(rows)
    batches = Counter(r[0].split("-")[0] for r in conn.execute("SELECT doc_id FROM documents"))
    assert sorted(batches) == [f"b{i:03d}" for i in range(len(batches))], f"a batch is missing: {batches}"
    assert set(batches.values()) == {PER_BATCH}, f"a batch is half there: {batches}"
    commits = int(conn.execute("SELECT value FROM meta WHERE key = 'commits'").fetchone()[0])
    assert len(batches) == commits, "one commit per batch"
    orphans = conn.execute("SELECT count(*) FROM chunks WHERE doc_id NOT IN (SELECT doc_id FROM documents)")
    assert orphans.fetchone()[0] == 0
    return commits, len(rows)


def test_readers_during_writes_see_whole_generations_only(tmp_path):
    data = tmp_path / "data"
    ingest_items(Store(data, HASH), batch_articles(0))
    reader = Store(data)
    searcher = Searcher(reader)
    seen: Counter = Counter()
    errors: list[BaseException] = []
    stop = threading.Event()

    def read_loop() -> None:
        try:
            while not stop.is_set():
                with reader.read() as view:
                    number, _ = check_snapshot(view)
                seen[number] += 1
                if seen.total() % 5 == 0:  # the search path: every candidate id has its catalog row
                    cands, rows = searcher.candidates("昆明市产业园区建设投资")
                    assert set(cands.dense) | set(cands.lexical) <= set(rows)
        except BaseException as e:  # noqa: BLE001 - reported by the test thread
            errors.append(e)

    batches = 15
    thread = threading.Thread(target=read_loop)
    thread.start()
    try:
        code = WRITER.format(root=str(ROOT), data=str(data), batches=batches, per=PER_BATCH)
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
        )
    finally:
        time.sleep(0.2)
        stop.set()
        thread.join(timeout=60)
    reader.close()
    assert done.returncode == 0, done.stderr
    if errors:
        raise errors[0]
    assert max(seen) == batches + 1
    assert len(seen) >= 3, f"the reader saw too few generations to show anything: {dict(seen)}"
    print(f"{seen.total()} reads over {len(seen)} generations")


def test_reader_whose_segment_was_merged_away_before_it_loads_retakes_its_snapshot(tmp_path):
    data = tmp_path / "data"
    writer = Store(data, HASH, merge_factor=2)
    ingest_items(writer, batch_articles(0))
    reader = Store(data)
    real = reader._segment
    fired = []

    def segment(number):
        if not fired:  # the reader's snapshot names segment 1; two merges later its files are gone
            fired.append(number)
            for b in (1, 2, 3):
                ingest_items(writer, batch_articles(b))
            assert not (data / "segments" / f"{number:08d}").exists()
        return real(number)

    reader._segment = segment
    with reader.read() as view:
        assert check_snapshot(view)[0] == 4  # the retaken snapshot: every batch, whole
    assert fired == [1]


def test_reader_keeps_reading_a_snapshot_whose_segments_are_removed_meanwhile(tmp_path):
    data = tmp_path / "data"
    writer = Store(data, HASH, merge_factor=2)
    ingest_items(writer, batch_articles(0))
    reader = Store(data)
    searcher = Searcher(reader)
    with reader.read() as view:
        for b in (1, 2, 3):
            ingest_items(writer, batch_articles(b))  # segment 1 is merged away and its directory removed
        assert check_snapshot(view)[0] == 1
        assert len(view.lexical(["昆明"], 5)[1]) or len(view.dense(np.ones(64, np.float32), 5)[1])
    cands, rows = searcher.candidates("昆明市产业园区建设投资")
    assert set(cands.dense) | set(cands.lexical) <= set(rows)


def test_concurrent_writers_do_not_store_the_same_text_twice(tmp_path):
    data = tmp_path / "data"
    Store(data, HASH).close()
    [a] = batch_articles(7)[:1]
    twin = Article(doc_id="twin", title=a.title, text=a.text)
    results: dict[str, object] = {}
    planned = [threading.Event(), threading.Event()]

    def write(i: int, article: Article) -> None:
        store = Store(data)
        real_plan = store.plan

        def plan(docs, *args, **kwargs):
            out = real_plan(docs, *args, **kwargs)
            planned[i].set()
            return out

        store.plan = plan
        try:
            results[article.doc_id] = store.write([prepare(article)], lock_timeout=30)
        finally:
            store.close()

    with FileLock(str(data / LOCK)).acquire(timeout=5):  # both writers plan, then wait for the lock
        threads = [threading.Thread(target=write, args=x) for x in enumerate((a, twin))]
        for t in threads:
            t.start()
        assert all(e.wait(30) for e in planned)
    for t in threads:
        t.join(timeout=60)
    store = Store(data)
    ids = {d["doc_id"] for d in store.list_documents()}
    assert len(ids) == 1, f"the same text is stored under {sorted(ids)}: {results}"

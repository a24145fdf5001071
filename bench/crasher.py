"""Crash-safety driver: SIGKILL ``policyqa ingest`` at random moments, then check the data directory.

In the style of a database "crasher": a seeded schedule starts ``python -m api.cli ingest`` on a growing
synthetic corpus and kills it, then opens the data directory with a fresh ``Store`` and checks that
nothing was lost or half-written. Each kill is placed one of two ways (:data:`MODES`):

* at a crash point: the ingest child SIGKILLs itself when it reaches a named step of a commit
  (:data:`CRASH_POINTS`: inside the segment write, before or after its seal, after the catalog
  commit) or the first or second time it reaches a step of a merge (:data:`MERGE_CRASH_POINTS`),
  drawn from a seeded shuffled deck, so every step is hit whatever the timing;
* at a random time: SIGKILL from outside, anywhere in the run, or a random delay after the next
  segment's directory appeared, or just after it was sealed.

With ``POLICYQA_MERGE_FACTOR=2`` the writes trigger merges often. The checks:

* the catalog opens (``PRAGMA integrity_check``) and the store opens, repairing what the crash left;
* every segment the committed manifest names is sealed; no other segment directory survives the open
  (but those retired by the last merge); no temporary files are left (a kill inside an atomic write
  does leave one, which is counted in the stats; ``--strict-temp-files`` makes it a failure);
* every live chunk row is live in exactly one live segment (the one its row names), and no live
  segment holds a row the catalog does not; spot checks find chunks by their own vectors and by their
  terms; the corpus-global term statistics equal a recount over the live rows;
* every document is either absent or present with exactly the chunks of one complete version of it,
  and the documents written by the interrupted run form a prefix of the input order.

The corpus goes through versions ("epochs"): when every document of one version is in, each document's
text changes, so later kills interrupt updates of stored documents, not only additions. ``policyqa
ingest`` commits one batch per ``BATCH_CHUNKS`` chunks, so each run here is given a few small folders
and a run usually makes one commit; many runs make many commits.

    python bench/crasher.py --kills 100 --real-model   # long run with the default model
    python bench/crasher.py --kills 20 --parts 6 --docs-per-part 2   # about what the tests run

``CRASH_POINTS`` and ``ingest_crashing_at`` kill a writer at a named step of a commit instead;
``MERGE_CRASH_POINTS`` and ``merge_crashing_at`` at a named step of a merge.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.synthetic_text import PLACES, TOPICS, policy_sentence  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HASH_EMBEDDER = "hash:64"
PHASES = ("commit points", "merge points", "random time")  # how a kill was placed
# Kill modes of the random loop and their weights: a crash point reached inside the run (a commit's or
# a merge's), or SIGKILL from outside at a random moment of the run, of the commit, or after a seal.
MODES = {"commit point": 3, "merge point": 2, "anywhere": 2, "in-commit": 2, "after-seal": 1}
MAX_NTH = 2  # a point is reached at the first or second commit (merge) of the run
BATCH_CHUNKS = 20  # chunks per commit in the random loop: a run makes a few commits, and merges


@dataclass
class DocVersion:
    """What one version of one document must look like in the catalog."""

    doc_id: str
    epoch: int
    normalized: str
    content_hash: str
    chunk_ids: list[str]


@dataclass
class Corpus:
    """One version of the synthetic corpus: folders in ingest order and every document's version."""

    epoch: int
    parts: list[Path]
    docs: list[DocVersion]  # in the order ingest reads them

    def by_id(self) -> dict[str, DocVersion]:
        return {d.doc_id: d for d in self.docs}


@dataclass
class CrashStats:
    """What a crasher run did."""

    rounds: int = 0
    kills: int = 0
    completed_runs: int = 0
    progress_steps: int = 0  # windows ingested by the driver itself after kills that made no progress
    commits_seen: int = 0
    modes: Counter = field(default_factory=Counter)
    states: Counter = field(default_factory=Counter)  # what each kill left on disk, before repair
    phases: Counter = field(default_factory=Counter)  # kills per phase: commit points, merge points, random time
    points: Counter = field(default_factory=Counter)  # kills per crash point ("name #n")
    landed: Counter = field(default_factory=Counter)  # (phase, what the kill left on disk) per kill
    points_not_reached: Counter = field(default_factory=Counter)  # point runs that completed instead
    checks: int = 0  # full invariant checks of the data directory (after every kill and completed run)
    stopped_early: bool = False  # the loop stopped (``stop_after``) before its number of kills
    epochs: int = 0
    seconds: float = 0.0
    final_documents: int = 0
    final_chunks: int = 0
    final_generation: int = 0
    temp_files_left_by_kills: int = 0
    temp_files_at_end: list[str] = field(default_factory=list)  # still there after the final ingest

    def as_dict(self) -> dict:
        return {
            "rounds": self.rounds,
            "kills": self.kills,
            "completed_runs": self.completed_runs,
            "progress_steps": self.progress_steps,
            "commits_seen": self.commits_seen,
            "kill_modes": dict(self.modes),
            "kills_by_phase": dict(self.phases),
            "kills_by_point": dict(sorted(self.points.items())),
            "points_not_reached": dict(sorted(self.points_not_reached.items())),
            "left_on_disk": dict(self.states),
            "landed": {f"{ph}: {st}": n for (ph, st), n in sorted(self.landed.items())},
            "invariant_checks": self.checks,
            "stopped_early": self.stopped_early,
            "epochs": self.epochs,
            "seconds": round(self.seconds, 1),
            "final_documents": self.final_documents,
            "final_chunks": self.final_chunks,
            "final_generation": self.final_generation,
            "temp_files_left_by_kills": self.temp_files_left_by_kills,
            "temp_files_at_end": self.temp_files_at_end,
        }

    def summary(self) -> str:
        """Where the kills landed, per phase and per crash point, in a few lines."""
        rate = f"{60 * self.kills / self.seconds:.1f} kills/min" if self.seconds else "-"
        lines = [f"{self.kills} kills in {self.rounds} runs and {self.seconds:.0f}s ({rate}; "
                 f"{self.completed_runs} completed, "
                 f"{self.progress_steps} windows ingested in process), {self.commits_seen} commits and merges "
                 f"published, {self.epochs} corpus version changes, {self.checks} invariant checks, all held"]
        if self.stopped_early:
            lines.append("  stopped early (--stop-after), before the number of kills asked for")
        for phase in PHASES:
            lines.append(f"  {phase}: {self.phases[phase]} kills")
            for (ph, state), n in sorted(self.landed.items()):
                if ph == phase:
                    lines.append(f"      left on disk: {state}: {n}")
            if phase != PHASES[-1]:
                points = [f"{p} {n}" for p, n in sorted(self.points.items()) if _phase_of(p.split(" #")[0]) == phase]
                lines.append(f"      per point: {', '.join(points) or '-'}")
        if self.points_not_reached:
            lines.append("  point runs that completed without reaching their point: "
                         + ", ".join(f"{p} {n}" for p, n in sorted(self.points_not_reached.items())))
        return "\n".join(lines)


def _phase_of(point: str) -> str:
    return "merge points" if point in MERGE_CRASH_POINTS else "commit points"


class CrashCheckError(AssertionError):
    """The data directory is not in a state a crash may leave behind."""


# ----- corpus ----------------------------------------------------------------------------------------
def sentence(rng: random.Random, serial: str) -> str:
    """One synthetic policy-news sentence carrying ``serial`` (so that texts never repeat)."""
    return policy_sentence(rng, serial, topics=2)


def body(rng: random.Random, tag: str, sentences: int) -> str:
    """Paragraphs of ``sentences`` synthetic sentences, serial numbers prefixed with ``tag``."""
    paragraphs, para = [], []
    for i in range(sentences):
        para.append(sentence(rng, f"{tag}-{i}"))
        if len(para) >= rng.randint(3, 8):
            paragraphs.append("".join(para))
            para = []
    paragraphs.append("".join(para) or sentence(rng, f"{tag}-end"))
    return "\n".join(paragraphs)


def write_corpus(
    root: Path,
    epoch: int,
    parts: int = 40,
    docs_per_part: int = 3,
    seed: int = 0,
    sentences: tuple = (20, 60),
    name: str = "",
) -> Corpus:
    """Write one version of the corpus under ``root/epoch-<e>/part-<i>/`` and describe its documents.

    Each part holds ``docs_per_part`` .txt articles (title, date and source lines, body) and one .jsonl
    file with two records. File names and JSONL ids are the same in every epoch (so a later epoch,
    ingested with ``--replace`` since its files are other files, updates the documents of an earlier
    one); texts differ per epoch. ``name`` prefixes folder, file
    names and ids, for corpora that must not share documents.
    """
    base = root / f"{name}epoch-{epoch}"
    paths = []
    for p in range(parts):
        rng = random.Random(f"{seed}/{name}/{epoch}/{p}")
        part = base / f"part-{p:03d}"
        part.mkdir(parents=True, exist_ok=True)
        for d in range(docs_per_part):
            text = body(rng, f"{name}e{epoch}p{p}d{d}", rng.randint(*sentences))
            title = f"{rng.choice(PLACES)}{rng.choice(TOPICS)}工作简报（{p}-{d}）"
            head = f"{title}\n- 时间:2025-{1 + p % 12:02d}-{1 + d:02d}\n- 来源:{rng.choice(PLACES)}日报\n"
            (part / f"{name}p{p:03d}-d{d}.txt").write_text(head + text + "\n", encoding="utf-8")
        with open(part / f"{name}p{p:03d}-feed.jsonl", "w", encoding="utf-8") as f:
            for j in range(2):
                record = {
                    "id": f"{name}feed-{p:03d}-{j}",
                    "title": f"{rng.choice(PLACES)}{rng.choice(TOPICS)}快讯",
                    "date": f"2024-{1 + j:02d}-{1 + p % 28:02d}",
                    "source": "云南网",
                    "content": body(rng, f"{name}e{epoch}p{p}j{j}", rng.randint(*sentences)),
                }
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
        paths.append(part)
    return Corpus(epoch, paths, describe(paths, epoch))


def describe(parts: list[Path], epoch: int) -> list[DocVersion]:
    """The documents ``policyqa ingest <parts...>`` produces from these folders, in commit order."""
    from corpus.prepare import prepare
    from corpus.readers import read_paths

    out = []
    for item in read_paths(parts):
        if not hasattr(item, "doc_id"):
            raise RuntimeError(f"generated corpus has a rejected input: {item}")
        doc = prepare(item)
        out.append(
            DocVersion(doc.doc_id, epoch, doc.text, doc.content_hash, [c.chunk_id for c in doc.chunks])
        )
    if len({d.doc_id for d in out}) != len(out) or len({d.content_hash for d in out}) != len(out):
        raise RuntimeError("generated corpus has repeated ids or texts")
    return out


# ----- on-disk state ---------------------------------------------------------------------------------
def _seg_dirs(data_dir: Path) -> dict[int, bool]:
    """Segment directories present: id -> sealed."""
    from index import segments

    root = data_dir / "segments"
    if not root.is_dir():
        return {}
    return {int(c.name): segments.is_sealed(c) for c in root.iterdir() if c.name.isdigit()}


def temp_files(data_dir: Path) -> list[Path]:
    """Stray temporary files (atomic-write leftovers) anywhere in the data directory."""
    return sorted(p for p in data_dir.rglob("*") if p.is_file() and p.name.endswith(".tmp"))


def _catalog_state(data_dir: Path) -> tuple[set[int], set[int], int, int] | None:
    """(live segment ids, retired ids, largest chunk key, last committed segment id) read without
    opening the store."""
    conn = sqlite3.connect(f"file:{data_dir / 'catalog.sqlite'}?mode=ro", uri=True)
    try:
        live = {r[0] for r in conn.execute("SELECT id FROM segments")}
        row = conn.execute("SELECT value FROM meta WHERE key = 'retired'").fetchone()
        top = conn.execute("SELECT max(id) FROM chunks").fetchone()[0] or 0
        last = conn.execute("SELECT value FROM meta WHERE key = 'next_segment'").fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return live, set(json.loads(row[0])) if row else set(), top, int(last[0]) if last else 0


def raw_state(data_dir: Path) -> str:
    """Which crash window the on-disk state shows, read without opening (or repairing) the store."""
    import numpy as np

    if not (data_dir / "catalog.sqlite").exists():
        return "no catalog yet"
    try:
        state = _catalog_state(data_dir)
    except sqlite3.Error as e:
        return f"catalog unreadable before open ({e})"
    if state is None:
        return "catalog without tables yet"
    live, retired, top, last = state  # retired: merged away by the last merge, kept for readers until the next
    dirs = _seg_dirs(data_dir)
    extra = {n: sealed for n, sealed in dirs.items() if n not in live | retired}
    if any(not dirs.get(n) for n in live):
        return "published segment missing or unsealed"
    unpublished = {n: sealed for n, sealed in extra.items() if n > last}  # a commit or merge never committed
    if extra and not unpublished:
        return "merge committed, the segments merged away before it not removed yet"
    for n, sealed in sorted(unpublished.items()):
        kind = "commit"
        try:
            ids = np.load(data_dir / "segments" / f"{n:08d}" / "ids.npy", allow_pickle=False)
            kind = "merge" if len(ids) and int(ids.max()) <= top else "commit"
        except (OSError, ValueError):
            pass
        return f"{kind} segment {'sealed' if sealed else 'partly written'}, catalog not committed"
    return "clean (killed outside the segment writes)"  # retired segments stay one merge, for readers


# ----- checks ----------------------------------------------------------------------------------------
def _fail(msg: str) -> None:
    raise CrashCheckError(msg)


def check_store(data_dir: Path, spec=None, allow_temp: set[Path] = frozenset()) -> tuple[dict, dict, dict]:
    """Open the data directory with a fresh Store (which repairs what a crash left) and check that it is
    whole: catalog integrity, every published segment sealed, no unpublished segment directory and no
    stray temporary file (but ``allow_temp``) left, every live chunk row live in exactly one live
    segment (the one its row names) and nothing else live, chunks findable by their own vectors and by
    their terms (spot checks), term statistics equal to a recount, every chunk with its document and
    every document with chunks. ``spec``: the EmbedderSpec to create a missing directory with.

    Returns (stats, {doc_id: (normalized, content_hash)}, {doc_id: [chunk_id, ...]}).
    """
    from collections import Counter as _Counter

    import numpy as np

    from index import segments
    from index.store import Store

    if not (data_dir / "catalog.sqlite").exists():
        if any(data_dir.glob("segments/*")):
            _fail("segment files exist without a catalog")
        return {"generation": 0, "documents": 0, "chunks": 0, "commits": 0}, {}, {}  # killed before the store existed
    conn = sqlite3.connect(data_dir / "catalog.sqlite")
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    if integrity != "ok":
        _fail(f"catalog integrity_check: {integrity}")

    store = Store(data_dir, spec)  # opening repairs what a crash left behind
    try:
        stats = store.stats()
        stray = [p for p in temp_files(data_dir) if p not in allow_temp]
        if stray:
            _fail(f"stray temporary files left: {[str(p.relative_to(data_dir)) for p in stray]}")
        with store.read() as view:
            rconn = view._conn
            live_ids = {seg.id for seg, _m in view.segments}
            retired = set(json.loads((rconn.execute("SELECT value FROM meta WHERE key = 'retired'").fetchone()
                                      or ["[]"])[0]))
            for n, sealed in _seg_dirs(data_dir).items():
                if n not in live_ids | retired:
                    _fail(f"segment directory {n} survives the open but no manifest names it")
                if n in live_ids and not sealed:
                    _fail(f"published segment {n} is not sealed")
            rows = {r[0]: r[1] for r in rconn.execute("SELECT id, segment FROM chunks")}
            live: dict[int, int] = {}
            for seg, mask in view.segments:
                ids = np.asarray(seg.arrays.ids)
                for key in (ids if mask is None else ids[mask]).tolist():
                    if key in live:
                        _fail(f"chunk {key} is live in segments {live[key]} and {seg.id}")
                    live[key] = seg.id
            if live != rows:
                missing = sorted(set(rows) - set(live))[:5]
                extra = sorted(set(live) - set(rows))[:5]
                moved = sorted(k for k in set(rows) & set(live) if rows[k] != live[k])[:5]
                _fail(f"segments and catalog disagree: unsearchable {missing}, deleted but live {extra}, "
                      f"in another segment than their row says {moved}")
            if view.n_chunks != len(rows):
                _fail(f"n_chunks is {view.n_chunks}, catalog has {len(rows)} chunk rows")
            df: _Counter = _Counter()
            total = 0
            tokens_of: dict[int, list[str]] = {}
            for key, toks, n_tokens in rconn.execute("SELECT id, tokens, n_tokens FROM chunks"):
                toks = json.loads(toks)
                tokens_of[key] = toks
                df.update(set(toks))
                total += n_tokens
            stored = {t: n for t, n in rconn.execute("SELECT term, df FROM terms WHERE df != 0")}
            if stored != dict(df):
                bad = sorted(t for t in set(stored) | set(df) if stored.get(t) != df.get(t))[:5]
                _fail(f"term statistics differ from a recount for {bad}")
            if int((rconn.execute("SELECT value FROM meta WHERE key = 'total_len'").fetchone() or [0])[0]) != total:
                _fail("total token length differs from a recount")
            docs = {
                r[0]: (r[1], r[2])
                for r in rconn.execute("SELECT doc_id, normalized, content_hash FROM documents")
            }
            chunks: dict[str, list[str]] = {}
            for doc_id, chunk_id in rconn.execute(
                "SELECT doc_id, chunk_id FROM chunks ORDER BY doc_id, position"
            ):
                chunks.setdefault(doc_id, []).append(chunk_id)
            if set(chunks) - set(docs):
                _fail(f"chunks without a document: {sorted(set(chunks) - set(docs))[:5]}")
            if set(docs) - set(chunks):
                _fail(f"documents without chunks: {sorted(set(docs) - set(chunks))[:5]}")
            # every chunk is findable by its own vector and by its own terms (spot checks, deterministic)
            keys = sorted(rows)
            by_seg = {seg.id: seg for seg, _m in view.segments}
            for key in keys[:: max(1, len(keys) // 7)]:
                seg = by_seg[rows[key]]
                pos = int(np.searchsorted(seg.arrays.ids, key))
                vec = np.asarray(seg.arrays.vectors[pos])
                _scores, found = view.dense(vec, 5)
                if key not in found.tolist():
                    _fail(f"chunk row {key} is not found by its own vector")
                toks = [t for t in tokens_of[key] if len(t) >= 2][:3]
                if toks and key not in view.lexical(toks, len(keys))[1].tolist():
                    _fail(f"chunk row {key} is not found by its terms {toks}")
                if segments.is_sealed(seg.directory) is False:
                    _fail(f"segment {seg.id} lost its seal")
    finally:
        store.close()

    return stats, docs, chunks


def check_data_dir(
    data_dir: Path,
    previous: dict[str, DocVersion],
    current: Corpus,
    spec=None,
    require_complete: bool = False,
    allow_temp: set[Path] = frozenset(),
) -> dict:
    """:func:`check_store`, then check the documents against the corpus being ingested.

    ``previous`` is the state the store may still hold for a document (its last completed version),
    ``current`` the corpus being ingested: each document holds exactly one of those versions, with all
    its chunks, and those at ``current`` form a prefix of its input order (all of it with
    ``require_complete``). ``allow_temp``: stray temporary files already known (left by earlier kills).
    Returns the store's stats, with ``current``: how many documents hold the current version.
    """
    stats, docs, chunks = check_store(data_dir, spec, allow_temp)
    now = current.by_id()
    written = []  # per document in input order: True when it holds the current version
    for doc_id, (normalized, chash) in docs.items():
        allowed = [v for v in (now.get(doc_id), previous.get(doc_id)) if v is not None]
        match = next((v for v in allowed if v.content_hash == chash), None)
        if match is None:
            _fail(f"{doc_id}: stored text matches no version that was ever ingested")
        if match.normalized != normalized:
            _fail(f"{doc_id}: stored normalized text differs from version {match.epoch}")
        if chunks.get(doc_id, []) != match.chunk_ids:
            _fail(
                f"{doc_id}: {len(chunks.get(doc_id, []))} chunks stored, version {match.epoch} "
                f"has {len(match.chunk_ids)} (a half-written document)"
            )
    for doc_id in previous:
        if doc_id not in docs and doc_id in now:
            _fail(f"{doc_id}: a previously stored document was lost")
    for d in current.docs:
        stored = docs.get(d.doc_id)
        written.append(stored is not None and stored[1] == d.content_hash)
    if any(written[i + 1] and not written[i] for i in range(len(written) - 1)):
        first_gap = written.index(False)
        _fail(
            f"stored documents are not a prefix of the input order (gap at {current.docs[first_gap].doc_id})"
        )
    if require_complete and not all(written):
        _fail(f"{written.count(False)} documents missing after an uninterrupted ingest")
    return dict(stats, current=sum(written))


# ----- the driver --------------------------------------------------------------------------------------
def ingest_env(real_model: bool = False) -> dict[str, str]:
    """Environment for ingest child processes: the hash embedder unless ``real_model``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.pop("POLICYQA_DATA", None)
    env.setdefault("POLICYQA_MERGE_FACTOR", "2")  # merge often, so that kills land inside merges too
    if real_model:
        env.pop("POLICYQA_EMBEDDER", None)
    else:
        env["POLICYQA_EMBEDDER"] = HASH_EMBEDDER
    return env


def catalog_generation(data_dir: Path) -> int:
    """Commits and merges the catalog has published (0 before the first)."""
    return _meta_int(data_dir, "generation")


def catalog_commits(data_dir: Path) -> int:
    """Commits of documents the catalog has published (merges not counted)."""
    return _meta_int(data_dir, "commits")


def _meta_int(data_dir: Path, key: str) -> int:
    path = data_dir / "catalog.sqlite"
    if not path.exists():
        return 0
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    except sqlite3.Error:
        return 0
    finally:
        conn.close()
    return int(row[0]) if row else 0


def run_ingest(
    data_dir: Path, parts: list[Path], env: dict[str, str], log: Path, point: tuple[str, int] | None = None
) -> subprocess.Popen:
    """Start ``python -m api.cli --data-dir D ingest PARTS... --json`` (stdout and stderr to ``log``);
    with ``point`` (name, n) the same ingest, SIGKILLing itself the n-th time it reaches that crash point."""
    if point:
        cmd = crash_at_command(point[0], point[1], data_dir, parts)
    else:
        cmd = [sys.executable, "-m", "api.cli", "--data-dir", str(data_dir), "ingest", "--replace",
               *map(str, parts), "--json"]
    with open(log, "wb") as out:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def _wait_for(proc: subprocess.Popen, ready, deadline: float) -> bool:
    """Poll until ``ready()`` or the process ends; True when ready while it still runs."""
    while proc.poll() is None and time.monotonic() < deadline:
        if ready():
            return True
        time.sleep(0.001)
    return False


def _identity(path: Path) -> tuple[int, int] | None:
    """(inode, ctime) of a path, None when it does not exist: tells a re-created path from a stale one."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_ctime_ns


def run_round(
    data_dir: Path,
    window: list[Path],
    env: dict[str, str],
    log_file: Path,
    mode: str,
    delay: float,
    run_timeout: float,
    point: tuple[str, int] | None = None,
) -> tuple[int, float, float | None]:
    """Run one ingest; unless ``mode`` is "complete", SIGKILL it ``delay`` seconds after its start
    ("anywhere"), after the next segment's directory appeared ("in-commit") or after it was sealed
    ("after-seal"); in mode "point" the ingest kills itself at crash point ``point`` (name, n-th time)
    or completes when it does not reach it. Returns (exit status, seconds run, seconds from the new
    segment's directory to the exit of a run that was not killed, when seen)."""
    nxt = data_dir / "segments" / f"{_meta_int(data_dir, 'next_segment') + 1:08d}"
    marker = nxt / "DONE" if mode == "after-seal" else nxt
    stale = _identity(marker)  # an interrupted try at the same generation may have left it
    t0 = time.monotonic()
    proc = run_ingest(data_dir, window, env, log_file, point if mode == "point" else None)
    in_commit = None
    try:
        if mode == "point":
            proc.wait(timeout=run_timeout)
        elif mode == "anywhere":
            _wait_for(proc, lambda: False, t0 + delay)
        elif _wait_for(proc, lambda: _identity(marker) not in (None, stale), t0 + run_timeout):
            t1 = time.monotonic()
            _wait_for(proc, lambda: False, t1 + (run_timeout if mode == "complete" else delay))
            if proc.poll() is not None:
                in_commit = time.monotonic() - t1
        if mode not in ("complete", "point") and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        rc = proc.wait(timeout=run_timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return rc, time.monotonic() - t0, in_commit


def ingest_in_process(data_dir: Path, parts: list[Path], spec=None) -> dict:
    """Ingest ``parts`` without a child process (no start-up cost); returns the store's stats."""
    from index.ingest import ingest_paths
    from index.store import Store

    store = Store(data_dir, spec)
    try:
        report = ingest_paths(store, parts, replace=True)
        if report.rejected:
            _fail(f"corpus input rejected: {report.rejected[:3]}")
        return store.stats()
    finally:
        store.close()


def crash_loop(
    workdir: Path,
    kills: int = 20,
    seed: int = 0,
    real_model: bool = False,
    parts: int = 40,
    docs_per_part: int = 3,
    max_seconds: float = 150.0,
    run_timeout: float = 600.0,
    strict_temp_files: bool = False,
    batch_chunks: int = BATCH_CHUNKS,
    stop_after: float | None = None,
    log=print,
) -> CrashStats:
    """SIGKILL ingest runs ``kills`` times, checking the data directory after each kill and at the end.

    Each run is killed in one of :data:`MODES`: at a crash point inside the write path, drawn (seeded)
    from a shuffled deck of the commit points (each reached once per commit) or of the merge points
    (each with a random occurrence: the first or second commit or merge of the run; ``batch_chunks``
    per commit makes a run commit a few times), so that kills land inside segment writes and merges
    whatever the timing; or by SIGKILL from outside at a random moment. A point run
    that does not reach its point (a run that merges less) completes and its card stays on the deck.
    Each folder window is ingested until a run completes; after two kills in a row without a new
    commit the driver ingests the window itself (same code, no start-up cost), so the store keeps
    growing and later kills hit bigger commits (and, once a corpus version is in, updates).
    Temporary files a kill leaves behind are counted in ``stats`` (a failure with
    ``strict_temp_files``); completed runs must leave none.
    ``stop_after`` seconds: kill no more after that, finish with the final ingest and its checks (the
    stats say ``stopped_early``). Raises CrashCheckError on the first broken invariant, TimeoutError
    past ``max_seconds``.
    """
    from index.embedder import EmbedderSpec

    rng = random.Random(seed)
    deck_rng = random.Random(f"{seed}/points")  # its own stream: the schedule of modes does not depend on it
    decks: dict[str, list[str]] = {"commit point": [], "merge point": []}

    def draw(mode: str) -> tuple[str, int]:
        deck = decks[mode]
        if not deck:
            deck.extend(deck_rng.sample(COMMIT_PHASE if mode == "commit point" else MERGE_PHASE,
                                        len(COMMIT_PHASE if mode == "commit point" else MERGE_PHASE)))
        return deck[-1], deck_rng.randint(1, MAX_NTH)
    data_dir = workdir / "data"
    env = dict(ingest_env(real_model), POLICYQA_BATCH_CHUNKS=str(batch_chunks))
    spec = None if real_model else EmbedderSpec("hash", HASH_EMBEDDER.partition(":")[2])
    stats = CrashStats()
    started = time.monotonic()
    epoch = 0
    corpus = write_corpus(workdir / "corpus", epoch, parts, docs_per_part, seed)
    previous: dict[str, DocVersion] = {}
    done = 0  # parts of this version known to be fully ingested
    est_run, est_commit = None, None  # seconds, from the runs that completed
    stuck = 0  # kills in a row without a new commit
    log_file = workdir / "ingest.log"
    stray: set[Path] = set()

    def check(**kw) -> dict:
        stats.checks += 1
        return check_data_dir(data_dir, previous, corpus, spec, allow_temp=stray, **kw)

    while stats.kills < kills:
        if stop_after is not None and time.monotonic() - started > stop_after:
            stats.stopped_early = True
            log(f"stopping after {stats.kills} kills ({stop_after:.0f}s): the final ingest and checks follow")
            break
        if time.monotonic() - started > max_seconds:
            raise TimeoutError(
                f"{stats.kills} kills in {max_seconds:.0f}s, wanted {kills}: {stats.as_dict()}"
            )
        if done >= len(corpus.parts):  # this version is in: the next one updates every document
            previous = corpus.by_id()
            epoch += 1
            stats.epochs = epoch
            corpus = write_corpus(workdir / "corpus", epoch, parts, docs_per_part, seed)
            done = 0
        window = corpus.parts[done : done + rng.randint(1, 2)]
        if est_run is not None and stuck >= 2:  # let the store grow: ingest the window here, uninterrupted
            st = ingest_in_process(data_dir, window, spec)
            stats.progress_steps += 1
            stuck = 0
            check()
            done += len(window)
            log(f"ingested in process: generation {st['generation']}, {st['documents']} documents")
            continue
        point = None
        if est_run is None:  # the first run calibrates the kill delays
            mode, delay = "complete", 0.0
        else:
            mode = rng.choices(list(MODES), weights=list(MODES.values()))[0]
            delay = {
                "anywhere": rng.uniform(0.0, est_run * 1.1),
                "in-commit": rng.uniform(0.0, est_commit * 1.1),
                "after-seal": rng.uniform(0.0, 0.005),
            }.get(mode, 0.0)
            if mode in decks:
                point = draw(mode)
        gen_before = catalog_generation(data_dir)
        stats.rounds += 1
        rc, elapsed, in_commit = run_round(data_dir, window, env, log_file, "point" if point else mode, delay,
                                           run_timeout, point)
        committed = catalog_generation(data_dir) - gen_before
        stats.commits_seen += max(0, committed)
        if point:
            what = f"{point[0]} #{point[1]}"
            if rc == -signal.SIGKILL:
                decks[mode].pop()  # landed: the next draw takes another card
                stats.points[what] += 1
            elif rc == 0:
                stats.points_not_reached[what] += 1
        if rc == -signal.SIGKILL:
            phase = _phase_of(point[0]) if point else "random time"
            stats.kills += 1
            stats.modes[mode] += 1
            stats.phases[phase] += 1
            stuck = 0 if committed else stuck + 1
            state = raw_state(data_dir)
            stats.states[state] += 1
            stats.landed[(phase, state)] += 1
            new = set(temp_files(data_dir)) - stray
            if new:
                stats.temp_files_left_by_kills += len(new)
                if strict_temp_files:
                    _fail(f"kill left temporary files: {sorted(str(p.relative_to(data_dir)) for p in new)}")
                stray |= new
            st = check()
            if st["current"] >= (done + len(window)) * len(corpus.docs) // len(corpus.parts):
                done += len(window)  # the kill came after the window's last commit
            log(
                f"kill {stats.kills:3d} ({what if point else mode}, {elapsed:.2f}s into the run): {state}; "
                f"generation {st['generation']}, {st['documents']} documents"
                + (f"; left {sorted(p.name for p in new)}" if new else "")
            )
        elif rc == 0:
            stats.completed_runs += 1
            stuck = 0
            est_run = elapsed if est_run is None else 0.7 * est_run + 0.3 * elapsed
            if in_commit is not None:
                est_commit = in_commit if est_commit is None else 0.7 * est_commit + 0.3 * in_commit
            est_commit = est_commit or est_run / 2
            st = check()
            done += len(window)
            missed = f"; did not reach {what}" if point else ""
            log(f"run completed ({elapsed:.2f}s{missed}): generation {st['generation']}, {st['documents']} documents")
        else:
            raise CrashCheckError(f"ingest exited {rc}: {log_file.read_text(errors='replace')[-3000:]}")
    # the next ingest completes the work: everything of the current version, nothing lost
    rc, _, _ = run_round(data_dir, corpus.parts, env, log_file, "complete", 0.0, run_timeout)
    if rc != 0:
        raise CrashCheckError(f"final ingest exited {rc}: {log_file.read_text(errors='replace')[-3000:]}")
    st = check(require_complete=True)
    stats.final_documents, stats.final_chunks = st["documents"], st["chunks"]
    stats.final_generation = st["generation"]
    stats.temp_files_at_end = [p.relative_to(data_dir).as_posix() for p in temp_files(data_dir)]
    if st["documents"] != len(corpus.docs):
        _fail(f"{st['documents']} documents stored, corpus has {len(corpus.docs)}")
    stats.seconds = time.monotonic() - started
    return stats


# ----- crash points ----------------------------------------------------------------------------------
CRASH_POINTS = {
    "inserts-done": "catalog rows inserted (uncommitted), before the new segment's directory exists",
    "segment-partly-written": "the new segment's ids and vectors written, its other arrays not yet",
    "segment-unsealed": "the new segment's arrays written, DONE not yet",
    "mid-done-write": "inside the atomic write of the new segment's DONE: temp file written, not renamed",
    "after-seal": "new segment sealed with DONE, catalog not committed",
    "after-commit": "catalog committed (the batch is published), the merges it made due not run",
    "merge-published": "a merge committed, the segments it retired not removed yet",
}
MERGE_CRASH_POINTS = {
    "merge-partly-written": "the merged segment's ids and vectors written, its other arrays not yet",
    "merge-unsealed": "the merged segment's arrays written, DONE not yet",
    "merge-mid-done-write": "inside the atomic write of the merged segment's DONE: temp file written, not renamed",
    "merge-sealed": "merged segment sealed, the merge's catalog transaction not committed",
    "merge-published": "merge committed, the segments it retired not removed yet",
}
COMMITTED = {"after-commit", "merge-published"}  # ingest points past the batch's commit
# The points the random loop draws from, by phase: each is reached once per commit (or per merge).
COMMIT_PHASE = [p for p in CRASH_POINTS if p not in MERGE_CRASH_POINTS]
MERGE_PHASE = list(MERGE_CRASH_POINTS)
ARRAYS_BEFORE_PARTIAL_KILL = 2  # "partly written" points: killed after this many of a segment's arrays


def _install_crash_point(point: str, nth: int = 1) -> None:
    """Patch the store's write path so that this process SIGKILLs itself the ``nth`` time it reaches
    ``point``, counted within the point's phase: inside a commit (``Store._commit``) for the commit
    points, inside a merge (``Store._merge_group``) for the merge points; "after-commit" counts the
    writes that return from their commit. A point not reached ``nth`` times lets the process finish."""
    import numpy as np

    from index import segments, store

    if point not in CRASH_POINTS and point not in MERGE_CRASH_POINTS:
        raise ValueError(f"unknown crash point {point!r}; known: {', '.join(CRASH_POINTS | MERGE_CRASH_POINTS)}")
    if nth < 1:
        raise ValueError(f"crash point occurrence must be >= 1, got {nth}")
    phase = "merge" if point in MERGE_CRASH_POINTS else "commit"
    now = {"phase": None, "saved": 0}  # the phase being run, arrays saved by the segment write under way
    seen = [0]

    def reached(gated: bool = True) -> None:
        if gated and now["phase"] != phase:
            return
        seen[0] += 1
        if seen[0] == nth:
            os.kill(os.getpid(), signal.SIGKILL)

    def patch(owner, name, before=None, after=None):
        real = getattr(owner, name)

        def patched(*args, **kwargs):
            if before:
                before()
            out = real(*args, **kwargs)
            if after:
                after()
            return out

        setattr(owner, name, patched)

    def scoped(owner, name, ph):  # runs of ``name`` are phase ``ph``
        real = getattr(owner, name)

        def patched(*args, **kwargs):
            outer, now["phase"] = now["phase"], ph
            try:
                return real(*args, **kwargs)
            finally:
                now["phase"] = outer

        setattr(owner, name, patched)

    scoped(store.Store, "_commit", "commit")
    scoped(store.Store, "_merge_group", "merge")
    if point == "inserts-done":
        patch(segments, "write", before=reached)
    elif point in ("segment-partly-written", "merge-partly-written"):
        real_save = np.save

        def save(*args, **kwargs):
            real_save(*args, **kwargs)
            now["saved"] += 1
            if now["saved"] == ARRAYS_BEFORE_PARTIAL_KILL:
                reached()

        patch(segments, "write", before=lambda: now.update(saved=0))
        np.save = save
    elif point in ("segment-unsealed", "merge-unsealed"):
        patch(segments, "atomic_write", before=reached)  # segments write only their DONE with it
    elif point in ("mid-done-write", "merge-mid-done-write"):
        real_replace = os.replace

        def replace(src, dst, *a, **kw):
            if Path(dst).name == segments.DONE:
                reached()
            return real_replace(src, dst, *a, **kw)

        os.replace = replace
    elif point in ("after-seal", "merge-sealed"):
        patch(segments, "write", after=reached)
    elif point == "after-commit":
        patch(store.Store, "merge", before=lambda: reached(gated=False))  # write() merges after its commit
    elif point == "merge-published":
        patch(segments, "remove_orphans", before=reached)  # a merge removes what the previous one retired


def merge_crashing_at(point: str, data_dir: Path, env: dict[str, str]) -> int:
    """Force-merge every segment of ``data_dir`` in a child process that SIGKILLs itself at ``point``."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--merge-crash-at", point, "--data-dir", str(data_dir)]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True).returncode


def _merge_child(point: str, data_dir: str) -> int:
    sys.path.insert(0, str(ROOT))
    _install_crash_point(point)
    from index.store import Store

    store = Store(data_dir)
    with store.lock:
        store.merge(force=True)
    return 0


def ingest_crashing_at(point: str, data_dir: Path, paths: list[Path], env: dict[str, str]) -> int:
    """Run ``policyqa ingest`` in a child process that SIGKILLs itself at ``point``; its exit status."""
    return subprocess.run(crash_at_command(point, 1, data_dir, paths), cwd=ROOT, env=env,
                          capture_output=True).returncode


def crash_at_command(point: str, nth: int, data_dir: Path, paths: list[Path]) -> list[str]:
    """Command line of an ingest that SIGKILLs itself the ``nth`` time it reaches ``point``."""
    return [sys.executable, str(Path(__file__).resolve()), "--crash-at", point, "--nth", str(nth),
            "--data-dir", str(data_dir), *map(str, paths)]


def _child(point: str, nth: int, data_dir: str, paths: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    _install_crash_point(point, nth)
    from api.cli import main as cli_main

    return cli_main(["--data-dir", data_dir, "ingest", "--replace", *paths, "--json"])


def main(argv: list[str] | None = None) -> int:
    """Command line for long runs."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kills", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--real-model", action="store_true", help="use the default embedding model (slow)")
    p.add_argument("--parts", type=int, default=40, help="folders per corpus version")
    p.add_argument("--docs-per-part", type=int, default=3)
    p.add_argument("--max-seconds", type=float, default=3 * 3600)
    p.add_argument("--workdir", help="keep the corpus and data directory here (default: a temp dir)")
    p.add_argument("--stop-after", type=float, help="seconds: kill no more, finish with the final checks")
    p.add_argument("--batch-chunks", type=int, default=BATCH_CHUNKS, help="chunks per commit")
    p.add_argument("--strict-temp-files", action="store_true", help="fail when a kill leaves a temp file")
    p.add_argument("--crash-at", choices=sorted(CRASH_POINTS | MERGE_CRASH_POINTS), help=argparse.SUPPRESS)
    p.add_argument("--nth", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--merge-crash-at", choices=sorted(MERGE_CRASH_POINTS), help=argparse.SUPPRESS)
    p.add_argument("--data-dir", help=argparse.SUPPRESS)
    p.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.crash_at:  # child process of ingest_crashing_at
        return _child(args.crash_at, args.nth, args.data_dir, args.paths)
    if args.merge_crash_at:  # child process of merge_crashing_at
        return _merge_child(args.merge_crash_at, args.data_dir)
    sys.path.insert(0, str(ROOT))
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="policyqa-crasher-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        stats = crash_loop(
            workdir,
            kills=args.kills,
            seed=args.seed,
            real_model=args.real_model,
            parts=args.parts,
            docs_per_part=args.docs_per_part,
            max_seconds=args.max_seconds,
            strict_temp_files=args.strict_temp_files,
            batch_chunks=args.batch_chunks,
            stop_after=args.stop_after,
            log=lambda line: print(line, flush=True),
        )
    except (CrashCheckError, TimeoutError) as e:
        print(f"FAILED: {e}\n(corpus, data directory and last ingest log kept in {workdir})", file=sys.stderr)
        return 1
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    print(stats.summary())
    print(json.dumps(stats.as_dict(), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

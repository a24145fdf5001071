"""Per-stage search latency on an existing data directory (e.g. one bench/scale.py built).

    POLICYQA_SHARED_DATA=/work/shared/data nice -n 15 python bench/search_profile.py \
        /tmp/lat-scale/data-100000 --save /tmp/lat-before.json
    ... --compare /tmp/lat-before.json          # the same queries after a change: share of top-10 identical
    ... --cprofile 30                           # also print the 30 costliest functions (default model)
    ... --baseline /tmp/base    # first the same run on the code in /tmp/base (``git archive`` of the
                                # commit before), then this tree's: both side by side, in one run

Opens the directory read-only in spirit (searches and asks only), warms, then runs the DuReader and
CMRC dev questions (alternating, as bench/scale.py does) through ``Searcher.search(k=10)`` (hybrid, one
client) with the default model and with the model-free hash embedder, and ``Answerer.ask`` with the
default model. Every query is distinct, so no cache of query vectors is what is timed.

Per stage, p50 over the queries of wall time and of process CPU time (every thread; the machine is
shared, and CPU time is the less noisy of the two): query encoding, dense (vector) candidates, lexical
(BM25) candidates, fusion, chunk-row fetch, query planning (normalization, pinyin bridge, term
statistics) and the rest (near-duplicate collapse, snapshot open, Python glue). The stages are timed by
wrapping the store's read-view methods and qa.search's functions; the search code itself is unchanged.
Where the query's encoding runs beside its BM25 scoring (qa.overlap), their wall times overlap, so "rest"
(the search's wall time less the named stages) goes negative by about the time saved, and the CPU time of
either stage includes the other's while both run.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

import numpy as np

# --baseline runs this script again on another copy of the code (the commit before a change): that
# copy's modules are imported instead of this tree's.
CODE = Path(os.environ.get("SEARCH_PROFILE_CODE") or Path(__file__).resolve().parents[1])
sys.path.insert(0, str(CODE))

import qa.search as search_mod  # noqa: E402
from bench.datasets import load_retrieval_set  # noqa: E402
from index import store as store_mod  # noqa: E402
from index.embedder import EmbedderSpec, create_embedder  # noqa: E402
from index.store import Store  # noqa: E402
from qa.search import Searcher  # noqa: E402

# The front ends' answerer; a --baseline copy from before qa.routes built it as Answerer(searcher). (Asked
# by file: an editable install would otherwise resolve a module the copy lacks to this tree's.)
if (CODE / "qa" / "routes.py").is_file():
    from qa.routes import answerer as make_answerer  # noqa: E402
else:
    from qa.answer import Answerer as make_answerer  # noqa: E402

STAGES = ("encode", "dense", "lexical", "fusion", "rows", "plan", "rest")


class StageClock:
    """Wall and CPU seconds per stage for the query being timed."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self._local = threading.local()  # nesting depth per thread: the encoding may run on another one

    def reset(self) -> None:
        self.wall.clear()
        self.cpu.clear()

    @contextmanager
    def stage(self, name: str):
        depth = getattr(self._local, "depth", 0)
        if depth:  # a stage inside another (term statistics inside planning) counts once, outermost
            yield
            return
        self._local.depth = 1
        w, c = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.wall[name] += time.perf_counter() - w
            self.cpu[name] += time.process_time() - c
            self._local.depth = 0


CLOCK = StageClock()


def _timed(name: str, fn):
    def wrapper(*args, **kwargs):
        with CLOCK.stage(name):
            return fn(*args, **kwargs)

    wrapper.__wrapped__ = fn
    return wrapper


def instrument() -> None:
    """Wrap the stages' entry points (the read view's methods, qa.search's functions)."""
    view = store_mod.LocalView
    view.dense = _timed("dense", view.dense)
    view.lexical = _timed("lexical", view.lexical)
    view.chunks = _timed("rows", view.chunks)
    search_mod.fuse = _timed("fusion", search_mod.fuse)
    search_mod.plan_query = _timed("plan", search_mod.plan_query)
    search_mod.resolve_terms = _timed("plan", search_mod.resolve_terms)


class TimedEmbedder:
    """An embedder whose query encoding is timed as the ``encode`` stage."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name, self.dim = inner.name, inner.dim

    def encode_queries(self, texts):
        with CLOCK.stage("encode"):
            return self.inner.encode_queries(texts)

    def encode_passages(self, texts, show_progress=False):
        return self.inner.encode_passages(texts, show_progress)


def questions(limit: int) -> list[str]:
    """DuReader and CMRC dev questions, alternating (bench/scale.py's query set)."""
    a = [q["text"] for q in load_retrieval_set("dureader").queries]
    b = [q["text"] for q in load_retrieval_set("cmrc").queries]
    return [x for pair in zip(a, b, strict=False) for x in pair][:limit]


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def run(store: Store, embedder, texts: list[str], asks: int) -> tuple[dict, dict]:
    """Stage timings (ms per query) of searches, total search/ask times, and each query's top 10."""
    store.use_embedder(TimedEmbedder(embedder))
    searcher = Searcher(store)
    for t in texts[:3]:
        searcher.search(t)  # warm: model, segments, page cache
    per_stage = {s: ([], []) for s in STAGES}
    total_wall, total_cpu, tops = [], [], {}
    for t in texts:
        CLOCK.reset()
        w, c = time.perf_counter(), time.process_time()
        hits = searcher.search(t, k=10)
        w, c = time.perf_counter() - w, time.process_time() - c
        total_wall.append(w * 1000)
        total_cpu.append(c * 1000)
        named_w = sum(CLOCK.wall.values())
        named_c = sum(CLOCK.cpu.values())
        CLOCK.wall["rest"] = w - named_w
        CLOCK.cpu["rest"] = c - named_c
        for s in STAGES:
            per_stage[s][0].append(CLOCK.wall.get(s, 0.0) * 1000)
            per_stage[s][1].append(CLOCK.cpu.get(s, 0.0) * 1000)
        tops[t] = [(h.chunk_id, round(h.score, 6)) for h in hits]
    answerer = make_answerer(searcher)
    if asks:
        answerer.ask(texts[0])  # warm: the first answer loads the word segmenter
    ask_ms, ask_cpu = [], []
    for t in texts[:asks]:
        w, c = time.perf_counter(), time.process_time()
        answerer.ask(t)
        ask_ms.append((time.perf_counter() - w) * 1000)
        ask_cpu.append((time.process_time() - c) * 1000)
    stats = {f"{s}_wall": pct(per_stage[s][0], 50) for s in STAGES}
    stats.update({f"{s}_cpu": pct(per_stage[s][1], 50) for s in STAGES})
    stats.update(search_p50=pct(total_wall, 50), search_p95=pct(total_wall, 95), search_cpu_p50=pct(total_cpu, 50),
                 ask_p50=pct(ask_ms, 50), ask_p95=pct(ask_ms, 95), ask_cpu_p50=pct(ask_cpu, 50))
    return stats, tops


def profile(store: Store, embedder, texts: list[str], top: int) -> str:
    store.use_embedder(embedder)
    searcher = Searcher(store)
    searcher.search(texts[0])
    prof = cProfile.Profile()
    prof.enable()
    for t in texts:
        searcher.search(t, k=10)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def same_ignoring_ties(a: list, b: list) -> bool:
    """Equal rankings once hits of equal score (to 1e-5) may come in either order."""
    if len(a) != len(b):
        return False
    key = lambda h: (-round(h[1], 5), h[0])  # noqa: E731
    return sorted(a, key=key) == sorted(b, key=key) and [round(s, 5) for _c, s in a] == [round(s, 5) for _c, s in b]


def compare(before: dict, after: dict) -> dict:
    """Share of queries whose top 10 is identical, identical but for ties, the same set."""
    out = {}
    for name, tops in after.items():
        old = before.get(name, {})
        qs = [q for q in tops if q in old]
        if not qs:
            continue
        ident = sum(tops[q] == [tuple(h) for h in old[q]] for q in qs)
        ties = sum(same_ignoring_ties(tops[q], [tuple(h) for h in old[q]]) for q in qs)
        sets = sum({c for c, _s in tops[q]} == {c for c, _s in old[q]} for q in qs)
        out[name] = {"queries": len(qs), "identical": ident / len(qs), "identical_ties_aside": ties / len(qs),
                     "same_set": sets / len(qs)}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data_dir", type=Path)
    p.add_argument("--questions", type=int, default=200)
    p.add_argument("--asks", type=int, default=200, help="questions also asked (default model)")
    p.add_argument("--save", type=Path, help="write each query's top 10 here (JSON)")
    p.add_argument("--compare", type=Path, help="a --save file from before a change")
    p.add_argument("--cprofile", type=int, default=0, help="print this many functions of a cProfile run")
    p.add_argument("--no-model", action="store_true", help="hash embedder only")
    p.add_argument("--baseline", type=Path, help="a copy of the code before a change: run there first, compare")
    args = p.parse_args(argv)
    if args.baseline:
        args.compare = args.compare or Path(f"/tmp/search-profile-baseline-{os.getpid()}.json")
        cmd = [sys.executable, __file__, str(args.data_dir), "--questions", str(args.questions),
               "--asks", str(args.asks), "--save", str(args.compare)] + (["--no-model"] if args.no_model else [])
        env = dict(os.environ, SEARCH_PROFILE_CODE=str(args.baseline), PYTHONPATH=str(args.baseline))
        print(f"baseline ({args.baseline}):", flush=True)
        subprocess.run(cmd, env=env, check=True)
        print(f"\nthis tree ({CODE}):", flush=True)
    if not (args.data_dir / "catalog.sqlite").is_file():
        p.error(f"{args.data_dir}: no catalog.sqlite (build one with bench/scale.py)")
    texts = questions(args.questions)
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; "
          f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; {len(texts)} queries", flush=True)
    instrument()
    store = Store(args.data_dir)
    st = store.stats()
    print(f"{args.data_dir}: {st['chunks']} chunks, {st['segments']} segments, embedder {store.spec.label}", flush=True)
    embedders = {"hash": create_embedder(EmbedderSpec("hash", "384"))}
    if not args.no_model:
        embedders["model"] = create_embedder(store.spec)
    results, tops = {}, {}
    for name, emb in embedders.items():
        results[name], tops[name] = run(store, emb, texts, args.asks if name == "model" else 0)
        print(f"{name}: search p50 {results[name]['search_p50']:.1f} ms (cpu {results[name]['search_cpu_p50']:.1f}), "
              f"p95 {results[name]['search_p95']:.1f}; ask p50 {results[name]['ask_p50']:.1f} ms", flush=True)
    print(f"\nper-stage p50, ms (wall / cpu), load now {os.getloadavg()[0]:.1f}")
    print(f"{'stage':<10}" + "".join(f"{n:>18}" for n in results))
    for s in STAGES:
        print(f"{s:<10}" + "".join(f"{r[s + '_wall']:>9.2f} /{r[s + '_cpu']:>7.2f}" for r in results.values()))
    for key in ("search_p50", "search_cpu_p50", "search_p95", "ask_p50", "ask_cpu_p50", "ask_p95"):
        print(f"{key:<14}" + "".join(f"{r[key]:>14.1f}    " for r in results.values()))
    if args.save:
        args.save.write_text(json.dumps({"results": results, "tops": tops}, ensure_ascii=False))
    if args.compare:
        old = json.loads(args.compare.read_text())
        print("\nbefore -> after (this run), per-stage p50 ms wall / cpu:")
        for name, r in results.items():
            b = old["results"].get(name)
            if not b:
                continue
            print(f"  {name}:")
            for s in (*STAGES, "search"):
                kw, kc = (f"{s}_wall", f"{s}_cpu") if s != "search" else ("search_p50", "search_cpu_p50")
                print(f"    {s:<8} {b[kw]:7.2f} -> {r[kw]:7.2f}   cpu {b[kc]:7.2f} -> {r[kc]:7.2f}")
            if name == "model":
                print(f"    ask      {b['ask_p50']:7.2f} -> {r['ask_p50']:7.2f}   cpu "
                      f"{b.get('ask_cpu_p50', float('nan')):7.2f} -> {r['ask_cpu_p50']:7.2f}")
        print("top-10 agreement with before:", json.dumps(compare(old["tops"], tops)))
    if args.cprofile:
        emb = embedders.get("model", embedders["hash"])
        print(profile(store, emb, texts, args.cprofile))
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

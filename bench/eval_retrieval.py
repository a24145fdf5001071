"""Retrieval evaluation through the real pipeline: BM25, dense, RRF and hybrid side by side.

    python bench/eval_retrieval.py                       # every setting (slow on CPU the first time)
    python bench/eval_retrieval.py --settings alone --limit 200

Settings: ``alone`` (each dev set in its own data dir), ``traditional`` (queries converted to
Traditional), ``noisy`` (the corpus rewritten the way the sample article was scraped, seeded),
``pooled`` (both sets plus ~11k CCTV news items as distractors in one data dir). A document's rank is
that of its best chunk. Embeddings are cached under --work, so reruns only search.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.datasets import (  # noqa: E402
    RetrievalSet,
    load_news,
    load_retrieval_set,
    scrape_noise,
    split_half,
    to_traditional,
)
from bench.embed_cache import CachingEmbedder  # noqa: E402
from corpus.models import Article  # noqa: E402
from index.embedder import create_embedder  # noqa: E402
from index.ingest import ingest_items  # noqa: E402
from index.store import Store  # noqa: E402
from qa.fusion import FUSERS, fuse  # noqa: E402
from qa.search import Searcher  # noqa: E402

MODES = ("bm25", "dense", "rrf", "hybrid")
SETS = ("dureader", "cmrc")


def open_store(work: Path, name: str, cache: Path) -> Store:
    """A data dir under ``work`` whose embedder goes through the shared embedding cache."""
    store = Store(work / "data" / name)
    store.use_embedder(CachingEmbedder(create_embedder(store.spec), cache))
    return store


def ingest(store: Store, articles: list[Article]) -> None:
    """Ingest (a no-op for articles already there, unchanged)."""
    t0 = time.time()
    report = ingest_items(store, articles, batch_chunks=4096)
    d = report.as_dict()
    print(
        f"  {store.data_dir.name}: added {d['added']}, unchanged {d['unchanged']}, "
        f"duplicates {d['duplicates']}, rejected {len(d['rejected'])} in {time.time() - t0:.0f}s",
        flush=True,
    )


def doc_ranking(fused: list[tuple[int, float]], rows: dict, n: int = 10) -> list[str]:
    """Document ids in order of their best chunk."""
    out: list[str] = []
    for chunk, _score in fused:
        doc = rows[chunk].doc_id
        if doc not in out:
            out.append(doc)
            if len(out) == n:
                break
    return out


def evaluate(searcher: Searcher, rset: RetrievalSet, queries: list[dict], modes=MODES) -> dict[str, dict]:
    """R@1/5/10 and MRR@10 per mode for the given queries."""
    sums = {m: {"R@1": 0.0, "R@5": 0.0, "R@10": 0.0, "MRR@10": 0.0} for m in modes}
    for q in queries:
        gold = rset.qrels[q["_id"]]
        cands, rows = searcher.candidates(q["text"], depth=100)
        for m in modes:
            ranking = doc_ranking(fuse(cands, m), rows)
            rank = next((i for i, d in enumerate(ranking) if d in gold), None)
            s = sums[m]
            if rank is not None:
                s["MRR@10"] += 1.0 / (rank + 1)
                for cut in (1, 5, 10):
                    s[f"R@{cut}"] += rank < cut
    n = max(1, len(queries))
    return {m: {k: round(v / n, 4) for k, v in s.items()} for m, s in sums.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--settings", nargs="+", default=["alone", "traditional", "noisy", "pooled"])
    ap.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    ap.add_argument("--work", type=Path, default=Path(".bench"))
    ap.add_argument("--limit", type=int, default=None, help="evaluate only the first N queries of each set")
    ap.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = ap.parse_args(argv)
    cache = args.work / "embeddings.sqlite"
    sets = {name: load_retrieval_set(name) for name in args.sets}
    results: list[dict] = []

    def record(setting: str, name: str, searcher: Searcher, queries: list[dict]) -> None:
        t0 = time.time()
        metrics = evaluate(searcher, sets[name.split("-")[0]], queries)
        dt = time.time() - t0
        results.append({"setting": setting, "set": name, "queries": len(queries), "metrics": metrics})
        line = "  ".join(f"{m} {v['R@5']:.3f}/{v['MRR@10']:.3f}" for m, v in metrics.items())
        print(f"{setting:12s} {name:9s} n={len(queries):5d}  R@5/MRR@10: {line}  ({dt:.0f}s)", flush=True)

    for name, rset in sets.items():
        queries = rset.queries[: args.limit]
        if {"alone", "traditional"} & set(args.settings):
            store = open_store(args.work, name, cache)
            ingest(store, rset.articles())
            searcher = Searcher(store)
            if "alone" in args.settings:
                record("alone", name, searcher, queries)
                if name == "dureader":  # the half of its queries that tune_fusion.py did not see
                    record("alone", "dureader-heldout", searcher, split_half(rset)[1].queries[: args.limit])
            if "traditional" in args.settings:
                trad = [{**q, "text": to_traditional(q["text"])} for q in queries]
                record("traditional", name, searcher, trad)
        if "noisy" in args.settings:
            store = open_store(args.work, f"{name}-noisy", cache)
            noisy = [
                Article(a.doc_id, scrape_noise(a.text, seed=i), title=scrape_noise(a.title, seed=-i - 1))
                for i, a in enumerate(rset.articles())
            ]
            ingest(store, noisy)
            record("noisy", name, Searcher(store), queries)
    if "pooled" in args.settings:
        store = open_store(args.work, "pooled", cache)
        articles = [a for rset in sets.values() for a in rset.articles()] + load_news()
        ingest(store, articles)
        searcher = Searcher(store)
        for name, rset in sets.items():
            record("pooled", name, searcher, rset.queries[: args.limit])
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"fusions": sorted(FUSERS), "results": results}, indent=2))
    print_markdown(results)
    return 0


def print_markdown(results: list[dict]) -> None:
    """The results as a README table (R@5 / MRR@10 per mode)."""
    print("\n| setting | set | queries | " + " | ".join(f"{m} R@5 / MRR@10" for m in MODES) + " |")
    print("|---|---|---|" + "---|" * len(MODES))
    for r in results:
        cells = " | ".join(f"{r['metrics'][m]['R@5']:.3f} / {r['metrics'][m]['MRR@10']:.3f}" for m in MODES)
        print(f"| {r['setting']} | {r['set']} | {r['queries']} | {cells} |")


if __name__ == "__main__":
    sys.exit(main())

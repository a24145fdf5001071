"""Choose the hybrid fusion weights on tuning data only: the CMRC2018 trial set (not reported).

    python bench/tune_fusion.py [--check dureader cmrc]

Candidates (dense and BM25 scores per chunk) are collected once per query through the real search
path, then every weight setting in the grid is scored offline. ``--check`` prints how the chosen
setting does on the dev sets, for information only: the choice is made on the trial set alone.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.datasets import RetrievalSet, load_cmrc_trial, load_retrieval_set  # noqa: E402
from bench.eval_retrieval import doc_ranking, ingest, open_store  # noqa: E402
from qa.fusion import HYBRID_WEIGHTS, dense_only, hybrid, lexical_only  # noqa: E402
from qa.search import Searcher  # noqa: E402

GRID = {
    "lexical": [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.7],
    "rare": [0.0, 0.1, 0.2, 0.4, 0.8],
}


def collect(work: Path, rset: RetrievalSet, limit: int | None) -> list[tuple[set[str], object, dict]]:
    """(gold ids, candidates, rows) per query."""
    store = open_store(work, rset.name, work / "embeddings.sqlite")
    ingest(store, rset.articles())
    searcher = Searcher(store)
    return [(rset.qrels[q["_id"]], *searcher.candidates(q["text"], depth=100)) for q in rset.queries[:limit]]


def mrr(collected, rank_fn) -> float:
    total = 0.0
    for gold, cands, rows in collected:
        ranking = doc_ranking(rank_fn(cands), rows)
        total += next((1.0 / (i + 1) for i, d in enumerate(ranking) if d in gold), 0.0)
    return total / max(1, len(collected))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=Path(".bench"))
    ap.add_argument("--check", nargs="*", default=[], choices=["dureader", "cmrc"])
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args(argv)
    trial = collect(args.work, load_cmrc_trial(), args.limit)
    print(
        f"trial: {len(trial)} queries; dense MRR@10 {mrr(trial, dense_only):.4f}, "
        f"bm25 {mrr(trial, lexical_only):.4f}, current hybrid {mrr(trial, hybrid):.4f}"
    )
    scored = []
    for lex, rare in itertools.product(GRID["lexical"], GRID["rare"]):
        w = replace(HYBRID_WEIGHTS, lexical=lex, rare=rare)
        scored.append((mrr(trial, lambda c, w=w: hybrid(c, w)), w))
    scored.sort(key=lambda x: -x[0])
    for score, w in scored[:8]:
        print(f"  trial MRR@10 {score:.4f}  {w}")
    best = scored[0][1]
    for name in args.check:
        dev = collect(args.work, load_retrieval_set(name), args.limit)
        print(
            f"check {name}: dense {mrr(dev, dense_only):.4f} bm25 {mrr(dev, lexical_only):.4f} "
            f"chosen hybrid {mrr(dev, lambda c: hybrid(c, best)):.4f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

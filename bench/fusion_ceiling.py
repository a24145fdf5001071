"""How far can any fusion of these two retrievers go? Per-query ceilings on the dev sets.

    python bench/fusion_ceiling.py [--sets dureader cmrc] [--limit N]

For each query the real search path gives the BM25, dense and hybrid document rankings. Printed:

- MRR@10 of each ranking;
- the oracle MRR@10: per query, the best of the three rankings -- what a perfect per-query choice
  among them would reach (a fusion could still beat it by lifting a passage both lists rank low);
- the share of queries whose relevant passage is in no ranking's top 10 (no fusion of these lists
  can find it);
- of the queries whose hybrid top-1 is not the labelled passage, how many top-1 passages hold one of
  the query's gold answer strings verbatim (a hint at unlabelled relevant passages, not a verdict:
  short answers like "3天" occur in unrelated text too).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.datasets import load_retrieval_set  # noqa: E402
from bench.eval_retrieval import SETS, doc_ranking, ingest, open_store  # noqa: E402
from qa.fusion import fuse  # noqa: E402
from qa.search import Searcher  # noqa: E402

MODES = ("bm25", "dense", "hybrid")


def reciprocal_rank(ranking: list[str], gold: set[str]) -> float:
    """1/rank of the first relevant document in ``ranking`` (0 when absent)."""
    return next((1.0 / (i + 1) for i, d in enumerate(ranking) if d in gold), 0.0)


def ceiling(name: str, work: Path, limit: int | None) -> dict[str, float | int]:
    """The numbers described in the module docstring for one set."""
    rset = load_retrieval_set(name)
    store = open_store(work, name, work / "embeddings.sqlite")
    ingest(store, rset.articles())
    searcher = Searcher(store)
    texts = {p["_id"]: p["text"] for p in rset.corpus}
    queries = rset.queries[:limit]
    sums = dict.fromkeys(MODES, 0.0)
    oracle = unreachable = 0.0
    misses = answer_in_top = 0
    for q in queries:
        gold = rset.qrels[q["_id"]]
        cands, rows = searcher.candidates(q["text"], depth=100)
        rankings = {m: doc_ranking(fuse(cands, m), rows) for m in MODES}
        rr = {m: reciprocal_rank(r, gold) for m, r in rankings.items()}
        for m in MODES:
            sums[m] += rr[m]
        oracle += max(rr.values())
        unreachable += max(rr.values()) == 0.0
        top = rankings["hybrid"][:1]
        if top and top[0] not in gold:
            misses += 1
            answer_in_top += any(a and a in texts.get(top[0], "") for a in q.get("answers", []))
    n = max(1, len(queries))
    out = {f"MRR@10 {m}": sums[m] / n for m in MODES}
    out["MRR@10 oracle (best of the three per query)"] = oracle / n
    out["relevant in no top 10"] = unreachable / n
    out["hybrid top-1 misses"] = misses
    out["  of which top-1 holds a gold answer string"] = answer_in_top
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    ap.add_argument("--work", type=Path, default=Path(".bench"))
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args(argv)
    for name in args.sets:
        print(f"\n{name}")
        for key, value in ceiling(name, args.work, args.limit).items():
            print(f"  {key:45s} {value}" if isinstance(value, int) else f"  {key:45s} {value:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

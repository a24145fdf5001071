"""Milvus (milvus-lite) against the local default store, side by side in one run, same fusion.

    python bench/milvus_parity.py --embedder hash:384 --limit 500
    python bench/milvus_parity.py                      # the default model (embeddings cached in --work)
    python bench/milvus_parity.py --embedder hash:384 --sets dureader --docs 400   # a corpus slice

For each dev set: both stores get the same documents with the same vectors (the embedding cache feeds
both), then every query runs through the same Searcher; prints R@5 / MRR@10 (hybrid) for each store,
the share of queries whose top-5 chunks are identical (ids and order), and search time per query.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.datasets import load_retrieval_set  # noqa: E402
from bench.embed_cache import CachingEmbedder  # noqa: E402
from bench.eval_retrieval import doc_ranking  # noqa: E402
from index.backend import StoreConfig  # noqa: E402
from index.embedder import EmbedderSpec, create_embedder  # noqa: E402
from index.ingest import ingest_items  # noqa: E402
from index.stores import open_store  # noqa: E402
from qa.fusion import fuse  # noqa: E402
from qa.search import Searcher  # noqa: E402


def spec_of(value: str) -> EmbedderSpec:
    if value.startswith("hash"):
        return EmbedderSpec("hash", value.partition(":")[2] or "256")
    return EmbedderSpec("sentence-transformers", value)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", nargs="+", default=["dureader", "cmrc"])
    ap.add_argument("--embedder", default="multilingual-e5-small")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--work", type=Path, default=Path(".bench"))
    ap.add_argument("--docs", type=int, default=None,
                    help="only the first N passages, and the questions whose gold passage is among them")
    ap.add_argument("--call-timeout", type=float, default=None, help="seconds per Milvus call (a loaded machine)")
    args = ap.parse_args(argv)
    spec = spec_of(args.embedder)
    args.work.mkdir(parents=True, exist_ok=True)
    embedder = CachingEmbedder(create_embedder(spec), args.work / "embeddings.sqlite")
    tmp = Path(tempfile.mkdtemp(prefix="milvus-parity-"))
    print(f"embedder {spec.as_dict()}; work {tmp}")
    if args.call_timeout:
        import index.milvus.store as milvus_store
        import index.milvus.view as milvus_view
        from index.milvus import connection

        milvus_store.CALL_TIMEOUT = milvus_view.CALL_TIMEOUT = args.call_timeout
        connection.CONNECT_TIMEOUT = args.call_timeout
    rows = []
    for name in args.sets:
        rset = load_retrieval_set(name)
        if args.docs:
            kept = rset.corpus[: args.docs]
            ids = {p["_id"] for p in kept}
            rset = type(rset)(rset.name, kept, [q for q in rset.queries if rset.qrels[q["_id"]] & ids], rset.qrels)
        stores = {
            "local": open_store(StoreConfig(kind="local", data_dir=tmp / f"local-{name}", embedder=spec)),
            "milvus-lite": open_store(StoreConfig(kind="milvus", milvus_uri=str(tmp / f"{name}.db"),
                                                  milvus_prefix=name, embedder=spec)),
        }
        rankings: dict[str, list[list[str]]] = {}
        for label, store in stores.items():
            store.use_embedder(embedder)
            t0 = time.perf_counter()
            ingest_items(store, rset.articles(), batch_chunks=4096)
            t_ingest = time.perf_counter() - t0
            searcher = Searcher(store)
            r5 = mrr = 0.0
            tops: list[list[str]] = []
            queries = rset.queries[: args.limit]
            t0 = time.perf_counter()
            for q in queries:
                cands, crow = searcher.candidates(q["text"], depth=100)
                fused = fuse(cands, "hybrid")
                tops.append([crow[c].chunk_id for c, _s in fused[:5] if c in crow])
                ranking = doc_ranking(fused, crow)
                gold = rset.qrels[q["_id"]]
                rank = next((i for i, d in enumerate(ranking) if d in gold), None)
                if rank is not None:
                    mrr += 1 / (rank + 1)
                    r5 += rank < 5
            t_search = (time.perf_counter() - t0) / max(1, len(queries))
            rankings[label] = tops
            n = max(1, len(queries))
            rows.append((name, label, len(queries), r5 / n, mrr / n, t_ingest, t_search * 1000))
            print(f"{name:9s} {label:12s} n={len(queries)} R@5 {r5 / n:.4f} MRR@10 {mrr / n:.4f} "
                  f"ingest {t_ingest:.0f}s search {t_search * 1000:.0f} ms/query", flush=True)
        same = sum(a == b for a, b in zip(rankings["local"], rankings["milvus-lite"], strict=True))
        share = same / max(1, len(rankings["local"]))
        print(f"{name:9s} identical top-5 chunks: {same}/{len(rankings['local'])} = {share:.1%}", flush=True)
        rows.append((name, "identical top-5", len(rankings["local"]), share, None, None, None))
    print("\n| set | store | queries | R@5 | MRR@10 | ingest s | search ms/query |\n|---|---|---|---|---|---|---|")
    for name, label, n, a, b, c, d in rows:
        if b is None:
            print(f"| {name} | identical top-5 chunks | {n} | {a:.1%} | | | |")
        else:
            print(f"| {name} | {label} | {n} | {a:.4f} | {b:.4f} | {c:.0f} | {d:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

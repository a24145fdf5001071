"""Identical citation spans: answers from the two stores a parity run left behind, compared per cited chunk.

    python bench/milvus_spans.py /tmp/milvus-parity-XXXX dureader --limit 300 --embedder hash:384

Opens ``local-<set>`` and ``<set>.db`` (prefix ``<set>``) written by bench/milvus_parity.py, asks each
dev question of both through the same Answerer, and for every chunk cited by both answers checks that
the spans (normalized start/end, original start/end, quote) are equal; prints the counts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.datasets import load_retrieval_set  # noqa: E402
from bench.milvus_parity import spec_of  # noqa: E402
from index.backend import StoreConfig  # noqa: E402
from index.embedder import create_embedder  # noqa: E402
from index.stores import open_store  # noqa: E402
from qa.routes import answerer  # noqa: E402
from qa.search import Searcher  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("work", type=Path)
    ap.add_argument("set")
    ap.add_argument("--embedder", default="multilingual-e5-small")
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args(argv)
    spec = spec_of(args.embedder)
    embedder = create_embedder(spec)
    stores = [open_store(StoreConfig(kind="local", data_dir=args.work / f"local-{args.set}")),
              open_store(StoreConfig(kind="milvus", milvus_uri=str(args.work / f"{args.set}.db"),
                                     milvus_prefix=args.set))]
    answerers = []
    for s in stores:
        s.use_embedder(embedder)
        answerers.append(answerer(Searcher(s)))
    queries = load_retrieval_set(args.set).queries[: args.limit]
    shared = same = same_answer = 0
    for q in queries:
        a, b = (ans.ask(q["text"]) for ans in answerers)
        same_answer += (a.answer, a.found) == (b.answer, b.found)
        spans_a = {c.chunk_id: (c.start, c.end, c.orig_start, c.orig_end, c.quote) for c in a.citations}
        spans_b = {c.chunk_id: (c.start, c.end, c.orig_start, c.orig_end, c.quote) for c in b.citations}
        for cid in spans_a.keys() & spans_b.keys():
            shared += 1
            same += spans_a[cid] == spans_b[cid]
    n = max(1, len(queries))
    print(f"{args.set}: {len(queries)} questions; identical answer text {same_answer}/{n} = {same_answer / n:.1%}; "
          f"chunks cited by both {shared}, identical spans {same}/{shared}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

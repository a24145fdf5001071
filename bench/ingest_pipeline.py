"""End-to-end ingest rate against the embedder's raw rate on the same chunks, side by side.

    python bench/ingest_pipeline.py                  # 40 CCTV news items, the default embedder
    python bench/ingest_pipeline.py --items 200 --runtime onnx-fp32

Raw: the embedder alone encodes every chunk text of the items (title + chunk, as the store embeds
them), already prepared, in slices of 64 (as the pipeline does). End to end: `ingest_items` on the same
items into a fresh data dir (read, normalize, chunk, embed, tokenize, commit), counted from the first
article to the last commit returned. Both use one embedder instance, loaded before either is timed;
the order alternates over --rounds so that a neighbour's load falls on both alike. Target: end-to-end
>= 0.9x raw.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.datasets import load_news  # noqa: E402
from corpus.prepare import prepare  # noqa: E402
from index.embedder import EmbedderSpec, create_embedder, parse_runtime  # noqa: E402
from index.ingest import ingest_items  # noqa: E402
from index.store import Store  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=40)
    ap.add_argument("--runtime", default="onnx-int8")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--batch-chunks", type=int, default=64)
    args = ap.parse_args(argv)
    runtime, precision = parse_runtime(args.runtime)
    spec = EmbedderSpec(runtime=runtime, precision=precision)
    items = load_news(limit=args.items)
    texts = []
    for a in items:
        d = prepare(a)
        texts.extend(f"{d.title}\n{c.text}" if d.title else c.text for c in d.chunks)
    model = create_embedder(spec)
    model.encode_passages(texts[:4])
    raw_s = e2e_s = 0.0
    print(f"{len(items)} items, {len(texts)} chunks, {args.runtime}, load {os.getloadavg()[0]:.1f}", flush=True)
    for r in range(args.rounds):
        for which in (("raw", "e2e") if r % 2 == 0 else ("e2e", "raw")):
            t0 = time.perf_counter()
            if which == "raw":
                for i in range(0, len(texts), 64):
                    model.encode_passages(texts[i : i + 64])
                raw_s += time.perf_counter() - t0
            else:
                with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
                    store = Store(tmp, spec)
                    store.use_embedder(model)
                    report = ingest_items(store, items, batch_chunks=args.batch_chunks)
                    assert len(report.result.added) + len(report.result.duplicates) == len(items)
                    e2e_s += time.perf_counter() - t0
    raw = args.rounds * len(texts) / raw_s
    e2e = args.rounds * len(texts) / e2e_s
    print(f"| path | chunks/s | x raw |\n|---|---|---|\n| embedder alone | {raw:.2f} | 1.00 |\n"
          f"| ingest end to end | {e2e:.2f} | {e2e / raw:.2f} |")
    print(f"load average after: {os.getloadavg()[0]:.1f}; target: end to end >= 0.9x raw")
    return 0


if __name__ == "__main__":
    sys.exit(main())

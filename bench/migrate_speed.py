"""Migration speed: ``index.migrate.migrate`` local -> milvus-lite and milvus-lite -> local, side by side.

    nice -n 15 python bench/migrate_speed.py --chunks 10000 --work /tmp/migrate-bench

Builds a data directory of about ``--chunks`` chunks (CCTV news items copied with varied text, as
bench/scale.py does) with the model-free ``hash:384`` embedder, then times, in this one run, the copy
into a fresh milvus-lite file, the copy back into a fresh data directory, and a re-run of each on the
complete target (the cost of a resume that finds everything there: reading and comparing). Each timing
covers the whole ``migrate`` call: exporting, writing, reading back and verifying every document, the
final counts. Building the source (embedding) is not timed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scale import synth_docs  # noqa: E402
from index.backend import StoreConfig  # noqa: E402
from index.embedder import EmbedderSpec  # noqa: E402
from index.migrate import migrate, open_stores  # noqa: E402
from index.stores import open_store  # noqa: E402


def build(data: Path, n_chunks: int) -> dict:
    store = open_store(StoreConfig(kind="local", data_dir=data, embedder=EmbedderSpec("hash", "384")))
    batch: list = []
    for doc in synth_docs(n_chunks):
        batch.append(doc)
        if len(batch) == 256:
            store.write(batch)
            batch = []
    if batch:
        store.write(batch)
    return store.stats()


def timed(source: StoreConfig, target: StoreConfig, batch: int) -> dict:
    src, dst = open_stores(source, target)
    out = {}
    for run in ("copy", "rerun"):
        t = time.perf_counter()
        report = migrate(src, dst, batch_docs=batch)
        seconds = time.perf_counter() - t
        assert report.verified, report.problems
        out[run] = {"seconds": round(seconds, 2), "documents": report.documents, "chunks": report.chunks,
                    "copied_chunks": report.copied_chunks, "chunks_per_s": round(report.chunks / seconds, 1)}
    for store in (src, dst):
        if hasattr(store, "shutdown"):
            store.shutdown()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chunks", type=int, default=10000, help="about this many chunks (default 10000)")
    ap.add_argument("--batch", type=int, default=64, help="documents per migration batch (default 64)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/policyqa-migrate-bench"), help="scratch folder")
    ap.add_argument("--reuse", action="store_true", help="keep --work/source as built by an earlier run")
    args = ap.parse_args(argv)
    source = args.work / "source"
    t = time.perf_counter()
    if args.reuse and (source / "config.json").is_file():
        for name in ("milvus.db", "back"):
            path = args.work / name
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        stats = open_store(StoreConfig(kind="local", data_dir=source)).stats()
    else:
        if args.work.exists():
            shutil.rmtree(args.work)
        args.work.mkdir(parents=True)
        stats = build(source, args.chunks)
    print(f"source: {stats['documents']} documents, {stats['chunks']} chunks, hash:384 "
          f"(built or opened in {time.perf_counter() - t:.1f}s, not timed below)", flush=True)
    db = args.work / "milvus.db"
    results = {
        "local -> milvus-lite": timed(StoreConfig(kind="local", data_dir=args.work / "source"),
                                      StoreConfig(kind="milvus", milvus_uri=str(db), milvus_prefix="bench"),
                                      args.batch),
        "milvus-lite -> local": timed(StoreConfig(kind="milvus", milvus_uri=str(db), milvus_prefix="bench"),
                                      StoreConfig(kind="local", data_dir=args.work / "back"), args.batch),
    }
    for name, r in results.items():
        print(f"{name:22s} copy {r['copy']['chunks']} chunks in {r['copy']['seconds']:.1f}s = "
              f"{r['copy']['chunks_per_s']:.0f} chunks/s; re-run on the complete target "
              f"{r['rerun']['seconds']:.1f}s = {r['rerun']['chunks_per_s']:.0f} chunks/s")
    a, b = (results[k]["copy"]["chunks_per_s"] for k in results)
    print(f"ratio (to local / to milvus-lite): {b / a:.2f}")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

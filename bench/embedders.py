"""Embedding runtimes side by side: passages/s, cosine to torch fp32, DuReader-robust dev R@5.

    python bench/embedders.py                          # speed + cosine on 96 news chunks, then DuReader
    python bench/embedders.py --no-dureader            # speed and cosine only (a few minutes)
    python bench/embedders.py --runtimes torch-fp32 onnx-int8 --passages 192
    python bench/embedders.py --profile onnx-int8 --no-dureader   # also: where ONNX Runtime spends time

Speed: the same real passages (chunks of the CCTV news corpus, title kept, "passage: " prompt) go
through every runtime in one process, interleaved in slices of 64 (the slices ingest embeds,
``index.ingest.EMBED_SLICE``) with the order rotated each slice, so a neighbour's load falls on all of
them alike. Every runtime batches a slice alike: sorted by token length, 32 passages a batch, padded
to the longest of its batch (sentence-transformers does so inside ``encode``, the ONNX embedder in
``_encode``), so no runtime is timed on less padding than another. Passages/s counts encode time only
(tokenizing included, model load excluded and reported apart). ``--profile`` runs the slices once more
through an ONNX Runtime session with profiling on and prints each operator type's share of kernel time. torch-bf16 runs only where the CPU has
avx512_bf16/AMX (elsewhere it is emulated and slow, and reported as skipped). Quality: the full
DuReader-robust dev retrieval set (1,398 passages, 1,417 queries) is ingested per runtime into
WORK/data/embedders-RUNTIME and searched through the real pipeline (dense and hybrid, R@5 and MRR@10);
embeddings are cached in WORK/embeddings.sqlite keyed by runtime, so reruns only search.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.datasets import load_news, load_retrieval_set  # noqa: E402
from bench.embed_cache import CachingEmbedder  # noqa: E402
from corpus.prepare import prepare  # noqa: E402
from index.embedder import (  # noqa: E402
    EmbedderSpec,
    cpu_supports_bf16,
    create_embedder,
    embed_threads,
    onnx_session_options,
    parse_runtime,
    runtime_choices,
)
from index.ingest import EMBED_SLICE  # noqa: E402

SLICE = EMBED_SLICE


def news_passages(n: int) -> list[str]:
    """The first ``n`` chunks of the news corpus as the store embeds them (title, newline, chunk)."""
    out: list[str] = []
    for article in load_news(limit=max(50, n)):
        doc = prepare(article)
        out.extend(f"{doc.title}\n{c.text}" if doc.title else c.text for c in doc.chunks)
        if len(out) >= n:
            break
    return out[:n]


def spec_of(name: str) -> EmbedderSpec:
    runtime, precision = parse_runtime(name)
    return EmbedderSpec("sentence-transformers", "multilingual-e5-small", runtime, precision)


def speed(names: list[str], passages: list[str], queries: list[str]) -> dict[str, dict]:
    """Load each runtime, then encode the same passages interleaved; passages/s and cosine to the first."""
    embedders, rows = {}, {}
    for name in names:
        t0 = time.perf_counter()
        embedders[name] = create_embedder(spec_of(name))
        embedders[name].encode_passages(passages[:4])  # warm-up: first-call allocations
        rows[name] = {"load_s": time.perf_counter() - t0, "encode_s": 0.0}
    vecs = {name: np.zeros((len(passages), 384), np.float32) for name in names}
    for k, start in enumerate(range(0, len(passages), SLICE)):
        part = passages[start : start + SLICE]
        order = names[k % len(names) :] + names[: k % len(names)]
        for name in order:
            t0 = time.perf_counter()
            vecs[name][start : start + len(part)] = embedders[name].encode_passages(part)
            rows[name]["encode_s"] += time.perf_counter() - t0
    ref = names[0]
    qref = embedders[ref].encode_queries(queries)
    for name in names:
        r = rows[name]
        r["passages_per_s"] = len(passages) / r["encode_s"]
        cos = (vecs[name] * vecs[ref]).sum(axis=1)
        t0 = time.perf_counter()
        q = embedders[name].encode_queries(queries)
        r["query_ms"] = 1000 * (time.perf_counter() - t0) / len(queries)
        qcos = (q * qref).sum(axis=1)
        r["cos_min"], r["cos_mean"] = float(min(cos.min(), qcos.min())), float(np.concatenate([cos, qcos]).mean())
    return rows


def op_profile(name: str, passages: list[str], work: Path) -> list[tuple[str, float]]:
    """Share of ONNX Runtime kernel time per operator type, encoding ``passages`` in slices as ``speed``."""
    import json

    import onnxruntime as ort

    from index.model_export import MODEL_FILE, ensure_onnx_model

    runtime, precision = parse_runtime(name)
    if runtime != "onnx":
        raise SystemExit(f"--profile: {name} is not an onnx runtime")
    embedder = create_embedder(spec_of(name))
    options = onnx_session_options()
    options.enable_profiling = True
    work.mkdir(parents=True, exist_ok=True)
    options.profile_file_prefix = str(work / f"profile-{name}")
    embedder.session = ort.InferenceSession(
        str(ensure_onnx_model(precision) / MODEL_FILE), options, providers=["CPUExecutionProvider"]
    )
    for start in range(0, len(passages), SLICE):
        embedder.encode_passages(passages[start : start + SLICE])
    trace = Path(embedder.session.end_profiling())
    by_op: dict[str, float] = {}
    for event in json.loads(trace.read_text(encoding="utf-8")):
        if event.get("cat") == "Node" and event.get("name", "").endswith("_kernel_time"):
            op = event["args"]["op_name"]
            by_op[op] = by_op.get(op, 0.0) + float(event["dur"])
    trace.unlink()
    total = sum(by_op.values()) or 1.0
    return sorted(((op, t / total) for op, t in by_op.items()), key=lambda x: -x[1])


def dureader(names: list[str], work: Path, limit: int | None) -> dict[str, dict]:
    """R@5 / MRR@10 (dense and hybrid) on DuReader-robust dev per runtime, through the real pipeline."""
    from bench.eval_retrieval import evaluate
    from index.ingest import ingest_items
    from index.store import Store
    from qa.search import Searcher

    rset = load_retrieval_set("dureader")
    out = {}
    for name in names:
        store = Store(work / "data" / f"embedders-{name}", spec_of(name))
        store.use_embedder(CachingEmbedder(create_embedder(store.spec), work / "embeddings.sqlite"))
        t0 = time.time()
        ingest_items(store, rset.articles(), batch_chunks=4096)
        metrics = evaluate(Searcher(store), rset, rset.queries[:limit], modes=("dense", "hybrid"))
        out[name] = metrics
        print(f"  dureader {name}: dense R@5 {metrics['dense']['R@5']:.4f}, hybrid R@5 "
              f"{metrics['hybrid']['R@5']:.4f} ({time.time() - t0:.0f}s)", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runtimes", nargs="+", default=runtime_choices(), choices=runtime_choices(),
                    help="the first is the reference for cosine and ratios (default: every runtime)")
    ap.add_argument("--passages", type=int, default=96)
    ap.add_argument("--no-dureader", action="store_true")
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--dureader-runtimes", nargs="+", choices=runtime_choices(), default=None,
                    help="runtimes to evaluate on DuReader (default: those timed)")
    ap.add_argument("--limit", type=int, default=None, help="DuReader: only the first N queries")
    ap.add_argument("--work", type=Path, default=Path(".bench"))
    ap.add_argument("--profile", nargs="+", default=[], choices=[n for n in runtime_choices() if n.startswith("onnx")],
                    help="after timing, print where ONNX Runtime spends its kernel time for these runtimes")
    args = ap.parse_args(argv)
    names = ["torch-fp32"] + [n for n in args.runtimes if n != "torch-fp32"]
    if "torch-bf16" in names and not cpu_supports_bf16():
        print("torch-bf16: skipped, this CPU has no avx512_bf16/AMX (bf16 would be emulated)", flush=True)
        names.remove("torch-bf16")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}; embed threads {embed_threads()}", flush=True)
    passages = news_passages(args.passages)
    queries = [q["text"] for q in load_retrieval_set("dureader").queries[:32]]
    print(f"speed: {len(passages)} news chunks (mean {np.mean([len(p) for p in passages]):.0f} chars), "
          f"{len(queries)} DuReader queries", flush=True)
    rows = {} if args.no_speed else speed(names, passages, queries)
    for name in args.profile:
        shares = op_profile(name, passages, args.work)
        print(f"{name} kernel time: " + ", ".join(f"{op} {100 * share:.1f}%" for op, share in shares if share >= 0.005),
              flush=True)
    quality = {} if args.no_dureader else dureader(args.dureader_runtimes or names, args.work, args.limit)
    if args.no_speed:
        for name, q in quality.items():
            print(f"| {name} | dense R@5 {q['dense']['R@5']:.4f} MRR@10 {q['dense']['MRR@10']:.4f} | hybrid R@5 "
                  f"{q['hybrid']['R@5']:.4f} MRR@10 {q['hybrid']['MRR@10']:.4f} |")
        return 0
    base = rows["torch-fp32"]["passages_per_s"]
    print("\n| runtime | passages/s | x torch fp32 | one query (ms) | load (s) | cosine to fp32 min / mean "
          "| DuReader dense R@5 | hybrid R@5 | hybrid MRR@10 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in names:
        r = rows[name]
        q = quality.get(name)
        cells = (f"{q['dense']['R@5']:.4f} | {q['hybrid']['R@5']:.4f} | {q['hybrid']['MRR@10']:.4f}"
                 if q else "- | - | -")
        print(f"| {name} | {r['passages_per_s']:.1f} | {r['passages_per_s'] / base:.2f} | {r['query_ms']:.0f} | "
              f"{r['load_s']:.1f} | {r['cos_min']:.4f} / {r['cos_mean']:.5f} | {cells} |")
    print(f"(machine load average after the run: {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

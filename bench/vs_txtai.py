"""policyqa against txtai on the same model directory and the same corpus, side by side.

    pip install txtai torch==2.13.0        # the bench environment only, in one pip command so that pip
                                          # keeps the CPU torch pin; txtai is never a runtime dependency
    python bench/vs_txtai.py               # 300 DuReader-robust dev passages, the queries they answer
    python bench/vs_txtai.py --passages 1398 --queries 0   # the whole dev set (slow on 2 cores)

Corpus: the first --passages passages of DuReader-robust dev (title and text), and every dev query
whose relevant passage is among them (at most --queries; 0 = all). Each system runs in its own fresh
process, one after the other, so its memory (peak resident set, VmHWM) is its own:

* ``txtai``: ``Embeddings`` over the rebuilt multilingual-e5-small directory (sentence-transformers
  method, "query: "/"passage: " instructions, exact FAISS ``IDMap,Flat`` index, content stored), torch fp32:
  the numerics txtai runs this model at on this CPU.
* ``policyqa torch-fp32``: policyqa at the same numerics as txtai.
* ``policyqa onnx-int8``: policyqa's default.

Ingest time counts everything from the texts to a searchable index (policyqa: normalize, chunk,
embed, tokenize, commit; txtai: embed and index). Search p50 is one query at a time, warm, query
encoding included (policyqa: hybrid search, its default). R@5 / MRR@10 rank documents by their best
hit. Ratios are policyqa over txtai for rates, txtai over policyqa for times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SYSTEMS = ("txtai", "policyqa torch-fp32", "policyqa onnx-int8")


def peak_rss_mb() -> float:
    with open("/proc/self/status", encoding="utf-8") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def load(passages: int, queries: int) -> tuple[list[dict], list[dict], dict[str, set[str]]]:
    from bench.datasets import load_retrieval_set

    rset = load_retrieval_set("dureader")
    corpus = rset.corpus[:passages]
    ids = {p["_id"] for p in corpus}
    qs = [q for q in rset.queries if rset.qrels.get(q["_id"], set()) & ids]
    return corpus, (qs[:queries] if queries else qs), rset.qrels


def ranks(ranked: list[list[str]], qs: list[dict], qrels: dict[str, set[str]]) -> dict[str, float]:
    r5 = mrr = 0.0
    for q, docs in zip(qs, ranked, strict=True):
        rank = next((i for i, d in enumerate(docs[:10]) if d in qrels[q["_id"]]), None)
        if rank is not None:
            mrr += 1 / (rank + 1)
            r5 += rank < 5
    return {"R@5": r5 / len(qs), "MRR@10": mrr / len(qs)}


def run_txtai(corpus: list[dict], qs: list[dict], qrels: dict, work: Path) -> dict:
    from txtai import Embeddings

    from index.model_build import ensure_default_model

    config = {
        "path": str(ensure_default_model()),
        "method": "sentence-transformers",
        "instructions": {"query": "query: ", "data": "passage: "},
        "content": True,
        "backend": "faiss",
        "faiss": {"components": "IDMap,Flat"},
    }
    t0 = time.perf_counter()
    embeddings = Embeddings(config)
    load_s = time.perf_counter() - t0
    docs = [(p["_id"], f"{p.get('title') or ''}\n{p['text']}".strip(), None) for p in corpus]
    t0 = time.perf_counter()
    embeddings.index(docs)
    ingest_s = time.perf_counter() - t0
    ranked, times = [], []
    for q in qs:
        t0 = time.perf_counter()
        hits = embeddings.search(q["text"], 10)
        times.append(time.perf_counter() - t0)
        ranked.append([h["id"] for h in hits])
    import torch

    return {"load_s": load_s, "ingest_s": ingest_s, "search_p50_ms": 1000 * statistics.median(times),
            **ranks(ranked, qs, qrels), "config": {**embeddings.config, "torch_threads": torch.get_num_threads()}}


def run_policyqa(runtime: str, corpus: list[dict], qs: list[dict], qrels: dict, work: Path) -> dict:
    from corpus.models import Article
    from index.embedder import EmbedderSpec, parse_runtime
    from qa.engine import Engine

    rt, precision = parse_runtime(runtime)
    t0 = time.perf_counter()
    engine = Engine(work / f"policyqa-{runtime}", EmbedderSpec(runtime=rt, precision=precision))
    engine.store.embedder  # noqa: B018 - model load timed apart from ingest, as for txtai
    load_s = time.perf_counter() - t0
    articles = [Article(doc_id=p["_id"], text=p["text"], title=p.get("title") or "") for p in corpus]
    t0 = time.perf_counter()
    report = engine.ingest_items(articles, batch_chunks=4096)
    ingest_s = time.perf_counter() - t0
    ranked, times = [], []
    for q in qs:
        t0 = time.perf_counter()
        hits = engine.search(q["text"], k=10)
        times.append(time.perf_counter() - t0)
        seen: list[str] = []
        for h in hits:
            if h.doc_id not in seen:
                seen.append(h.doc_id)
        ranked.append(seen)
    return {"load_s": load_s, "ingest_s": ingest_s, "search_p50_ms": 1000 * statistics.median(times),
            **ranks(ranked, qs, qrels), "chunks": engine.store.stats()["chunks"],
            "added": len(report.result.added)}


def one(system: str, passages: int, queries: int) -> None:
    corpus, qs, qrels = load(passages, queries)
    with tempfile.TemporaryDirectory(prefix="vs-txtai-") as tmp:
        if system == "txtai":
            out = run_txtai(corpus, qs, qrels, Path(tmp))
        else:
            out = run_policyqa(system.split()[1], corpus, qs, qrels, Path(tmp))
    out.update(system=system, passages=len(corpus), queries=len(qs), peak_rss_mb=peak_rss_mb())
    print("RESULT " + json.dumps(out, ensure_ascii=False, default=str))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--passages", type=int, default=300)
    ap.add_argument("--queries", type=int, default=0)
    ap.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=SYSTEMS)
    ap.add_argument("--one", choices=SYSTEMS, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        one(args.one, args.passages, args.queries)
        return 0
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    rows = {}
    print(f"load average {os.getloadavg()[0]:.1f} at start", flush=True)
    for system in args.systems:
        r = subprocess.run([sys.executable, __file__, "--one", system, "--passages", str(args.passages),
                            "--queries", str(args.queries)], env=env, capture_output=True, text=True)
        line = next((x for x in r.stdout.splitlines() if x.startswith("RESULT ")), None)
        if r.returncode != 0 or line is None:
            print(f"{system} failed ({r.returncode}): {r.stderr[-3000:]}", file=sys.stderr)
            return 1
        rows[system] = json.loads(line[7:])
        print(f"  {system}: {json.dumps({k: v for k, v in rows[system].items() if k != 'config'})}", flush=True)
    if "txtai" in rows:
        print("\ntxtai configuration: " + json.dumps(rows["txtai"]["config"], ensure_ascii=False))
    t = rows.get("txtai")
    first = next(iter(rows.values()))
    print(f"\n{first['passages']} DuReader-robust dev passages, {first['queries']} queries; "
          f"load average {os.getloadavg()[0]:.1f} at the end")
    print("| system | ingest (s) | passages/s | x txtai ingest rate | search p50 (ms) | x txtai search time "
          "| peak RSS (MB) | R@5 | MRR@10 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        rate = r["passages"] / r["ingest_s"]
        xr = f"{rate / (t['passages'] / t['ingest_s']):.2f}" if t else "-"
        xs = f"{t['search_p50_ms'] / r['search_p50_ms']:.2f}" if t else "-"
        print(f"| {name} | {r['ingest_s']:.1f} | {rate:.2f} | {xr} | {r['search_p50_ms']:.1f} | {xs} | "
              f"{r['peak_rss_mb']:.0f} | {r['R@5']:.4f} | {r['MRR@10']:.4f} |")
    print("targets: policyqa default >= 5x txtai's ingest rate, and a lower search p50")
    return 0


if __name__ == "__main__":
    sys.exit(main())

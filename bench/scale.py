"""Scale benchmark of the local segment store: ingest, one-document writes, search, recall, open, recovery.

    nice -n 10 python bench/scale.py --sizes 10000 100000
    python bench/scale.py --sizes 2000 --pool 300 --questions 40      # a quick smoke run
    python bench/scale.py --sizes 10000 --backends local milvus-lite milvus-server --no-model --no-ann-compare

For each size N it builds a data directory of N chunks and measures, side by side (ratios to the
smallest size printed last):

* bulk ingest rate, chunks/s, counted from embedded chunks to ``write`` returned (tokenizing, catalog,
  postings, segment files, merges; not reading or normalizing, not embedding);
* one-document add latency and one-document delete latency, p50 and max over ``--writes`` of each,
  including the merges they trigger;
* search p50/p95 (``Searcher.search``, hybrid, k=10, one client, warm) and ask p50/p95
  (``Answerer.ask``): with the model-free hash embedder (no model time) and with the default model
  (query encoding included);
* recall@10 of the vector search against exact search over the same live rows, with real DuReader
  and CMRC question embeddings as queries: no filter, a 1% and a 10% date filter, and after deleting
  10% of the chunks;
* open time (a fresh process: ``Store()`` and the first search), recovery time (a fresh process
  opening the directory after a writer was SIGKILLed with a sealed but unpublished segment),
  resident memory of that process after 50 searches (VmHWM), disk use;
* at the largest size, the vector indexes compared on the same vectors: exact, IVF-SQ8 with exact
  re-rank (the store's), IVF-Flat and HNSW: build time, query time, recall@10, bytes.

With ``--backends`` the same documents and vectors also go to Milvus: ``milvus-lite`` (a file, in
process) and ``milvus-server`` (the PyPI ``milvus`` 2.3 standalone server, started on loopback in a
private network namespace as the tests start it). Their column measures bulk ingest, one-document
add/delete, search/ask p50/p95 (hash embedder) and disk, printed beside the local store's with the
ratio Milvus / local at each size.

Corpus: CCTV news items (``xwlb_news``), each copied with varied text (sentences rotated and one
dropped per copy, a serial sentence added, so no two copies share a content hash) and dated over
1,000 consecutive days. Vectors: a pool of ``--pool`` real passage embeddings of news chunks by the
default model (cached under --work), each synthesized chunk vector = a pool vector plus Gaussian noise
(norm ~0.5), renormalized; queries are real question embeddings, never perturbed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.datasets import load_news, load_retrieval_set  # noqa: E402
from bench.embed_cache import CachingEmbedder  # noqa: E402
from corpus.models import Article  # noqa: E402
from corpus.prepare import prepare  # noqa: E402
from index import segments  # noqa: E402
from index.backend import Filter  # noqa: E402
from index.embedder import EmbedderSpec, create_embedder  # noqa: E402
from index.store import Store  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DAY0 = dt.date(2021, 1, 1)
DAYS = 1000
BATCH = 1024


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def rss_peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def du_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


# ----- inputs ---------------------------------------------------------------------------------------
def pool_vectors(work: Path, n: int) -> np.ndarray:
    """Real passage embeddings (default model) of the first ``n`` news chunks, cached."""
    embedder = CachingEmbedder(create_embedder(EmbedderSpec()), work / "embeddings.sqlite")
    texts = []
    for art in load_news():
        doc = prepare(art)
        texts.extend(f"{doc.title}\n{c.text}" for c in doc.chunks)
        if len(texts) >= n:
            break
    return np.asarray(embedder.encode_passages(texts[:n]), np.float32)


def questions(limit: int) -> list[str]:
    """DuReader and CMRC dev questions, alternating."""
    a = [q["text"] for q in load_retrieval_set("dureader").queries]
    b = [q["text"] for q in load_retrieval_set("cmrc").queries]
    out = [x for pair in zip(a, b, strict=False) for x in pair]
    return out[:limit]


def question_vectors(work: Path, texts: list[str]) -> np.ndarray:
    embedder = CachingEmbedder(create_embedder(EmbedderSpec()), work / "embeddings.sqlite")
    return np.asarray(embedder.encode_queries(texts), np.float32)


def varied(text: str, copy: int) -> str:
    sentences = [s for s in re.split(r"(?<=[。！？])", text) if s.strip()]
    if len(sentences) > 2:
        r = copy % len(sentences)
        sentences = sentences[r:] + sentences[:r]
        del sentences[copy % len(sentences)]
    return "".join(sentences) + f"本条为第{copy}辑汇编稿。"


def synth_docs(n_chunks: int, start_copy: int = 0):
    """Prepared documents (varied copies of the news items) until ``n_chunks`` chunks; yields docs."""
    items = load_news()
    total, copy = 0, start_copy
    while True:
        for j, item in enumerate(items):
            day = DAY0 + dt.timedelta(days=(copy * len(items) + j) % DAYS)
            art = Article(doc_id=f"c{copy}-{item.doc_id}", text=varied(item.text, copy), title=item.title,
                          date=day.isoformat(), source=item.source, url=item.url)
            doc = prepare(art)
            yield doc
            total += len(doc.chunks)
            if total >= n_chunks:
                return
        copy += 1


SYNTH = "mix"  # set from --synth


def synth_vectors(pool: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` unit vectors derived from real passage embeddings (see --synth)."""
    base = pool[rng.integers(0, len(pool), n)]
    if SYNTH == "mix":
        other = pool[rng.integers(0, len(pool), n)]
        w = rng.uniform(0.5, 1.0, (n, 1)).astype(np.float32)
        base = w * base + (1 - w) * other
        noise = 0.1
    else:
        noise = 0.5
    noisy = base + rng.normal(0, noise / np.sqrt(pool.shape[1]), base.shape).astype(np.float32)
    return (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)


def bulk_write(store, n: int, pool: np.ndarray, rng: np.random.Generator) -> tuple[list[str], int, float, float]:
    """Stream ``n`` chunks of synthesized documents into ``store`` in batches of about :data:`BATCH` chunks.

    Documents are prepared batch by batch and dropped once written, so memory does not grow with ``n``.
    Returns (document ids, chunks, seconds spent inside ``write``, seconds spent preparing)."""
    ids: list[str] = []
    chunks, spent, started = 0, 0.0, time.perf_counter()
    batch, vecs, size = [], [], 0

    def flush() -> float:
        t0 = time.perf_counter()
        store.write(batch, vecs)
        return time.perf_counter() - t0

    for doc in synth_docs(n):
        batch.append(doc)
        vecs.append(synth_vectors(pool, len(doc.chunks), rng))
        ids.append(doc.doc_id)
        size += len(doc.chunks)
        chunks += len(doc.chunks)
        if size >= BATCH:
            spent += flush()
            batch, vecs, size = [], [], 0
    if batch:
        spent += flush()
    return ids, chunks, spent, time.perf_counter() - started - spent


def one_document_writes(store, doc_ids: list[str], pool: np.ndarray, rng: np.random.Generator,
                        writes: int) -> tuple[list[float], list[float]]:
    """Milliseconds of ``writes`` one-document adds, then of as many one-document deletes of ``doc_ids``."""
    add_ms, del_ms = [], []
    for k in range(writes):
        doc = prepare(Article(doc_id=f"one-{k}", title="单篇快讯", text=f"昆明市第{k}条单篇快讯：磨憨口岸通关量增长。",
                              date="2023-06-01", source="昆明日报"))
        vec = synth_vectors(pool, len(doc.chunks), rng)
        t0 = time.perf_counter()
        store.write([doc], [vec])
        add_ms.append((time.perf_counter() - t0) * 1000)
    for v in rng.choice(len(doc_ids), size=writes, replace=False):
        t0 = time.perf_counter()
        store.write([], delete=[doc_ids[v]])
        del_ms.append((time.perf_counter() - t0) * 1000)
    return add_ms, del_ms


# ----- measurements ---------------------------------------------------------------------------------
def exact_top(view, q: np.ndarray, k: int, where: Filter) -> set[int]:
    scores, keys = [], []
    for seg, mask in view._masks(where):
        ids = np.asarray(seg.arrays.ids)
        s = np.asarray(seg.arrays.vectors) @ q
        if mask is not None:
            s, ids = s[mask], ids[mask]
        scores.append(s)
        keys.append(ids)
    s, ids = np.concatenate(scores), np.concatenate(keys)
    top = np.argsort(-s)[:k]
    return set(ids[top].tolist())


def recall(store: Store, qvecs: np.ndarray, where: Filter | None = None) -> float:
    where = where or Filter()
    hits = []
    with store.read() as view:
        for q in qvecs:
            want = exact_top(view, q, 10, where)
            _s, got = view.dense(q, 10, where)
            if want:
                hits.append(len(want & set(got.tolist())) / len(want))
    return float(np.mean(hits))


def date_filter(share: float) -> Filter:
    days = max(1, round(share * DAYS))
    a = DAY0 + dt.timedelta(days=300)
    return Filter(since=a.isoformat(), until=(a + dt.timedelta(days=days - 1)).isoformat())


def time_queries(store: Store, texts: list[str], embedder, asks: int) -> dict:
    from qa.routes import answerer as make_answerer
    from qa.search import Searcher

    store.use_embedder(embedder)
    searcher = Searcher(store)
    answerer = make_answerer(searcher)
    for t in texts[:3]:
        searcher.search(t)  # warm
    search_ms = []
    for t in texts:
        t0 = time.perf_counter()
        searcher.search(t, k=10)
        search_ms.append((time.perf_counter() - t0) * 1000)
    ask_ms = []
    for t in texts[:asks]:
        t0 = time.perf_counter()
        answerer.ask(t)
        ask_ms.append((time.perf_counter() - t0) * 1000)
    return {"search_p50": pct(search_ms, 50), "search_p95": pct(search_ms, 95),
            "ask_p50": pct(ask_ms, 50), "ask_p95": pct(ask_ms, 95)}


def probe(data: Path, texts: list[str]) -> dict:
    """In a fresh process: open time (Store() plus the first search) and peak RSS after 50 searches."""
    code = (
        "import json, sys, time\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "t0 = time.perf_counter()\n"
        "from index.store import Store\nfrom index.embedder import EmbedderSpec, create_embedder\n"
        "from qa.search import Searcher\n"
        "t1 = time.perf_counter()\n"
        f"store = Store({str(data)!r}); store.use_embedder(create_embedder(EmbedderSpec('hash', '384')))\n"
        "t2 = time.perf_counter()\n"
        f"texts = {texts[:50]!r}\n"
        "s = Searcher(store); s.search(texts[0])\n"
        "t3 = time.perf_counter()\n"
        "for t in texts: s.search(t)\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
        "print(json.dumps({'import_s': t1 - t0, 'open_s': t2 - t1, 'first_search_s': t3 - t2,"
        " 'rss_mb': int(hwm) / 1024}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


KILL_CHILD = """
import os, signal, sys
sys.path.insert(0, {root!r})
import numpy as np
from bench.crasher import _install_crash_point
from corpus.models import Article
from corpus.prepare import prepare
from index.store import Store
_install_crash_point("after-seal")
store = Store({data!r})
docs = [prepare(Article(doc_id=f"killed-{{i}}", title="被中断的写入", text=f"第{{i}}条被中断的写入。" * 40))
        for i in range(50)]
vecs = [np.full((len(d.chunks), 384), 1 / np.sqrt(384), np.float32) for d in docs]
store.write(docs, vecs)
"""


def kill_then_recover(data: Path, texts: list[str]) -> dict:
    child = subprocess.run([sys.executable, "-c", KILL_CHILD.format(root=str(ROOT), data=str(data))],
                           capture_output=True, text=True)
    if child.returncode != -signal.SIGKILL:
        raise RuntimeError(f"the writer was not killed: {child.returncode} {child.stderr[-2000:]}")
    orphans = len(list((data / "segments").iterdir()))
    out = probe(data, texts)
    out["dirs_before_recovery"] = orphans
    out["dirs_after_recovery"] = len(list((data / "segments").iterdir()))
    return out


def run_size(n: int, work: Path, pool: np.ndarray, qtexts: list[str], qvecs: np.ndarray, writes: int,
             asks: int, real_model, model_queries: int, ann_min: int) -> dict:
    data = work / f"data-{n}"
    if data.exists():
        shutil.rmtree(data)
    rng = np.random.default_rng(n)
    store = Store(data, EmbedderSpec(), ann_min=ann_min)  # the default model's spec: vectors are of its kind
    doc_ids, chunks, ingest_s, prep_s = bulk_write(store, n, pool, rng)
    st = store.stats()
    print(f"[{n}] {len(doc_ids)} documents, {chunks} chunks: bulk ingest {chunks / ingest_s:.0f} chunks/s "
          f"({ingest_s:.0f} s writing, {prep_s:.0f} s preparing); {st['segments']} segments", flush=True)
    # one-document adds and deletes (merges included)
    add_ms, del_ms = one_document_writes(store, doc_ids, pool, rng, writes)
    print(f"[{n}] add p50 {pct(add_ms, 50):.0f} ms, delete p50 {pct(del_ms, 50):.0f} ms", flush=True)
    out = {
        "chunks": store.stats()["chunks"], "bulk_chunks_per_s": chunks / ingest_s,
        "add_p50_ms": pct(add_ms, 50), "add_max_ms": max(add_ms),
        "delete_p50_ms": pct(del_ms, 50), "delete_max_ms": max(del_ms),
        "segments": store.stats()["segments"],
    }
    out.update({f"hash_{k}": v for k, v in time_queries(store, qtexts, create_embedder(EmbedderSpec("hash", "384")),
                                                        asks).items()})
    if real_model is not None:
        timed = time_queries(store, qtexts[:model_queries], real_model, min(asks, model_queries))
        out.update({f"model_{k}": v for k, v in timed.items()})
    out["recall"] = recall(store, qvecs)
    out["recall_1pct"] = recall(store, qvecs, date_filter(0.01))
    out["recall_10pct"] = recall(store, qvecs, date_filter(0.10))
    store.close()
    p = probe(data, qtexts)
    out.update(open_s=p["open_s"], first_search_s=p["first_search_s"], rss_mb=p["rss_mb"])
    r = kill_then_recover(data, qtexts)
    out.update(recovery_open_s=r["open_s"], recovery_first_search_s=r["first_search_s"])
    store = Store(data, ann_min=ann_min)
    doomed = doc_ids[: len(doc_ids) // 10]
    store.write([], delete=doomed)
    out["recall_after_10pct_deleted"] = recall(store, qvecs)
    out["disk_mb"] = du_mb(data)
    store.close()
    print(f"[{n}] {json.dumps({k: round(v, 3) for k, v in out.items()})}", flush=True)
    return out


def run_size_milvus(n: int, work: Path, backend: str, uri: str, token: str | None, pool: np.ndarray,
                    qtexts: list[str], writes: int, asks: int) -> dict:
    """The Milvus column at one size: same documents and vectors as the local run, hash embedder."""
    from index.backend import StoreConfig
    from index.milvus import open_milvus_store

    rng = np.random.default_rng(n)  # the local run's generator: the same vectors
    hash384 = EmbedderSpec("hash", "384")
    store = open_milvus_store(StoreConfig(kind="milvus", milvus_uri=uri, milvus_token=token,
                                          milvus_prefix=f"scale{n}", embedder=hash384))
    store.drop()
    store = open_milvus_store(StoreConfig(kind="milvus", milvus_uri=uri, milvus_token=token,
                                          milvus_prefix=f"scale{n}", embedder=hash384))
    doc_ids, chunks, ingest_s, _prep_s = bulk_write(store, n, pool, rng)
    print(f"[{backend} {n}] bulk ingest {chunks / ingest_s:.0f} chunks/s", flush=True)
    add_ms, del_ms = one_document_writes(store, doc_ids, pool, rng, writes)
    print(f"[{backend} {n}] add p50 {pct(add_ms, 50):.0f} ms, delete p50 {pct(del_ms, 50):.0f} ms", flush=True)
    out = {"chunks": store.stats()["chunks"], "bulk_chunks_per_s": chunks / ingest_s,
           "add_p50_ms": pct(add_ms, 50), "add_max_ms": max(add_ms),
           "delete_p50_ms": pct(del_ms, 50), "delete_max_ms": max(del_ms)}
    out.update({f"hash_{k}": v for k, v in time_queries(store, qtexts, create_embedder(hash384), asks).items()})
    if backend == "milvus-lite":  # milvus-lite 3.x keeps a folder, earlier versions one file
        out["disk_mb"] = du_mb(Path(uri)) if Path(uri).is_dir() else Path(uri).stat().st_size / 2**20
    store.shutdown()
    print(f"[{backend} {n}] {json.dumps({k: round(v, 3) for k, v in out.items()})}", flush=True)
    return out


def milvus_columns(backends: list[str], sizes: list[int], work: Path, pool: np.ndarray, qtexts: list[str],
                   writes: int, asks: int) -> dict[str, dict[int, dict]]:
    """Each Milvus backend's results by size (a server is started for ``milvus-server`` and stopped)."""
    import index.milvus.store as milvus_store
    import index.milvus.view as milvus_view
    from index.backend import StoreError
    from index.milvus import connection

    # On a loaded machine milvus-lite's in-process server or the 2.3 server can take longer than the
    # product's 5 s (first call) and 60 s (any call) to answer; the benchmark measures, it does not judge.
    connection.CONNECT_TIMEOUT = 60.0
    milvus_store.CALL_TIMEOUT = milvus_view.CALL_TIMEOUT = 600.0
    out: dict[str, dict[int, dict]] = {}
    for backend in backends:
        server = None
        if backend == "milvus-lite":
            uri, token = str(work / "milvus-lite.db"), None
        else:
            from tests.milvus_server import TOKEN, MilvusServerProcess

            reason = MilvusServerProcess.available()
            if reason:
                print(f"[{backend}] not measured: {reason}", flush=True)
                continue
            server = MilvusServerProcess(work / "milvus-server")
            if server.data_dir.exists():
                shutil.rmtree(server.data_dir)
            try:
                uri, token = server.start(), TOKEN
            except RuntimeError as e:
                print(f"[{backend}] not measured: {e}", flush=True)
                server.stop()
                continue
        try:
            out[backend] = {}
            for n in sizes:
                try:
                    out[backend][n] = run_size_milvus(n, work, backend, uri, token, pool, qtexts, writes, asks)
                except StoreError as e:
                    print(f"[{backend} {n}] not measured: {e}", flush=True)
                    break
                if server is not None:
                    out[backend][n]["disk_mb"] = du_mb(server.data_dir)
        finally:
            if server is not None:
                server.stop()
    return out


def print_backends(local: dict[int, dict], others: dict[str, dict[int, dict]]) -> None:
    """Local and Milvus side by side per size, with each Milvus / local ratio."""
    cols = [("local", n, local.get(n, {})) for n in sorted(local)]
    cols += [(b, n, r) for b, res in others.items() for n, r in sorted(res.items())]
    ratio_cols = [(b, n, r) for b, n, r in cols if b != "local" and n in local]
    print("| | " + " | ".join(f"{b} {n:,}" for b, n, _r in cols) + " | "
          + " | ".join(f"{b} / local {n:,}" for b, n, _r in ratio_cols) + " |")
    print("|" + "---|" * (1 + len(cols) + len(ratio_cols)))
    for key, label, fmt in ROWS:
        vals = [r.get(key) for _b, _n, r in cols]
        if all(r.get(key) is None for b, _n, r in cols if b != "local"):
            continue  # rows measured on the local store only
        cells = [fmt.format(v) if v is not None else "" for v in vals]
        ratios = [f"{r[key] / local[n][key]:.2f}" if r.get(key) is not None and local[n].get(key) else ""
                  for _b, n, r in ratio_cols]
        print(f"| {label} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")


def compare_ann(pool: np.ndarray, n: int, qvecs: np.ndarray) -> list[dict]:
    """Vector indexes on the same synthesized vectors: build time, query time, recall@10, size."""
    import faiss

    from index.segments import build_ann

    rng = np.random.default_rng(7)
    x = synth_vectors(pool, n, rng)
    exact = [set(np.argsort(-(x @ q))[:10].tolist()) for q in qvecs]
    rows = []

    def measure(name, build, search):
        t0 = time.perf_counter()
        index = build()
        b = time.perf_counter() - t0
        t0 = time.perf_counter()
        got = [search(index, q) for q in qvecs]
        ms = (time.perf_counter() - t0) * 1000 / len(qvecs)
        rec = float(np.mean([len(e & set(g)) / 10 for e, g in zip(exact, got, strict=True)]))
        size = len(faiss.serialize_index(index)) if not isinstance(index, np.ndarray) else index.nbytes
        rows.append({"index": name, "build_s": b, "query_ms": ms, "recall": rec, "mb": size / 2**20})
        print(f"  {name}: build {b:.1f}s, {ms:.2f} ms/query, recall@10 {rec:.3f}, {size / 2**20:.0f} MB", flush=True)

    measure("exact (numpy)", lambda: x, lambda ix, q: np.argsort(-(ix @ q))[:10].tolist())

    def sq8_search(ix, q, nprobe):
        ix.nprobe = nprobe
        _s, pos = ix.search(q.reshape(1, -1), segments.RERANK * 10)
        pos = pos[0][pos[0] >= 0]
        return pos[np.argsort(-(x[pos] @ q))[:10]].tolist()

    built = {}

    def sq8_build():
        if "ix" not in built:
            built["ix"] = build_ann(x)
        return built["ix"]

    t0 = time.perf_counter()
    nlist = sq8_build().nlist
    print(f"  IVF-SQ8 (the store's index) built in {time.perf_counter() - t0:.1f}s; "
          "the rows below search that one index", flush=True)
    store_probes = segments.probes(nlist)
    for nprobe in sorted({32, segments.NPROBE, nlist // 16, store_probes, nlist // 4} - {0}):
        label = " (the store's)" if nprobe == store_probes else ""
        measure(f"IVF-SQ8, {nlist} lists, nprobe {nprobe}{label}, exact re-rank of {segments.RERANK * 10}",
                sq8_build, lambda ix, q, p=nprobe: sq8_search(ix, q, p))

    def ivf_flat():
        nlist = int(4 * np.sqrt(n))
        ix = faiss.IndexIVFFlat(faiss.IndexFlatIP(x.shape[1]), x.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
        ix.train(x[rng.choice(n, min(n, 64 * nlist), replace=False)])
        ix.add(x)
        ix.nprobe = 32
        return ix

    measure("IVF-Flat nprobe 32", ivf_flat, lambda ix, q: ix.search(q.reshape(1, -1), 10)[1][0].tolist())

    def hnsw():
        ix = faiss.IndexHNSWFlat(x.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
        ix.hnsw.efConstruction = 40
        ix.add(x)
        ix.hnsw.efSearch = 64
        return ix

    measure("HNSW32 efC 40 efS 64", hnsw, lambda ix, q: ix.search(q.reshape(1, -1), 10)[1][0].tolist())
    return rows


ROWS = [
    ("chunks", "chunks", "{:.0f}"), ("segments", "live segments", "{:.0f}"),
    ("bulk_chunks_per_s", "bulk ingest, chunks/s", "{:.0f}"),
    ("add_p50_ms", "one-doc add p50, ms", "{:.0f}"), ("add_max_ms", "one-doc add max, ms", "{:.0f}"),
    ("delete_p50_ms", "one-doc delete p50, ms", "{:.0f}"), ("delete_max_ms", "one-doc delete max, ms", "{:.0f}"),
    ("hash_search_p50", "search p50, ms (hash embedder)", "{:.1f}"),
    ("hash_search_p95", "search p95, ms (hash embedder)", "{:.1f}"),
    ("hash_ask_p50", "ask p50, ms (hash embedder)", "{:.1f}"), ("hash_ask_p95", "ask p95, ms (hash embedder)", "{:.1f}"),
    ("model_search_p50", "search p50, ms (default model)", "{:.1f}"),
    ("model_search_p95", "search p95, ms (default model)", "{:.1f}"),
    ("model_ask_p50", "ask p50, ms (default model)", "{:.1f}"), ("model_ask_p95", "ask p95, ms (default model)", "{:.1f}"),
    ("recall", "recall@10 vs exact", "{:.3f}"), ("recall_1pct", "recall@10, 1% date filter", "{:.3f}"),
    ("recall_10pct", "recall@10, 10% date filter", "{:.3f}"),
    ("recall_after_10pct_deleted", "recall@10 after deleting 10%", "{:.3f}"),
    ("open_s", "open (fresh process), s", "{:.2f}"), ("first_search_s", "first search after open, s", "{:.2f}"),
    ("recovery_open_s", "open after a killed write, s", "{:.2f}"),
    ("rss_mb", "peak RSS after 50 searches, MB", "{:.0f}"), ("disk_mb", "disk, MB", "{:.0f}"),
]


def print_table(results: dict[int, dict]) -> None:
    sizes = sorted(results)
    head = "| | " + " | ".join(f"{n:,}" for n in sizes) + " | " + " | ".join(
        f"{n:,} / {sizes[0]:,}" for n in sizes[1:]) + " |"
    print(head)
    print("|" + "---|" * (1 + 2 * len(sizes) - 1))
    for key, label, fmt in ROWS:
        vals = [results[n].get(key) for n in sizes]
        if all(v is None for v in vals):
            continue
        cells = [fmt.format(v) if v is not None else "" for v in vals]
        ratios = [f"{v / vals[0]:.2f}" if v is not None and vals[0] else "" for v in vals[1:]]
        print(f"| {label} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    p.add_argument("--pool", type=int, default=2000, help="real passage embeddings the vectors derive from")
    p.add_argument("--questions", type=int, default=200, help="DuReader+CMRC questions used as queries")
    p.add_argument("--writes", type=int, default=200, help="one-document adds (and deletes) timed")
    p.add_argument("--asks", type=int, default=50)
    p.add_argument("--ann-min", type=int, default=segments.ANN_MIN,
                   help="segments from this many chunks get the approximate index (lower it to see IVF at small N)")
    p.add_argument("--model-queries", type=int, default=50, help="queries timed with the default model")
    p.add_argument("--no-model", action="store_true", help="skip the default-model query timings")
    p.add_argument("--no-ann-compare", action="store_true")
    p.add_argument("--synth", choices=("mix", "copies"), default="mix",
                   help="mix: each vector blends two random pool vectors (weight 0.5-1) plus noise of norm ~0.1; "
                        "copies: a pool vector plus noise of norm ~0.5 (N/pool near-duplicates of each)")
    p.add_argument("--ann-only", action="store_true", help="only the vector-index comparison (at --ann-size)")
    p.add_argument("--ann-size", type=int, default=None,
                   help="vectors for the index comparison (default: the largest size; may exceed it, e.g. 10^6)")
    p.add_argument("--work", default="/tmp/policyqa-scale")
    p.add_argument("--backends", nargs="+", default=["local"], choices=["local", "milvus-lite", "milvus-server"],
                   help="stores measured side by side (Milvus: ingest, writes, search and disk only)")
    args = p.parse_args(argv)
    global SYNTH
    SYNTH = args.synth
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; {time.strftime('%Y-%m-%d %H:%M')}; "
          f"ann_min {args.ann_min}")
    t0 = time.perf_counter()
    pool = pool_vectors(work, args.pool)
    qtexts = questions(args.questions)
    qvecs = question_vectors(work, qtexts)
    print(f"pool of {len(pool)} real passage vectors, {len(qvecs)} question vectors in {time.perf_counter() - t0:.0f}s")
    real_model = None if args.no_model or args.ann_only else create_embedder(EmbedderSpec())
    results = {}
    for n in [] if args.ann_only or "local" not in args.backends else args.sizes:
        results[n] = run_size(n, work, pool, qtexts, qvecs, args.writes, args.asks, real_model,
                              args.model_queries, args.ann_min)
        (work / "results.json").write_text(json.dumps(results, indent=2))
        print(f"load average now {os.getloadavg()[0]:.1f}", flush=True)
    others = [] if args.ann_only else [b for b in args.backends if b != "local"]
    milvus = milvus_columns(others, args.sizes, work, pool, qtexts, args.writes, args.asks) if others else {}
    if milvus:
        (work / "results-milvus.json").write_text(json.dumps(milvus, indent=2))
    if results:
        print_table(results)
    if milvus:
        print("\nlocal and Milvus side by side (hash embedder for queries; same documents and vectors):")
        print_backends(results, milvus)
    if not args.no_ann_compare:
        n_ann = args.ann_size or max(args.sizes)
        print(f"\nvector indexes on {n_ann:,} synthesized vectors, {len(qvecs)} real question vectors:")
        compare_ann(pool, n_ann, qvecs)
    return 0


if __name__ == "__main__":
    sys.exit(main())

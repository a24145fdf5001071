"""Latency of a corpus-wide answer over 10^5 chunks, on a common-term question that fills the passage budget.

The corpus is synthetic policy news (bench/synthetic_text.py vocabulary; every fifth passage says that
some generated firms landed in a place), one chunk per document, embedded with the model-free hash
embedder (the dense pass costs one query encoding and one flat search either way; the model is not what
is timed). Each question names a different place (so caches of one do not serve the next); every place
is held by far more passages than the budget, so each answer reads the full budget.

    nice -n 10 python bench/aggregate_perf.py --chunks 100000 --work .bench/aggregate_perf
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.synthetic_text import PLACES, policy_sentence  # noqa: E402
from corpus.models import Article  # noqa: E402
from index.embedder import EmbedderSpec  # noqa: E402
from qa.aggregate import answer_corpus_wide, detect  # noqa: E402
from qa.aggregate.gather import DEFAULT_BUDGET  # noqa: E402
from qa.engine import Engine  # noqa: E402

_SYL = "星 河 蓝 湾 曙 光 青 禾 金 桥 银 泰 北 辰 海 川 东 方 明 珠 石 林 玉 龙 启 明 南 风 雪 峰 苍 山 锦 程".split()
_TRADES = "物流 医疗 农业 电子 制药 包装 冷链 数码 软件 家居 能源 材料 机械 纺织 食品".split()


def _firm(rng: random.Random) -> str:
    return rng.choice(_SYL) + rng.choice(_SYL) + rng.choice(_TRADES)


def synthetic_articles(n: int, seed: int = 7) -> list[Article]:
    """``n`` one-chunk articles of synthetic policy news; every fifth names firms landing in a place."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        sents = [policy_sentence(rng, f"{i}-{j}") for j in range(3)]
        if i % 5 == 0:
            place = rng.choice(PLACES)
            a, b = _firm(rng), _firm(rng)
            sents.insert(1, f"今年以来，{a}、{b}等{rng.randint(2, 30)}家企业相继落户{place}。")
        year = 2023 + i % 3
        out.append(Article(f"syn-{i}", "".join(sents), f"第{i}期", f"{year}-{1 + i % 12:02d}-{1 + i % 28:02d}", "合成"))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--chunks", type=int, default=100_000)
    ap.add_argument("--work", type=Path, default=Path(".bench/aggregate_perf"))
    ap.add_argument("--places", default="昆明,玉溪,曲靖,大理,丽江,红河,文山", help="one question per place")
    ap.add_argument("--budget", type=int, default=DEFAULT_BUDGET)
    args = ap.parse_args(argv)
    engine = Engine(args.work / f"data-{args.chunks}", EmbedderSpec("hash", "384"))
    have = engine.store.stats()["chunks"]
    if have < args.chunks:
        t0 = time.perf_counter()
        engine.ingest_items(synthetic_articles(args.chunks), batch_chunks=args.chunks + 1)
        print(f"built {engine.store.stats()['chunks']} chunks in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    n = engine.store.stats()["chunks"]
    engine.answerer.ask_top_k("昆明产业园区", k=1)  # load the generation and jieba once, outside the timing
    times, cpu = [], []
    for place in args.places.split(","):
        spec = detect(f"哪些企业落地{place}？")
        t0, c0 = time.perf_counter(), time.process_time()
        answer = answer_corpus_wide(engine.answerer, spec, 5, None, budget=args.budget)
        secs = time.perf_counter() - t0
        times.append(secs)
        cpu.append(time.process_time() - c0)
        agg = answer.aggregate
        print(f"{place}: {secs:.2f}s wall, {cpu[-1]:.2f}s CPU, scanned {agg['scanned']} of {agg['candidates']} candidates "
              f"(truncated={agg['truncated']}), {agg['n_items']} items from {agg['n_articles']} articles")
    load = os.getloadavg()[0]
    print(f"corpus-wide answer over {n} chunks, budget {args.budget}: p50 {statistics.median(times):.2f}s wall "
          f"(max {max(times):.2f}s), p50 {statistics.median(cpu):.2f}s CPU, over {len(times)} questions; "
          f"load average {load:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Corpus-wide answers scored on a set: item precision, recall and status accuracy.

A set is a folder: ``DIR/articles/`` (files ``policyqa ingest`` reads) and ``DIR/gold.jsonl``, one question a
line: ``question``, optional ``since``/``until`` (passed as filters), ``items`` as ``{"name", "aliases",
"status", "doc_ids"}`` and ``forbidden`` names (naming one is also a false positive). The articles are
mixed among CCTV news items from ../shared/data (every item naming a gold question's place, plus a seeded
random sample), ingested into a fresh data directory.

A predicted item matches a gold one when one of its names (shown name, surface forms of its mentions)
and one of the gold names (name, aliases) are equal after canonicalization or one holds the other and
the shorter is over half as long. Precision counts every predicted item (planned and withdrawn ones
too: they must be right, and in the right status); recall counts gold items found; status accuracy is
over matched items. ``--floors`` sweeps the dense similarity floor of the gathering pass.

    nice -n 10 python bench/aggregate.py --set bench/aggregate_sets/dev
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.datasets import load_news  # noqa: E402
from index.embedder import EmbedderSpec  # noqa: E402
from qa.aggregate import answer_corpus_wide, detect  # noqa: E402
from qa.aggregate.canonical import name_key  # noqa: E402
from qa.aggregate.gather import DENSE_FLOOR  # noqa: E402
from qa.engine import Engine  # noqa: E402
from qa.search import Filters  # noqa: E402


def names_match(a: str, b: str) -> bool:
    """Equal keys, or one key holds the other and the shorter is over half as long."""
    ka, kb = name_key(a), name_key(b)
    if ka == kb:
        return True
    short, long_ = sorted((ka, kb), key=len)
    return len(short) >= 2 and short in long_ and len(short) * 2 > len(long_)


def pred_names(item: dict) -> list[str]:
    return list(dict.fromkeys([item.get("name") or item["text"], item["text"]]
                              + [m["text"] for m in item.get("mentions", [])]))


def score_question(items: list[dict], gold: dict) -> dict:
    """Matches between predicted and gold items of one question."""
    gold_items = gold["items"]
    forbidden = gold.get("forbidden", [])
    matched_gold: set[int] = set()
    right_status = 0
    tp = 0
    wrong: list[str] = []
    doc_hits = doc_total = 0
    for it in items:
        names = pred_names(it)
        g = next((i for i, gi in enumerate(gold_items)
                  if any(names_match(p, n) for p in names for n in [gi["name"], *gi.get("aliases", [])])), None)
        if g is None:
            bad = next((f for f in forbidden if any(names_match(p, f) for p in names)), None)
            wrong.append(f"{it.get('name') or it['text']}" + (" (forbidden)" if bad else ""))
            continue
        tp += 1
        if g in matched_gold:
            wrong.append(f"{it.get('name') or it['text']} (split from another item)")
            continue
        matched_gold.add(g)
        right_status += it.get("status") == gold_items[g]["status"]
        docs = {m["doc_id"] for m in it.get("mentions", [])}
        doc_total += len(gold_items[g]["doc_ids"])
        doc_hits += len(docs & set(gold_items[g]["doc_ids"]))
    missed = [gi["name"] for i, gi in enumerate(gold_items) if i not in matched_gold]
    return {"n_pred": len(items), "tp": tp, "n_gold": len(gold_items), "found": len(matched_gold),
            "status_right": right_status, "doc_hits": doc_hits, "doc_total": doc_total,
            "wrong": wrong, "missed": missed}


def build(set_dir: Path, work: Path, news: int, seed: int, spec: EmbedderSpec | None) -> Engine:
    """A fresh data dir: the set's articles among CCTV news items."""
    engine = Engine(work / "data", spec)
    report = engine.ingest_paths([set_dir / "articles"]).as_dict()
    if report["rejected"]:
        raise SystemExit(f"{set_dir / 'articles'}: rejected {report['rejected']}")
    golds = [json.loads(line) for line in (set_dir / "gold.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip()]
    places = {a for g in golds if (d := detect(g["question"])) for a in d.anchors}
    items = load_news()
    rng = random.Random(seed)
    chosen = [a for a in items if any(p in a.text or p in a.title for p in places)]
    rest = [a for a in items if a not in chosen]
    chosen += rng.sample(rest, min(news, len(rest)))
    engine.ingest_items(chosen, batch_chunks=4096)
    print(f"corpus: {report['added']} set articles + {len(chosen)} CCTV news items "
          f"({len(chosen) - min(news, len(rest))} naming a question's place)", file=sys.stderr)
    return engine


def run(engine: Engine, golds: list[dict], floor: float | None) -> tuple[dict, list[dict]]:
    """Score every gold question with one dense floor."""
    rows = []
    for g in golds:
        filters = Filters(g.get("since"), g.get("until")) if g.get("since") or g.get("until") else None
        spec = detect(g["question"])
        t0 = time.perf_counter()
        if spec is None:
            answer = engine.answerer.ask(g["question"], filters=filters)
        else:
            answer = answer_corpus_wide(engine.answerer, spec, 5, filters, dense_floor=floor)
        secs = time.perf_counter() - t0
        items = answer.items if answer.found else []
        r = score_question(items, g)
        r.update(question=g["question"], seconds=round(secs, 3), corpus_wide=answer.aggregate is not None,
                 scanned=(answer.aggregate or {}).get("scanned"), truncated=(answer.aggregate or {}).get("truncated"))
        rows.append(r)
    tot = {k: sum(r[k] for r in rows) for k in ("n_pred", "tp", "n_gold", "found", "status_right", "doc_hits",
                                                 "doc_total")}
    summary = {
        "floor": floor,
        "precision": round(tot["tp"] / tot["n_pred"], 3) if tot["n_pred"] else 0.0,
        "recall": round(tot["found"] / tot["n_gold"], 3) if tot["n_gold"] else 0.0,
        "status_accuracy": round(tot["status_right"] / tot["found"], 3) if tot["found"] else 0.0,
        "mention_doc_recall": round(tot["doc_hits"] / tot["doc_total"], 3) if tot["doc_total"] else 0.0,
        "scanned": sum(r["scanned"] or 0 for r in rows),  # passages read: what a lower floor costs
        **tot,
    }
    return summary, rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", required=True, type=Path, help="folder with articles/ and gold.jsonl")
    ap.add_argument("--news", type=int, default=300, help="random CCTV news items mixed in")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--embedder", default="hash:384", help="'hash:384' (default, model-free) or 'default' (e5)")
    ap.add_argument("--floors", default=None, help="comma-separated dense floors to sweep ('none' for lexical only)")
    ap.add_argument("--json", type=Path, help="write the per-question results here")
    args = ap.parse_args(argv)
    gold_path = args.set / "gold.jsonl"
    if not gold_path.is_file() or not (args.set / "articles").is_dir():
        print(f"{args.set}: needs articles/ and gold.jsonl", file=sys.stderr)
        return 2
    golds = []
    for n, line in enumerate(gold_path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            g = json.loads(line)
            if not isinstance(g.get("question"), str) or not isinstance(g.get("items"), list):
                raise ValueError("needs 'question' (string) and 'items' (list)")
        except ValueError as e:
            print(f"{gold_path}:{n}: {e}", file=sys.stderr)
            return 2
        golds.append(g)
    spec = None if args.embedder == "default" else EmbedderSpec(*args.embedder.split(":", 1))
    floors = [None if f.strip() == "none" else float(f) for f in args.floors.split(",")] if args.floors else [DENSE_FLOOR]
    with tempfile.TemporaryDirectory() as tmp:
        engine = build(args.set, Path(tmp), args.news, args.seed, spec)
        results = []
        for floor in floors:
            summary, rows = run(engine, golds, floor)
            results.append({"summary": summary, "questions": rows})
            print(json.dumps(summary, ensure_ascii=False))
        for r in results[-1]["questions"]:
            print(f"- {r['question']}: {r['found']}/{r['n_gold']} found, {r['tp']}/{r['n_pred']} right, "
                  f"status {r['status_right']}/{r['found']}, scanned {r['scanned']}, {r['seconds']}s"
                  + (f"; wrong: {', '.join(r['wrong'])}" if r["wrong"] else "")
                  + (f"; missed: {', '.join(r['missed'])}" if r["missed"] else ""))
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

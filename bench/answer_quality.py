"""Answer quality on development questions: typed items, spans, retrieval and the not-found verdict.

    python bench/answer_quality.py                     # metrics + README table
    python bench/answer_quality.py --verbose           # ... and every failing question
    python bench/answer_quality.py --calibrate         # sweep the support thresholds (tune half -> held-out half)

The corpus is the bundled sample article plus a fixed subset of the CCTV news in ../shared/data: every item
that mentions 云南/昆明/滇中/园区/招商 and a seeded random sample of other items as distractors. It goes
through the real pipeline (read, normalize, chunk, embed, index) into a data dir under --work; embeddings
are cached there, so only the first run embeds (~3,300 chunks: about 20 min on a busy 2-core CPU; reruns
take well under a minute). Questions: bench/questions/dev.jsonl (see its README). Per-question support
signals (cosine, coverage, missing-term share, type, language, answerable, split) go to WORK/answer_quality/signals.jsonl.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.datasets import load_news  # noqa: E402
from bench.embed_cache import CachingEmbedder  # noqa: E402
from corpus.models import Article  # noqa: E402
from corpus.normalize import normalize_query  # noqa: E402
from index import catalog  # noqa: E402
from index.embedder import create_embedder  # noqa: E402
from qa import support  # noqa: E402
from qa.engine import Engine  # noqa: E402
from qa.question_type import has_han  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = ROOT / "corpus" / "samples" / "kunming"
QUESTIONS = ROOT / "bench" / "questions" / "dev.jsonl"
TOPIC_WORDS = ("云南", "昆明", "滇中", "园区", "招商")
DISTRACTORS = 300
SEED = 20250324


def select_news(news: list[Article], distractors: int = DISTRACTORS, seed: int = SEED) -> list[Article]:
    """Every item mentioning a topic word, plus a seeded random sample of the rest (in file order)."""
    topical = [a for a in news if any(w in a.title + a.text for w in TOPIC_WORDS)]
    chosen = {a.doc_id for a in topical}
    rest = [a for a in news if a.doc_id not in chosen]
    chosen |= {a.doc_id for a in random.Random(seed).sample(rest, min(distractors, len(rest)))}
    return [a for a in news if a.doc_id in chosen]


def open_engine(work: Path, name: str = "answer-quality") -> Engine:
    """An Engine over ``work/data/name``, its embedder going through the shared embedding cache."""
    engine = Engine(work / "data" / name)
    engine.store.use_embedder(CachingEmbedder(create_embedder(engine.store.spec), work / "embeddings.sqlite"))
    return engine


def build(engine: Engine, distractors: int = DISTRACTORS) -> list[Article]:
    """Ingest the sample and the news subset (a no-op for what is already there); the news articles."""
    t0 = time.time()
    report = engine.ingest_paths([SAMPLE_DIR]).as_dict()
    news = select_news(load_news(), distractors)
    r2 = engine.ingest_items(news, batch_chunks=4096).as_dict()
    print(
        f"corpus: sample + {len(news)} news items; added {report['added'] + r2['added']}, unchanged "
        f"{report['unchanged'] + r2['unchanged']}, duplicates {r2['duplicates']}, rejected "
        f"{len(report['rejected']) + len(r2['rejected'])} in {time.time() - t0:.0f}s",
        file=sys.stderr,
        flush=True,
    )
    return news


# ----- questions and matching -------------------------------------------------------------------
def load_questions(path: Path = QUESTIONS) -> list[dict]:
    """The development questions (see bench/questions/README.md for the fields)."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


_PUNCT = re.compile(r"[^\w.%+]+|_+")
_HEDGE_HEAD = re.compile(
    r"^(?:大约|约为|约|将近|近|超过|超|逾|高达|达到|达|累计|共计|共|about|around|approximately|nearly|over|morethan)"
)
_HEDGE_TAIL = re.compile(r"(?:左右|以上|之多|余|多)$")


def norm(text: str) -> str:
    """Simplified, folded, lower-cased, without spaces and punctuation but . % + (so 《》, 、 and dashes never
    matter, 12.92 stays apart from 1292)."""
    return _PUNCT.sub("", normalize_query(text).lower())


def hedge_free(text: str) -> str:
    """``norm`` minus hedge words: 约/近/超过/逾/达 before a number, 多/余 after one, 左右/以上 at the end."""
    t = _HEDGE_HEAD.sub("", norm(text))
    t = re.sub(r"(?<=\d)[多余](?=\D)", "", t)
    return _HEDGE_TAIL.sub("", t)


def item_match(predicted: str, expected: str) -> bool:
    """Same entity: after ``norm`` one contains the other and the shorter is over half as long."""
    a, b = norm(predicted), norm(expected)
    short, long_ = sorted((a, b), key=len)
    return len(short) >= 2 and short in long_ and 2 * len(short) > len(long_)


def span_match(predicted: str, accepted: list[str]) -> bool:
    """Hedge-insensitive exact match: '约14亿元' == '14亿元', '170余家' == '170家'; '14亿' != '14亿元'."""
    p = hedge_free(predicted)
    return bool(p) and any(p == hedge_free(a) for a in accepted)


def holds_evidence(text: str, evidence: list[str]) -> bool:
    """Whether a passage holds every evidence string (normalized)."""
    t = norm(text)
    return all(norm(e) in t for e in evidence)


# ----- running the questions -----------------------------------------------------------------------
def splits(questions: list[dict]) -> dict[str, str]:
    """Fixed calibration split, 'tune' or 'held-out' per question id: within each (answerable, type) group
    the questions are ordered by sha1(id) and alternate, so both halves hold the same mix."""
    groups: dict[tuple, list[str]] = {}
    for q in questions:
        groups.setdefault((q["answerable"], q["type"]), []).append(q["id"])
    out = {}
    for ids in groups.values():
        for i, qid in enumerate(sorted(ids, key=lambda x: hashlib.sha1(x.encode()).hexdigest())):
            out[qid] = "tune" if i % 2 == 0 else "held-out"
    return out


def corpus_passages(engine: Engine) -> list[str]:
    """Every chunk of the bench data dir, title included, normalized with ``norm``."""
    conn = catalog.connect(engine.store.data_dir / "catalog.sqlite", readonly=True)
    try:
        sql = "SELECT d.title, c.text FROM chunks c JOIN documents d USING(doc_id)"
        return [norm(t + x) for t, x in conn.execute(sql)]
    finally:
        conn.close()


def check_evidence(questions: list[dict], passages: list[str]) -> list[str]:
    """Ids of answerable questions whose evidence no passage of the corpus holds (a broken question)."""
    return [
        q["id"]
        for q in questions
        if q["answerable"] and not any(all(norm(e) in p for e in q["evidence"]) for p in passages)
    ]


def missing_share(found) -> float | None:
    """The missing-term signal of qa.support: of the distinctive question terms no retrieved passage holds,
    the smallest share of the corpus' chunks holding one (None when the passages hold them all or the
    question has no Han characters, where qa.support does not look)."""
    if not has_han(found.plan.text):
        return None
    absent = support.absent_terms(found.plan, found.hits, found.terms)
    return min(absent.values()) / max(1, found.n_chunks) if absent else None


def run_question(engine: Engine, q: dict, split: str, k: int = 5) -> dict:
    """Ask one question; the answer, its support signals and the per-type scores."""
    t0 = time.perf_counter()
    answer = engine.ask(q["question"], k=k)
    seconds = time.perf_counter() - t0
    found = engine.searcher.retrieve(q["question"], k=k, terms=support.terms_to_look_up)
    hits = found.hits
    signals = answer.support or {}
    items = [it["text"] for it in answer.items]
    r = {
        "id": q["id"],
        "lang": q["lang"],
        "type": q["type"],
        "predicted_type": answer.type,
        "answerable": q["answerable"],
        "found": answer.found,
        "cosine": signals.get("cosine"),
        "coverage": signals.get("coverage"),
        "reason": signals.get("reason", "no passages"),
        "hits": len(hits),
        "han": has_han(found.plan.text),
        "missing_share": missing_share(found),
        "missing_terms": signals.get("missing") or [],
        "split": split,
        "items": items,
        "answer": answer.answer,
        "seconds": round(seconds, 3),
    }
    if not q["answerable"]:
        return r
    r["top3"] = any(holds_evidence(h.title + h.text, q["evidence"]) for h in hits[:3])
    r["top5"] = any(holds_evidence(h.title + h.text, q["evidence"]) for h in hits[:5])
    expect = q["expect"]
    if q["type"] == "list":
        r["matched_pred"] = sum(any(item_match(p, e) for e in expect) for p in items)
        r["matched_exp"] = sum(any(item_match(p, e) for p in items) for e in expect)
        r["n_pred"], r["n_exp"] = len(items), len(expect)
    elif q["type"] in ("quantity", "time"):
        r["em"] = bool(items) and span_match(items[0], expect)
        r["em_any"] = any(span_match(p, expect) for p in items)
    else:
        text = norm(answer.answer) if answer.found else ""
        r["contains"] = any(norm(e) in text for e in expect)
    return r


# ----- metrics ---------------------------------------------------------------------------------------
def _rate(xs: list) -> tuple[float, int]:
    """(mean, count) of booleans or numbers; NaN when there are none."""
    return (sum(xs) / len(xs) if xs else float("nan")), len(xs)


def metrics(rows: list[dict]) -> dict[str, tuple[float, int]]:
    """Headline numbers: (value, number of questions it is over)."""
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    lists = [r for r in ans if r["type"] == "list"]
    spans = [r for r in ans if r["type"] in ("quantity", "time")]
    n_pred = sum(r["n_pred"] for r in lists)
    m: dict[str, tuple[float, int]] = {
        "list item precision (micro)": (
            sum(r["matched_pred"] for r in lists) / n_pred if n_pred else float("nan"),
            len(lists),
        ),
        "list item recall (micro)": (
            sum(r["matched_exp"] for r in lists) / max(1, sum(r["n_exp"] for r in lists)),
            len(lists),
        ),
        "list item recall (macro)": _rate([r["matched_exp"] / r["n_exp"] for r in lists]),
    }
    for t in ("quantity", "time"):
        m[f"{t} span exact match (first item)"] = _rate([r["em"] for r in spans if r["type"] == t])
        m[f"{t} span match (any item)"] = _rate([r["em_any"] for r in spans if r["type"] == t])
    m["other: answer holds the key phrase"] = _rate([r["contains"] for r in ans if r["type"] == "other"])
    m["answer passage in top 3"] = _rate([r["top3"] for r in ans])
    m["answer passage in top 5 (what the answerer reads)"] = _rate([r["top5"] for r in ans])
    m["question type classified as labelled"] = _rate([r["predicted_type"] == r["type"] for r in rows])
    m["answerable marked found"] = _rate([r["found"] for r in ans])
    m["unanswerable marked not found"] = _rate([not r["found"] for r in una])
    m["not-found accuracy (all questions)"] = _rate([r["found"] == r["answerable"] for r in rows])
    m["not-found balanced accuracy"] = (
        (m["answerable marked found"][0] + m["unanswerable marked not found"][0]) / 2,
        len(rows),
    )
    return m


def by_language(rows: list[dict]) -> dict[str, dict[str, tuple[float, int]]]:
    """Top-3 rate and not-found accuracy per question language."""
    out = {}
    for lang in sorted({r["lang"] for r in rows}):
        sub = [r for r in rows if r["lang"] == lang]
        out[lang] = {
            "top3": _rate([r["top3"] for r in sub if r["answerable"]]),
            "found": _rate([r["found"] for r in sub if r["answerable"]]),
            "not_found": _rate([not r["found"] for r in sub if not r["answerable"]]),
        }
    return out


def failures(rows: list[dict], questions: dict[str, dict]) -> list[str]:
    """One line per failing question: wrong verdict, missed span or items, answer passage not retrieved."""
    out = []
    for r in rows:
        q = questions[r["id"]]
        why = []
        if r["found"] != r["answerable"]:
            why.append("found" if r["found"] else "not found")
        if r["answerable"]:
            if not r["top3"]:
                why.append("passage not in top 3")
            if r["type"] == "list" and r["matched_exp"] < r["n_exp"]:
                why.append(
                    f"items {r['matched_exp']}/{r['n_exp']} recalled, {r['matched_pred']}/{r['n_pred']} right"
                )
            if r["type"] in ("quantity", "time") and not r["em"]:
                why.append("span" + (" (right one among later items)" if r["em_any"] else ""))
            if r["type"] == "other" and not r["contains"]:
                why.append("key phrase missing")
        if r["predicted_type"] != r["type"]:
            why.append(f"typed {r['predicted_type']}")
        if why:
            cos = "-" if r["cosine"] is None else f"{r['cosine']:.3f}"
            cov = "-" if r["coverage"] is None else f"{r['coverage']:.2f}"
            out.append(
                f"{r['id']} [{r['lang']} {r['type']}] {q['question']}\n    {'; '.join(why)} | expected "
                f"{q['expect'] or '(not found)'} | got {r['items'] if r['found'] else '(not found)'} | cos {cos} "
                f"cov {cov} ({r['reason']})"
                + (f" | missing from passages: {', '.join(r['missing_terms'])}" if r["missing_terms"] else "")
            )
    return out


# ----- calibration -----------------------------------------------------------------------------------
Rule = tuple[float, float, float, float]  # MIN_COSINE, MIN_COVERAGE, STRONG_COSINE, RARE_SHARE


def current_rule() -> Rule:
    """The thresholds qa/support.py uses now."""
    return (support.MIN_COSINE, support.MIN_COVERAGE, support.STRONG_COSINE, support.RARE_SHARE)


def decide(r: dict, rule: Rule) -> bool:
    """The verdict of qa.support.judge_support from a question's recorded signals under ``rule``."""
    min_cos, min_cov, strong, rare_share = rule
    cosine, coverage = r["cosine"], r["coverage"]
    if r["hits"] == 0 or (cosine is not None and cosine < min_cos):
        return False
    if r["han"] and r["missing_share"] is not None and r["missing_share"] <= rare_share:
        return False
    if not r["han"] or coverage is None:
        return True
    return coverage >= min_cov or (cosine is not None and cosine >= strong)


def verdicts(rows: list[dict], rule: Rule) -> list[bool]:
    """Found/not found per question under ``rule``."""
    return [decide(r, rule) for r in rows]


NEVER = 2.0  # a STRONG_COSINE no cosine reaches
COSINES = np.round(np.arange(0.70, 0.9201, 0.005), 3)
COVERAGES = np.round(np.arange(0.0, 1.0001, 0.025), 3)
STRONGS = np.append(np.round(np.arange(0.70, 0.9501, 0.005), 3), NEVER)
SHARES = np.array([-1.0, 0.0, 0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05])  # -1: no veto
SPANS = np.array([0.22, 1.0, 0.25, 0.05])  # each axis' extent, to locate the centre of tied points
MIN_FOUND = 0.9  # the constrained calibration keeps at least this share of answerable questions found


def grid() -> np.ndarray:
    """Rows of (MIN_COSINE, MIN_COVERAGE, STRONG_COSINE, RARE_SHARE) with STRONG >= MIN."""
    g = np.array(np.meshgrid(COSINES, COVERAGES, STRONGS, SHARES, indexing="ij")).reshape(4, -1).T
    return g[g[:, 2] >= g[:, 0]]


def found_matrix(rows: list[dict], g: np.ndarray) -> np.ndarray:
    """Verdicts (questions x grid points): :func:`decide` for every point at once."""
    out = np.zeros((len(rows), len(g)), dtype=bool)
    for i, r in enumerate(rows):
        if r["hits"] == 0:
            continue
        cos, cov = r["cosine"], r["coverage"]
        f = np.ones(len(g), dtype=bool) if cos is None else cos >= g[:, 0]
        if r["han"] and r["missing_share"] is not None:
            f &= ~(r["missing_share"] <= g[:, 3])
        if r["han"] and cov is not None:
            f &= (cov >= g[:, 1]) | (False if cos is None else cos >= g[:, 2])
        out[i] = f
    return out


def weights(rows: list[dict]) -> np.ndarray:
    """Per-question weights whose sum over correct verdicts is the balanced accuracy."""
    pos = sum(r["answerable"] for r in rows)
    neg = len(rows) - pos
    return np.array(
        [(0.5 / pos if r["answerable"] else 0.5 / neg) if (pos and neg) else 1 / len(rows) for r in rows]
    )


def scores(rows: list[dict], found: list[bool] | np.ndarray) -> tuple[float, float, float, float]:
    """Balanced accuracy, accuracy, answerable found rate and unanswerable not-found rate of the verdicts."""
    right = np.array([bool(f) == r["answerable"] for f, r in zip(found, rows, strict=True)])
    pos = np.array([r["answerable"] for r in rows])
    tpr = float(right[pos].mean()) if pos.any() else float("nan")
    tnr = float(right[~pos].mean()) if (~pos).any() else float("nan")
    return float(weights(rows) @ right), float(right.mean()), tpr, tnr


def _best(value: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, int]:
    """The grid point nearest the centre of the points that tie for the best value; how many tied."""
    tied = g[value >= value.max() - 1e-12]
    finite = np.where(tied > 1.0, 1.0, tied)  # NEVER counts as 1.0 when locating the centre
    d = (((finite - finite.mean(axis=0)) / SPANS) ** 2).sum(axis=1)
    return tied[int(np.argmin(d))], len(tied)


def calibrate(rows: list[dict]) -> dict:
    """Thresholds chosen on the tune half (balanced accuracy; ties: the point nearest the centre of the best
    region), scored on the held-out half, beside the thresholds in use."""
    tune = [r for r in rows if r["split"] == "tune"]
    held = [r for r in rows if r["split"] == "held-out"]
    g = grid()
    found = found_matrix(tune, g)
    right = found == np.array([r["answerable"] for r in tune])[:, None]
    balanced = weights(tune) @ right
    pick, tied = _best(balanced, g)
    pos = np.array([r["answerable"] for r in tune])
    keeps = found[pos].mean(axis=0) >= MIN_FOUND
    pick_kept, _ = _best(np.where(keeps, balanced, -1.0), g)
    rules = [
        ("current qa/support.py", current_rule()),
        ("calibrated on the tune half", tuple(float(x) for x in pick)),
        (f"calibrated keeping >= {MIN_FOUND:.0%} of answerable found (tune)", tuple(float(x) for x in pick_kept)),
    ]
    return {
        "tune_n": len(tune),
        "held_n": len(held),
        "tune_answerable": sum(r["answerable"] for r in tune),
        "held_answerable": sum(r["answerable"] for r in held),
        "tied": tied,
        "rules": [(name, rule, scores(tune, verdicts(tune, rule)), scores(held, verdicts(held, rule)))
                  for name, rule in rules],
        "held_wrong": [r["id"] for r, f in zip(held, verdicts(held, current_rule()), strict=True)
                       if f != r["answerable"]],
    }


# ----- output -------------------------------------------------------------------------------------------
def machine() -> str:
    """CPU model and core count; this benchmark never uses a GPU."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), model)
    except OSError:
        pass
    return f"{os.cpu_count()}-core CPU ({model}), no GPU"


def _fmt(v: float) -> str:
    return "-" if v != v else f"{v:.3f}"


def print_markdown(
    m: dict, langs: dict, command: str, n_docs: int, rows: list[dict], cal: dict | None
) -> None:
    """The README table: the metrics, the command that made them and the machine."""
    ans = sum(r["answerable"] for r in rows)
    print(
        f"\nAnswer quality on {len(rows)} development questions ({ans} answerable, {len(rows) - ans} not), "
        f"over the sample article + {n_docs} CCTV news items. `{command}` on a {machine()}.\n"
    )
    print("| metric | value | questions |")
    print("|---|---|---|")
    for name, (v, n) in m.items():
        print(f"| {name} | {_fmt(v)} | {n} |")
    print(
        "\nSpans (quantity, time) match exactly after normalization with hedge words ignored: 约/近/超过/逾/达 "
        "before the number, 多/余 after it, 左右/以上 at the end (约14亿元 = 14亿元; 14亿 != 14亿元). List items "
        "match when one contains the other and the shorter is over half as long. Not found scores zero."
    )
    print("\n| language | passage in top 3 | answerable found | unanswerable not found |")
    print("|---|---|---|---|")
    for lang, d in langs.items():
        cells = " | ".join(f"{_fmt(v)} ({n})" for v, n in d.values())
        print(f"| {lang} | {cells} |")
    if cal:
        print(
            "\n| not-found rule | MIN_COSINE | MIN_COVERAGE | STRONG_COSINE | RARE_SHARE | tune bal. acc "
            "| held-out bal. acc | held-out acc | held-out answerable found | held-out unanswerable not found |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        for name, (c, v, st, sh), tune, held in cal["rules"]:
            print(
                f"| {name} | {c:.3f} | {v:.3f} | {'never' if st > 1 else f'{st:.3f}'} | "
                f"{'no veto' if sh < 0 else f'{sh:.3f}'} | {tune[0]:.3f} | **{held[0]:.3f}** | {held[1]:.3f} | "
                f"{held[2]:.3f} | {held[3]:.3f} |"
            )
        print(f"\nHeld-out questions the current rule gets wrong: {', '.join(cal['held_wrong']) or 'none'}.")
        print(
            f"\nSplit: questions ordered by sha1(id) alternate within each (answerable, type) group: tune "
            f"{cal['tune_n']} ({cal['tune_answerable']} answerable), held-out {cal['held_n']} "
            f"({cal['held_answerable']} answerable). Grid: MIN_COSINE 0.700-0.920 and STRONG_COSINE (>= it) "
            f"to 0.950 or never, step 0.005; MIN_COVERAGE 0-1, step 0.025; RARE_SHARE (a distinctive question "
            f"term in at most this share of chunks and in no retrieved passage means not found) "
            f"{', '.join(f'{x:g}' for x in SHARES if x >= 0)} or no veto; objective balanced accuracy, ties "
            f"({cal['tied']} grid points) broken by the point nearest the centre of the tied region."
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=Path(".bench"), help="data dir and embedding cache go here")
    ap.add_argument("--questions", type=Path, default=QUESTIONS)
    ap.add_argument("--distractors", type=int, default=DISTRACTORS, help="random non-topical news items")
    ap.add_argument("--k", type=int, default=5, help="passages per answer (the API default)")
    ap.add_argument(
        "--signals",
        type=Path,
        default=None,
        help="write per-question signals as JSONL (default: WORK/answer_quality/signals.jsonl)",
    )
    ap.add_argument(
        "--calibrate", action="store_true", help="sweep the support thresholds on half the questions"
    )
    ap.add_argument("--verbose", action="store_true", help="print every failing question")
    args = ap.parse_args(argv)
    questions = load_questions(args.questions)
    engine = open_engine(args.work)
    news = build(engine, args.distractors)
    passages = corpus_passages(engine)
    broken = check_evidence(questions, passages)
    if broken:
        print(f"warning: no passage holds the evidence of {broken}; fix those questions", file=sys.stderr)
    t0 = time.time()
    split = splits(questions)
    rows = [run_question(engine, q, split[q["id"]], args.k) for q in questions]
    print(f"asked {len(rows)} questions in {time.time() - t0:.0f}s", file=sys.stderr)
    drift = [r["id"] for r, f in zip(rows, verdicts(rows, current_rule()), strict=True) if f != r["found"]]
    if drift:
        print(
            f"warning: decide() disagrees with qa.support for {drift}; recalibration would be off",
            file=sys.stderr,
        )
    signals = args.signals or args.work / "answer_quality" / "signals.jsonl"
    signals.parent.mkdir(parents=True, exist_ok=True)
    keep = (
        "id",
        "lang",
        "type",
        "predicted_type",
        "answerable",
        "found",
        "cosine",
        "coverage",
        "reason",
        "hits",
        "missing_share",
        "missing_terms",
        "split",
    )
    with open(signals, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps({k: r[k] for k in keep}, ensure_ascii=False) + "\n")
    print(f"support signals: {signals}", file=sys.stderr)
    by_id = {q["id"]: q for q in questions}
    if args.verbose:
        lines = failures(rows, by_id)
        print(f"\n{len(lines)} questions with a failure:")
        print("\n".join(lines))
    cal = calibrate(rows) if args.calibrate else None
    command = "python bench/answer_quality.py" + (" --calibrate" if args.calibrate else "")
    print_markdown(metrics(rows), by_language(rows), command, len(news), rows, cal)
    return 1 if broken or drift else 0


if __name__ == "__main__":
    sys.exit(main())

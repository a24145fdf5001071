"""Evaluation data from ../shared/data: retrieval sets, the CMRC2018 trial set, news distractors, noise.

Nothing here is copied into the repository; everything is read from the shared data folder at run time.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from corpus.models import Article

SHARED_DATA = Path(
    os.environ.get("POLICYQA_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
)


@dataclass
class RetrievalSet:
    """A BEIR-style set: passages, queries and, per query, the relevant passage ids."""

    name: str
    corpus: list[dict]  # {"_id", "title", "text"}
    queries: list[dict]  # {"_id", "text"}
    qrels: dict[str, set[str]]

    def articles(self) -> list[Article]:
        """The passages as articles for the ingest pipeline (title kept, no date)."""
        return [Article(doc_id=p["_id"], text=p["text"], title=p.get("title") or "") for p in self.corpus]


def _jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_retrieval_set(name: str, root: Path = SHARED_DATA) -> RetrievalSet:
    """``dureader`` or ``cmrc`` dev retrieval view (corpus.jsonl, queries.jsonl, qrels.tsv)."""
    folder = {"dureader": "dureader_robust", "cmrc": "cmrc2018"}[name]
    base = root / folder / "retrieval_dev"
    qrels: dict[str, set[str]] = {}
    with open(base / "qrels.tsv", encoding="utf-8") as f:
        next(f)
        for line in f:
            qid, pid, score = line.rstrip("\n").split("\t")
            if int(score) > 0:
                qrels.setdefault(qid, set()).add(pid)
    return RetrievalSet(name, _jsonl(base / "corpus.jsonl"), _jsonl(base / "queries.jsonl"), qrels)


def split_half(rset: RetrievalSet) -> tuple[RetrievalSet, RetrievalSet]:
    """(tuning half, reporting half) of a set's queries, by a stable hash of the query id."""
    import hashlib

    def even(q: dict) -> bool:
        return hashlib.sha1(q["_id"].encode()).digest()[0] % 2 == 0

    tune = [q for q in rset.queries if even(q)]
    report = [q for q in rset.queries if not even(q)]
    return (RetrievalSet(f"{rset.name}", rset.corpus, tune, rset.qrels),
            RetrievalSet(f"{rset.name}", rset.corpus, report, rset.qrels))


def load_cmrc_trial(root: Path = SHARED_DATA) -> RetrievalSet:
    """The CMRC2018 trial set in retrieval form (one passage per paragraph): tuning data only."""
    data = json.loads((root / "cmrc2018" / "cmrc2018_trial.json").read_text(encoding="utf-8"))
    corpus, queries, qrels = [], [], {}
    for article in data["data"]:
        for para in article["paragraphs"]:
            pid = f"TRIAL-{para['id']}"
            corpus.append({"_id": pid, "title": article.get("title", ""), "text": para["context"]})
            for qa in para["qas"]:
                if not qa["question"].strip():
                    continue  # one trial question is blank
                queries.append({"_id": qa["id"], "text": qa["question"]})
                qrels[qa["id"]] = {pid}
    return RetrievalSet("cmrc-trial", corpus, queries, qrels)


def load_news(root: Path = SHARED_DATA, limit: int | None = None) -> list[Article]:
    """The CCTV news items as articles (id, title, date, source, url, content)."""
    out = []
    with open(root / "xwlb_news" / "xwlb_items.jsonl", encoding="utf-8") as f:
        for line in f:
            o = json.loads(line)
            out.append(
                Article(
                    doc_id=o["id"],
                    text=o["content"],
                    title=o["title"],
                    date=o["date"],
                    source=o["source"],
                    url=o.get("url"),
                )
            )
            if limit and len(out) >= limit:
                break
    return out


@lru_cache(maxsize=1)
def _s2t():
    import opencc

    return opencc.OpenCC("s2t")


def to_traditional(text: str) -> str:
    """Simplified to Traditional (OpenCC s2t)."""
    return _s2t().convert(text)


def scrape_noise(text: str, seed: int, pinyin_rate: float = 0.8, mojibake_rate: float = 0.002) -> str:
    """Rewrite text the way the sample article was scraped: Traditional characters, inline pinyin
    after most characters that differ from Simplified (``機(jī)``), and rare mojibake fragments."""
    from pypinyin import Style, pinyin

    rng = random.Random(seed)
    trad = to_traditional(text)
    if len(trad) != len(text):
        trad = "".join(c if len(c := to_traditional(ch)) == 1 else ch for ch in text)
    out = []
    for s_ch, t_ch in zip(text, trad, strict=False):
        out.append(t_ch)
        if s_ch != t_ch and rng.random() < pinyin_rate:
            out.append(f"({pinyin(s_ch, style=Style.TONE)[0][0]})")
        elif "\u4e00" <= t_ch <= "\u9fff" and rng.random() < mojibake_rate:
            out[-1] = "?" + rng.choice(["xùn)|", "shū)"])
    return "".join(out)

"""Hostile input: 1,000+ bad files (bench/hostile.py) mixed with good ones, ingested in one run.

Every good input is stored (GBK and Big5 without any declaration decoded exactly), every bad one is
rejected with a reason of the expected kind (a broken JSONL line rejects that line only), documents
stored before are untouched, and the ingest process stays under MEMORY_BOUND_MB of peak RSS.
"""

from __future__ import annotations

import os
import random

import pytest

from bench import hostile
from corpus.encoding import MAX_FILE_BYTES
from corpus.models import Rejection
from corpus.readers import read_paths

SEED = 1234


def test_hostile_inputs_are_rejected_one_by_one_and_good_ones_kept(tmp_path):
    result = hostile.hostile_run(tmp_path, seed=SEED, bad=1000, good=150, big_mb=50)
    problems = result.pop("problems")
    print(f"\nhostile run: {result}")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:40])
    counts = result["counts"]
    assert counts["bad_files"] >= 1000 and counts["items"]["good"] >= 200, counts
    assert result["peak_rss_mb"] < hostile.MEMORY_BOUND_MB


def test_half_gbk_half_big5_file_is_rejected_or_warned(tmp_path):
    maker = hostile.TextMaker(random.Random(SEED))
    text, _ = maker.article((12, 12))
    cut = len(text) // 2
    path = tmp_path / "mixed.txt"
    path.write_bytes(text[:cut].encode("gbk") + maker.traditional(text[cut:]).encode("cp950"))
    [item] = list(read_paths([path]))
    assert isinstance(item, Rejection) or item.warnings, f"stored silently: {item.text[-80:]!r}"


@pytest.mark.skipif(
    not os.environ.get("POLICYQA_LONG_TESTS"), reason="about 5 minutes; set POLICYQA_LONG_TESTS=1 to run"
)
@pytest.mark.xfail(
    strict=True,
    reason="the readers accept .txt files up to MAX_FILE_BYTES (was 20 MB, now 5 MB) and a 20 MB file needed 1.6-1.8 GB "
    "peak RSS and ~4 min to ingest with the hash embedder (corpus/normalize.py keeps per-character "
    "Python lists; index/store.py tokenizes and inserts the whole document in one batch)",
)
def test_largest_accepted_text_file_ingests_within_the_memory_bound(tmp_path):
    folder = tmp_path / "near-cap"
    path = hostile.write_near_cap(folder / "near-cap.txt", MAX_FILE_BYTES - 1024 * 1024, seed=SEED)
    run = hostile.run_ingest(tmp_path / "data", [folder], tmp_path / "logs", time_limit=1200)
    size = path.stat().st_size
    print(f"\n{size:,} bytes: ingest {run.seconds:.0f}s, peak RSS {run.peak_rss_mb:.0f} MB")
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.peak_rss_mb < hostile.MEMORY_BOUND_MB, f"one {size:,}-byte file: {run.peak_rss_mb:.0f} MB"

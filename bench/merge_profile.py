"""Where one merge's time goes, on the segments of an existing data directory (e.g. one bench/scale.py
built); nothing in the directory is changed.

    python bench/merge_profile.py /tmp/policyqa-scale/data-1000000 --size 65536

Picks ``--factor`` live segments closest to ``--size`` rows each (a merge the tiered policy would make),
then times, in a temporary directory: reading their arrays, ``segments.merge`` (postings laid out by term, or
re-sorted where key ranges interleave), writing the merged arrays (fsynced), training the IVF quantizer, adding the vectors to it, and
the catalog's share (``UPDATE chunks SET segment``) on a copy-free stand-in: the same number of rows in
a scratch SQLite table of the catalog's row width. Prints seconds per stage and milliseconds per merged row.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from index import segments  # noqa: E402


def live_segments(data: Path) -> list[tuple[int, int]]:
    """(segment id, rows) of the published live set."""
    with sqlite3.connect(f"file:{data / 'catalog.sqlite'}?mode=ro", uri=True) as conn:
        return [(int(s), int(n) - int(d)) for s, n, d in conn.execute("SELECT id, n, deleted FROM segments")]


def stage(times: dict[str, float], name: str, fn):
    t0 = time.perf_counter()
    out = fn()
    times[name] = times.get(name, 0.0) + time.perf_counter() - t0
    return out


def profile(data: Path, group: list[int]) -> dict[str, float]:
    """Seconds per stage of merging ``group`` (segment ids of ``data``)."""
    import faiss

    times: dict[str, float] = {}
    parts = stage(times, "read arrays", lambda: [
        (segments.SegmentArrays(**{name: np.load(segments.seg_dir(data, s) / f"{name}.npy")
                                   for name in segments.ARRAYS}), None) for s in group])
    merged = stage(times, "merge arrays (postings)", lambda: segments.merge(parts))
    with tempfile.TemporaryDirectory(dir=data.parent) as tmp:
        out = Path(tmp) / "seg"
        stage(times, "write arrays + fsync", lambda: segments.write(out, merged, ann_min=len(merged) + 1))
        vectors = np.asarray(merged.vectors, np.float32)
        n = len(vectors)
        index, sample = segments.untrained_ann(vectors)  # the store's own build_ann, stage by stage
        stage(times, f"IVF train ({index.nlist} lists, {len(sample)} samples)", lambda: index.train(sample))
        stage(times, "IVF add", lambda: segments.add_to_ann(index, vectors))
        stage(times, "IVF write + fsync", lambda: faiss.write_index(index, str(Path(tmp) / "ann.faiss")))
        conn = sqlite3.connect(Path(tmp) / "scratch.sqlite")
        conn.execute("CREATE TABLE chunks (id INTEGER PRIMARY KEY, text TEXT, tokens TEXT, segment INTEGER)")
        conn.execute("CREATE INDEX chunks_segment ON chunks(segment)")
        filler = "x" * 1200  # about a chunk row's text + tokens JSON in bytes
        conn.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?)",
                         ((int(i), filler, "", int(i) % 8) for i in range(n)))
        conn.commit()
        stage(times, "catalog UPDATE chunks SET segment (stand-in)",
              lambda: (conn.execute("UPDATE chunks SET segment = 99 WHERE segment IN (0,1,2,3,4,5,6,7)"),
                       conn.commit()))
        conn.close()
    times["rows"] = n
    times["postings"] = len(merged.post_doc)
    return times


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data_dir")
    p.add_argument("--size", type=int, default=65536, help="rows per segment of the merge to time")
    p.add_argument("--factor", type=int, default=8)
    args = p.parse_args(argv)
    data = Path(args.data_dir)
    live = sorted(live_segments(data), key=lambda s: abs(s[1] - args.size))[: args.factor]
    print(f"merging {len(live)} segments of {[n for _s, n in live]} rows from {data}", flush=True)
    times = profile(data, [s for s, _n in live])
    rows, postings = int(times.pop("rows")), int(times.pop("postings"))
    total = sum(times.values())
    print(f"{rows} rows, {postings} postings; {total:.1f} s in all, {total * 1000 / rows:.2f} ms per merged row")
    for name, s in times.items():
        print(f"  {name:<52} {s:7.2f} s  {100 * s / total:5.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

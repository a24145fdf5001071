"""Immutable index segments: one per commit (or merge), each holding its chunks' vectors and postings.

A segment directory ``segments/<id>/`` holds ``.npy`` arrays (no pickle), sorted by chunk key:

* ``ids`` (int64 chunk keys), ``vectors`` (float32, n x dim: the only copy of the embeddings),
  ``dates`` (int32 YYYYMMDD, 0 = undated), ``sources`` (int32 source id, -1 = none), ``lengths``
  (int32 token counts, for BM25's length normalization);
* postings: ``terms`` (int64 hashes of the tokens, sorted), ``term_ptr`` (int64, offsets into the
  posting arrays), ``post_doc`` (int32 positions into ``ids``), ``post_tf`` (uint16 term frequencies);
* above :data:`ANN_MIN` chunks, ``ann.faiss``: an IVF index with 8-bit scalar quantization over the
  same rows (position = FAISS id), searched with an exact re-rank from ``vectors``;
* ``DONE``, written last after every file was fsynced: a directory without it is never read.

Segments never change once sealed. Deletes are tombstones in the catalog; a reader turns them into a
per-segment live mask. Corpus-global BM25 statistics (document frequencies, chunk count, total length)
live in the catalog, so a segment's scores do not depend on which other segments exist.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.generations import atomic_write, fsync_dir

DONE = "DONE"
ARRAYS = ("ids", "vectors", "dates", "sources", "lengths", "terms", "term_ptr", "post_doc", "post_tf")
ANN_FILE = "ann.faiss"
ANN_MIN = 4096  # segments with at least this many chunks get an approximate index (only merges make them)
FLAT_FILTER_MAX = 4096  # a filter leaving at most this many rows of a segment is searched exactly
NPROBE = 128  # IVF lists visited per query at least (all of them in a segment of up to ~5,000 rows) ...
PROBE_SHARE = 1 / 8  # ... or this share of the lists, whichever is more (bench/scale.py sweeps it)
RERANK = 4  # approximate candidates per wanted hit that are re-scored exactly
K1, B = 1.2, 0.75  # BM25 (Lucene variant, as bm25s)


def term_hash(token: str) -> int:
    """64-bit key of a token in the postings (blake2b; collisions ~1e-7 at 10^6 distinct tokens)."""
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "little", signed=True)


def seg_dir(data_dir: Path, segment: int) -> Path:
    """Directory of one segment."""
    return data_dir / "segments" / f"{segment:08d}"


def is_sealed(directory: Path) -> bool:
    """True when the segment directory was completely written."""
    return (directory / DONE).is_file()


@dataclass
class SegmentArrays:
    """The arrays of one segment, in memory (being built) or memory-mapped (loaded)."""

    ids: np.ndarray
    vectors: np.ndarray
    dates: np.ndarray
    sources: np.ndarray
    lengths: np.ndarray
    terms: np.ndarray
    term_ptr: np.ndarray
    post_doc: np.ndarray
    post_tf: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def build(
    ids: np.ndarray, vectors: np.ndarray, dates: np.ndarray, sources: np.ndarray, token_lists: list[list[str]]
) -> SegmentArrays:
    """Arrays of a new segment from one batch of chunks (``ids`` ascending)."""
    hashes: dict[str, int] = {}
    t_all: list[int] = []
    d_all: list[int] = []
    f_all: list[int] = []
    lengths = np.empty(len(ids), np.int32)
    for pos, tokens in enumerate(token_lists):
        lengths[pos] = max(1, len(tokens))  # bm25s indexes an empty chunk as one empty token
        for tok, tf in Counter(tokens).items():
            h = hashes.get(tok)
            if h is None:
                h = hashes[tok] = term_hash(tok)
            t_all.append(h)
            d_all.append(pos)
            f_all.append(tf)
    t = np.asarray(t_all, np.int64)
    d = np.asarray(d_all, np.int32)
    f = np.minimum(np.asarray(f_all, np.int64), 65535).astype(np.uint16)
    return _pack(np.asarray(ids, np.int64), np.asarray(vectors, np.float32), dates, sources, lengths, t, d, f)


def _pack(ids, vectors, dates, sources, lengths, t, d, f) -> SegmentArrays:
    order = np.lexsort((d, t))
    t, d, f = t[order], d[order], f[order]
    terms, starts = np.unique(t, return_index=True)
    term_ptr = np.append(starts, len(t)).astype(np.int64)
    return SegmentArrays(
        ids, np.ascontiguousarray(vectors, np.float32), np.asarray(dates, np.int32), np.asarray(sources, np.int32),
        np.asarray(lengths, np.int32), terms.astype(np.int64), term_ptr, d.astype(np.int32), f.astype(np.uint16),
    )


def merge(parts: list[tuple[SegmentArrays, np.ndarray | None]]) -> SegmentArrays:
    """One segment holding the live rows of ``parts`` ((arrays, live mask or None), ...), postings merged
    array-wise (no token is re-read). Parts whose key ranges do not interleave (commits take ascending
    keys, so a bulk ingest's segments never do) are placed one after another and their postings laid out
    by term directly, with no sort of the postings; others are re-sorted as one batch."""
    parts = sorted(parts, key=lambda p: int(p[0].ids[0]) if len(p[0]) else 0)
    if _disjoint(parts):
        return _merge_in_order(parts)
    ids, vecs, dates, sources, lengths, t_all, d_all, f_all = [], [], [], [], [], [], [], []
    base = 0
    for arrays, live in parts:
        n = len(arrays)
        live = np.ones(n, bool) if live is None else live
        newpos = np.cumsum(live) - 1 + base
        keep = np.flatnonzero(live)
        ids.append(np.asarray(arrays.ids)[keep])
        vecs.append(np.asarray(arrays.vectors)[keep])
        dates.append(np.asarray(arrays.dates)[keep])
        sources.append(np.asarray(arrays.sources)[keep])
        lengths.append(np.asarray(arrays.lengths)[keep])
        counts = np.diff(np.asarray(arrays.term_ptr))
        t = np.repeat(np.asarray(arrays.terms), counts)
        d = np.asarray(arrays.post_doc)
        alive = live[d]
        t_all.append(t[alive])
        d_all.append(newpos[d[alive]])
        f_all.append(np.asarray(arrays.post_tf)[alive])
        base += len(keep)
    ids_c = np.concatenate(ids) if ids else np.zeros(0, np.int64)
    order = np.argsort(ids_c, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    dim = parts[0][0].vectors.shape[1]
    vec_c = np.concatenate(vecs) if vecs else np.zeros((0, dim), np.float32)
    d = rank[np.concatenate(d_all)] if d_all else np.zeros(0, np.int64)
    return _pack(
        ids_c[order], vec_c[order], np.concatenate(dates)[order], np.concatenate(sources)[order],
        np.concatenate(lengths)[order], np.concatenate(t_all), d, np.concatenate(f_all),
    )


def _disjoint(parts: list[tuple[SegmentArrays, np.ndarray | None]]) -> bool:
    """Whether the (first-key ordered) parts' key ranges follow one another without interleaving."""
    last = None
    for arrays, _live in parts:
        if not len(arrays):
            continue
        if last is not None and int(arrays.ids[0]) <= last:
            return False
        last = int(arrays.ids[-1])
    return True


def _merge_in_order(parts: list[tuple[SegmentArrays, np.ndarray | None]]) -> SegmentArrays:
    """:func:`merge` of parts in ascending, non-interleaving key order: rows concatenate in order, and
    within each term the parts' posting blocks (each sorted by row) follow one another, so every posting's
    place is computed, not sorted for. The result equals the re-sorting merge's, array for array."""
    dim = parts[0][0].vectors.shape[1]
    kept, blocks, base = [], [], 0
    for arrays, live in parts:
        n = len(arrays)
        live = np.ones(n, bool) if live is None else np.asarray(live, bool)
        keep = np.flatnonzero(live)
        kept.append((arrays, keep))
        newpos = np.cumsum(live) - 1 + base
        terms = np.asarray(arrays.terms)
        term_of = np.repeat(np.arange(len(terms)), np.diff(np.asarray(arrays.term_ptr)))
        d = np.asarray(arrays.post_doc)
        alive = live[d]
        term_of = term_of[alive]
        blocks.append((terms, np.bincount(term_of, minlength=len(terms)), term_of,
                       newpos[d[alive]].astype(np.int32), np.asarray(arrays.post_tf)[alive]))
        base += len(keep)
    all_terms = np.unique(np.concatenate([b[0] for b in blocks])) if blocks else np.zeros(0, np.int64)
    total = np.zeros(len(all_terms), np.int64)
    where = [np.searchsorted(all_terms, b[0]) for b in blocks]
    for at, b in zip(where, blocks, strict=True):
        total[at] += b[1]  # a part's terms are unique: no index repeats
    cursor = np.concatenate([[0], np.cumsum(total)[:-1]]).astype(np.int64)
    post_doc = np.empty(int(total.sum()), np.int32)
    post_tf = np.empty(len(post_doc), np.uint16)
    for at, (_terms, counts, term_of, d, f) in zip(where, blocks, strict=True):
        first = np.concatenate([[0], np.cumsum(counts)[:-1]])  # each term's first posting in this block
        place = cursor[at][term_of] + (np.arange(len(d)) - first[term_of])
        post_doc[place] = d
        post_tf[place] = f
        cursor[at] += counts
    used = total > 0
    term_ptr = np.concatenate([[0], np.cumsum(total[used])]).astype(np.int64)

    def column(name: str, dtype) -> np.ndarray:
        cols = [np.asarray(getattr(a, name))[keep] for a, keep in kept]
        return np.concatenate(cols).astype(dtype, copy=False) if cols else np.zeros(0, dtype)

    vectors = (np.concatenate([np.asarray(a.vectors)[keep] for a, keep in kept]) if kept
               else np.zeros((0, dim), np.float32))
    return SegmentArrays(
        column("ids", np.int64), np.ascontiguousarray(vectors, np.float32), column("dates", np.int32),
        column("sources", np.int32), column("lengths", np.int32), all_terms[used].astype(np.int64), term_ptr,
        post_doc, post_tf,
    )


def write(directory: Path, arrays: SegmentArrays, ann_min: int = ANN_MIN) -> bool:
    """Write and seal a segment directory (files fsynced, then DONE); True when it got an ANN index."""
    if directory.exists():
        shutil.rmtree(directory)  # an interrupted try at the same id
    directory.mkdir(parents=True)
    for name in ARRAYS:
        path = directory / f"{name}.npy"
        with open(path, "wb") as f:
            np.save(f, getattr(arrays, name), allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
    ann = len(arrays) >= ann_min
    if ann:
        import faiss

        index = build_ann(np.asarray(arrays.vectors, np.float32))
        faiss.write_index(index, str(directory / ANN_FILE))
        with open(directory / ANN_FILE, "rb") as f:
            os.fsync(f.fileno())
    fsync_dir(directory)
    atomic_write(directory / DONE, json.dumps({"n": len(arrays), "ann": ann}))
    return ann


def probes(nlist: int) -> int:
    """IVF lists a query visits: a fixed share of the lists (lists grow as the square root of the
    segment), never fewer than :data:`NPROBE` (64 gave recall@10 0.96 in an 8,201-row segment of 210 lists, 128 gave 1.0), so recall holds as segments grow."""
    return int(min(nlist, max(NPROBE, np.ceil(nlist * PROBE_SHARE))))


def build_ann(vectors: np.ndarray):
    """An IVF index with 8-bit scalar quantization (inner product) over ``vectors``, ids = row positions."""
    index, sample = untrained_ann(vectors)
    index.train(sample)
    add_to_ann(index, vectors)
    return index


def untrained_ann(vectors: np.ndarray):
    """The IVF-SQ8 index :func:`build_ann` makes for ``vectors`` (nlist ~ 4 sqrt(n), at most n / 39), not
    yet trained, and the seeded training sample (64 rows per list)."""
    import faiss

    n, dim = vectors.shape
    nlist = int(max(1, min(4 * np.sqrt(n), n // 39)))
    index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dim), dim, nlist, faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)
    sample = vectors[np.sort(rng.choice(n, size=min(n, 64 * nlist), replace=False))]
    return index, np.ascontiguousarray(sample)


def add_to_ann(index, vectors: np.ndarray) -> None:
    """Add ``vectors`` to a trained index, 65,536 rows a call."""
    for i in range(0, len(vectors), 65536):
        index.add(np.ascontiguousarray(vectors[i : i + 65536]))


class Segment:
    """A sealed segment, memory-mapped read-only; shared by every snapshot that lists it."""

    def __init__(self, segment: int, directory: Path) -> None:
        if not is_sealed(directory):
            raise FileNotFoundError(f"{directory}: segment not sealed")
        self.id = segment
        self.directory = directory
        self.arrays = SegmentArrays(
            # plain ndarray views of the maps: slicing a np.memmap subclass costs a Python call per slice
            **{name: np.asarray(np.load(directory / f"{name}.npy", mmap_mode="r", allow_pickle=False))
               for name in ARRAYS}
        )
        self.n = len(self.arrays.ids)
        self.ann = None
        self._params: tuple | None = None  # (mask, IVF search parameters, selector, bitmap) of the last mask
        if (directory / ANN_FILE).is_file():
            import faiss

            self.ann = faiss.read_index(str(directory / ANN_FILE))

    def live_mask(self, deleted_keys: np.ndarray) -> np.ndarray | None:
        """Rows not deleted (None when nothing was)."""
        if not len(deleted_keys):
            return None
        mask = np.ones(self.n, bool)
        ids = self.arrays.ids
        pos = np.minimum(np.searchsorted(ids, deleted_keys), self.n - 1)
        mask[pos[np.asarray(ids[pos]) == deleted_keys]] = False
        return mask

    def filter_mask(self, since: int, until: int, sources: np.ndarray | None) -> np.ndarray:
        """Rows whose date lies in [since, until] (0 = open bound) and whose source id is in ``sources``."""
        mask = np.ones(self.n, bool)
        dates = self.arrays.dates
        if since or until:
            mask &= dates > 0
        if since:
            mask &= dates >= since
        if until:
            mask &= dates <= until
        if sources is not None:
            mask &= np.isin(self.arrays.sources, sources)
        return mask

    # ----- dense -------------------------------------------------------------------------------------
    def dense(self, query: np.ndarray, k: int, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (scores, keys) by inner product among rows allowed by ``mask`` (None: all)."""
        allowed = self.n if mask is None else int(mask.sum())
        if allowed == 0 or k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        vectors = self.arrays.vectors
        if self.ann is not None and allowed > FLAT_FILTER_MAX:
            return self._dense_ann(query, k, mask, allowed)
        k = min(k, allowed)
        if mask is None or allowed * 4 > self.n:  # mostly allowed: score all rows, no gather copy
            pos = None
            scores = vectors @ query
            if mask is not None:
                scores[~mask] = -np.inf
        else:
            pos = np.flatnonzero(mask)
            scores = vectors[pos] @ query
        top = _top(scores, k)
        rows = top if pos is None else pos[top]
        return scores[top].astype(np.float32), np.asarray(self.arrays.ids)[rows]

    def _search_params(self, mask: np.ndarray | None, allowed: int) -> tuple:
        """IVF search parameters for ``mask``: lists probed and the row selector. The parameters of the
        last mask are kept (a snapshot's live mask is one shared array per segment and tombstone count),
        so unfiltered searches do not rebuild the bitmap and its selector for every query."""
        import faiss

        cached = self._params
        if cached is not None and cached[0] is mask:
            return cached
        index = self.ann
        nprobe = probes(index.nlist)
        if mask is not None:
            nprobe = min(index.nlist, int(np.ceil(nprobe * self.n / allowed)))
        sel = bits = None
        if mask is not None:
            bits = np.packbits(mask, bitorder="little")
            sel = faiss.IDSelectorBitmap(self.n, faiss.swig_ptr(bits))
        params = faiss.SearchParametersIVF(nprobe=nprobe, sel=sel)
        # the selector reads ``bits`` through a raw pointer: the caller holds the whole tuple while searching
        self._params = cached = (mask, params, sel, bits)
        return cached

    def _dense_ann(self, query: np.ndarray, k: int, mask: np.ndarray | None, allowed: int):
        index = self.ann
        held = self._search_params(mask, allowed)  # (mask, params, selector, bitmap), alive until the search ends
        fetch = min(self.n, RERANK * k)
        _scores, pos = index.search(np.ascontiguousarray(query.reshape(1, -1), np.float32), fetch, params=held[1])
        pos = pos[0][pos[0] >= 0]
        if not len(pos):
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        pos = np.sort(pos)
        exact = np.asarray(self.arrays.vectors[pos]) @ query
        top = _top(exact, k)
        return exact[top].astype(np.float32), np.asarray(self.arrays.ids)[pos[top]]

    # ----- lexical -----------------------------------------------------------------------------------
    def postings(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        """(positions, term frequencies) of the rows holding the token with hash ``h``."""
        terms = self.arrays.terms
        i = int(np.searchsorted(terms, h))
        if i >= len(terms) or int(terms[i]) != h:
            return np.zeros(0, np.int32), np.zeros(0, np.uint16)
        a, b = int(self.arrays.term_ptr[i]), int(self.arrays.term_ptr[i + 1])
        return np.asarray(self.arrays.post_doc[a:b]), np.asarray(self.arrays.post_tf[a:b])

    def bm25(
        self, weighted: list[tuple[int, float]], avg_len: float, mask: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """BM25 (scores, keys) of rows holding any query token; ``weighted``: (hash, idf) per query token
        (repeated tokens repeated, as bm25s scores them). Only the tokens' postings are read."""
        pos_parts, score_parts = [], []
        lengths = self.arrays.lengths
        for h, idf in weighted:
            pos, tf = self.postings(h)
            if not len(pos):
                continue
            if mask is not None:
                keep = mask[pos]
                pos, tf = pos[keep], tf[keep]
            tf = tf.astype(np.float32)
            norm = np.float32(K1) * (np.float32(1 - B) + np.float32(B) * np.asarray(lengths[pos], np.float32)
                                     / np.float32(avg_len))
            pos_parts.append(pos)
            score_parts.append(np.float32(idf) * tf / (norm + tf))
        if not pos_parts:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        pos = np.concatenate(pos_parts)
        scores = np.concatenate(score_parts)
        if len(pos_parts) > 1:
            if len(pos) * 8 >= self.n:  # long postings: one pass over the segment beats sorting them
                sums = np.bincount(pos, weights=scores, minlength=self.n)
                pos = np.flatnonzero(np.bincount(pos, minlength=self.n))
                scores = sums[pos].astype(np.float32)
            else:
                pos, inverse = np.unique(pos, return_inverse=True)
                scores = np.bincount(inverse, weights=scores).astype(np.float32)
        return scores, np.asarray(self.arrays.ids)[pos]

    def holding(self, h: int, mask: np.ndarray | None) -> np.ndarray:
        """Keys of the (allowed) rows holding the token with hash ``h``."""
        pos, _tf = self.postings(h)
        if mask is not None:
            pos = pos[mask[pos]]
        return np.asarray(self.arrays.ids)[pos]


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest scores, best first."""
    if len(scores) > k:
        part = np.argpartition(-scores, k - 1)[:k]
    else:
        part = np.arange(len(scores))
    return part[np.argsort(-scores[part], kind="stable")]


def contenders(scores: np.ndarray, keys: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The entries that can rank in the top ``k`` of any union with other lists: those scoring at least
    the ``k``-th best score here (ties kept, so :func:`top_k` over the union is unchanged)."""
    if len(scores) <= k:
        return scores, keys
    kth = np.partition(scores, len(scores) - k)[len(scores) - k]
    keep = scores >= kth
    return scores[keep], keys[keep]


def top_k(scores: np.ndarray, keys: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best (scores, keys), best first (ties by key)."""
    if not len(scores):
        return scores.astype(np.float32), keys.astype(np.int64)
    order = np.lexsort((keys, -scores))[:k]
    return scores[order].astype(np.float32), keys[order].astype(np.int64)


def tier(live: int, factor: int) -> int:
    """Size class of a segment with ``live`` rows: segments within one factor of each other share one."""
    t, size = 0, factor
    while live >= size:
        t += 1
        size *= factor
    return t


def plan_merges(segments: list[tuple[int, int]], factor: int = 8) -> list[list[int]]:
    """Tiered merge policy: groups of ``factor`` segments of one size class (by live rows) to merge.

    ``segments``: (segment id, live rows). Each merge makes a segment about ``factor`` times larger, so
    a row is rewritten O(log_factor N) times over the life of the store (bounded amortized work). A
    segment whose rows were mostly deleted drops to a lower class and is merged with smaller ones;
    an emptied segment is dropped by the merge of its class, or on its own.
    """
    groups: dict[int, list[tuple[int, int]]] = {}
    merges: list[list[int]] = []
    for seg, live in segments:
        if live == 0:
            merges.append([seg])
            continue
        groups.setdefault(tier(live, factor), []).append((seg, live))
    for _t, members in sorted(groups.items()):
        members.sort(key=lambda m: m[1])
        while len(members) >= factor:
            merges.append([s for s, _n in members[:factor]])
            members = members[factor:]
    return merges


def remove_orphans(data_dir: Path, keep: set[int]) -> list[int]:
    """Delete segment directories not in ``keep`` (merged away, or written by a commit that never
    committed); returns their ids."""
    root = data_dir / "segments"
    gone = []
    if not root.is_dir():
        return gone
    for child in root.iterdir():
        try:
            n = int(child.name)
        except ValueError:
            continue
        if n not in keep:
            shutil.rmtree(child, ignore_errors=True)
            gone.append(n)
    return gone

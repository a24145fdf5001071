"""index.segments.merge: the in-order merge (no sort of the postings) equals the re-sorting merge array
for array, on random segments with random deletes; interleaving key ranges take the re-sorting path."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from index import segments


def _segment(rng: np.random.Generator, first_key: int, n: int, vocab: list[str]) -> segments.SegmentArrays:
    ids = np.arange(first_key, first_key + n, dtype=np.int64)
    vectors = rng.normal(size=(n, 8)).astype(np.float32)
    tokens = [list(rng.choice(vocab, size=int(rng.integers(0, 12)))) for _ in range(n)]
    return segments.build(ids, vectors, rng.integers(0, 3, n).astype(np.int32),
                          rng.integers(-1, 3, n).astype(np.int32), tokens)


def _resorted(parts):
    """The re-sorting merge, forced (the parts' order is shuffled so no shortcut applies)."""
    real = segments._disjoint
    segments._disjoint = lambda _parts: False
    try:
        return segments.merge(parts)
    finally:
        segments._disjoint = real


def _assert_equal(a: segments.SegmentArrays, b: segments.SegmentArrays) -> None:
    for name in segments.ARRAYS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        assert np.array_equal(x, y), name


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), sizes=st.lists(st.integers(0, 40), min_size=1, max_size=6),
       dead=st.floats(0, 1), gap=st.integers(1, 5))
def test_the_in_order_merge_equals_the_resorting_merge(seed, sizes, dead, gap):
    rng = np.random.default_rng(seed)
    vocab = [f"t{i}" for i in range(30)]
    parts, key = [], 1
    for n in sizes:
        arrays = segments.build(np.zeros(0, np.int64), np.zeros((0, 8), np.float32), np.zeros(0, np.int32),
                                np.zeros(0, np.int32), []) if n == 0 else _segment(rng, key, n, vocab)
        key += n + gap
        live = None if rng.random() < 0.3 else rng.random(n) >= dead
        parts.append((arrays, live))
    order = rng.permutation(len(parts))  # the caller's order is any order
    shuffled = [parts[i] for i in order]
    assert segments._disjoint(sorted(shuffled, key=lambda p: int(p[0].ids[0]) if len(p[0]) else 0))
    _assert_equal(segments.merge(shuffled), _resorted(shuffled))


def test_interleaving_key_ranges_are_merged_by_resorting():
    rng = np.random.default_rng(3)
    a = segments.build(np.array([1, 5, 9], np.int64), rng.normal(size=(3, 8)).astype(np.float32),
                       np.zeros(3, np.int32), np.zeros(3, np.int32), [["a", "b"], ["c"], ["a"]])
    b = segments.build(np.array([2, 6, 7], np.int64), rng.normal(size=(3, 8)).astype(np.float32),
                       np.zeros(3, np.int32), np.zeros(3, np.int32), [["a"], ["b", "b"], ["d"]])
    assert not segments._disjoint([(a, None), (b, None)])
    merged = segments.merge([(a, None), (b, None)])
    assert merged.ids.tolist() == [1, 2, 5, 6, 7, 9]
    _assert_equal(merged, _resorted([(b, None), (a, None)]))
    held = {}
    for i, h in enumerate(merged.terms):
        rows = merged.post_doc[merged.term_ptr[i]:merged.term_ptr[i + 1]]
        held[int(h)] = [int(merged.ids[r]) for r in rows]
    assert held[segments.term_hash("a")] == [1, 2, 9]
    assert held[segments.term_hash("b")] == [1, 6]
    assert held[segments.term_hash("d")] == [7]

"""numpy's BLAS on one thread while a query scores vectors.

A query's matrix-vector products (a segment's rows times one query vector, the exact re-rank of
approximate candidates) are a few milliseconds of work at most. OpenBLAS splits any product above a
few thousand multiply-adds across its thread pool, and on a busy machine waking and spinning those
threads costs several times the product itself: an 8,200 x 384 product took 9.9 ms of CPU on two
threads and 1.5 ms on one (bench/search_profile.py measures the search stages). The numerics do not
change: each output element is the same dot product, computed by one thread either way.

Only numpy's own BLAS library is limited (not FAISS's, whose training of IVF indexes uses its
threads, nor the embedder's), and only while at least one query is scoring; the previous thread count
is restored after the last one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_active = 0
_libs: list[tuple[object, int]] | None = None  # (threadpoolctl controller, thread count before)


def _numpy_blas() -> list[tuple[object, int]]:
    """Controllers of the BLAS libraries that numpy loaded (found by their path), with thread counts."""
    global _libs
    if _libs is None:
        from threadpoolctl import ThreadpoolController

        controllers = ThreadpoolController().lib_controllers
        _libs = [(c, c.num_threads) for c in controllers
                 if c.user_api == "blas" and "numpy" in str(c.filepath).replace("\\", "/").split("/")[-2]]
    return _libs


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with numpy's BLAS on one thread (nested and concurrent uses are counted)."""
    global _active
    with _lock:
        if _active == 0:
            for lib, _n in _numpy_blas():
                lib.set_num_threads(1)
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                for lib, n in _numpy_blas():
                    lib.set_num_threads(n)

"""Run one step of a query on a spare thread while the caller does another.

A hybrid query encodes its text (the model: ~10 ms on this class of CPU, in native code that releases
the GIL) and scores its terms' postings (mostly numpy, also GIL-free for most of its time); neither
needs the other's result, so the encoding runs on a pool thread while the caller scores terms. The
pool is small and shared by every query of the process: when all its threads are busy (a server under
concurrent requests) the step runs in the caller's thread instead, at the point its result is asked
for, so a query never waits in a queue behind other queries' steps.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

T = TypeVar("T")

_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
_WORKERS = min(2, _CORES) if _CORES > 1 else 0  # on one core nothing would overlap: steps run in turn
_pool: ThreadPoolExecutor | None = None
_free = threading.BoundedSemaphore(max(1, _WORKERS))
_lock = threading.Lock()


class Pending(Generic[T]):
    """A step started on the pool, or deferred to the caller when the pool was busy."""

    def __init__(self, fn: Callable[[], T]) -> None:
        self._fn = fn
        self._future: Future[T] | None = None

    def result(self) -> T:
        """The step's value (computing it here if it did not start elsewhere); re-raises its error."""
        if self._future is None:
            return self._fn()
        return self._future.result()


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        with _lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(max_workers=max(1, _WORKERS), thread_name_prefix="policyqa-overlap")
    return _pool


def start(fn: Callable[[], T]) -> Pending[T]:
    """Start ``fn`` on a free pool thread; with none free, defer it to :meth:`Pending.result`."""
    pending = Pending(fn)
    if not _WORKERS or not _free.acquire(blocking=False):
        return pending

    def run() -> T:
        try:
            return fn()
        finally:
            _free.release()

    try:
        pending._future = _executor().submit(run)
    except RuntimeError:  # interpreter shutting down: no new threads
        _free.release()
    return pending

"""qa.overlap: a query's encoding runs beside its term scoring, or in the caller when the pool is busy."""

from __future__ import annotations

import threading

import pytest

from qa import overlap

needs_two_cores = pytest.mark.skipif(overlap._WORKERS == 0, reason="one core: steps run in turn, never beside")


@needs_two_cores
def test_a_step_runs_on_a_pool_thread_when_one_is_free():
    seen = overlap.start(lambda: threading.current_thread().name).result()
    assert seen.startswith("policyqa-overlap")


@needs_two_cores
def test_with_every_pool_thread_busy_the_step_runs_in_the_caller_when_asked():
    release = threading.Event()
    started = [threading.Event() for _ in range(overlap._WORKERS)]

    def hold(event: threading.Event) -> str:
        event.set()
        release.wait(10)
        return "held"

    busy = [overlap.start(lambda e=e: hold(e)) for e in started]
    try:
        for e in started:
            assert e.wait(10)
        ran: list[str] = []
        pending = overlap.start(lambda: ran.append(threading.current_thread().name) or "late")
        assert ran == []  # deferred, not queued behind the busy threads
        assert pending.result() == "late" and ran == [threading.current_thread().name]
    finally:
        release.set()
    assert [b.result() for b in busy] == ["held"] * overlap._WORKERS
    assert overlap.start(lambda: threading.current_thread().name).result().startswith("policyqa-overlap")


def test_an_error_in_the_step_reaches_the_caller():
    def fail() -> None:
        raise ValueError("bad query")

    with pytest.raises(ValueError, match="bad query"):
        overlap.start(fail).result()
    assert overlap.start(lambda: 1).result() == 1  # its thread was given back

"""A bounded load test of a policyqa server: N concurrent clients for D seconds on GET /search and POST /ask.

    python bench/load_test.py                              # 50 clients x 60 s (the full run)
    python bench/load_test.py --clients 20 --duration 20   # a quick check

It builds a data dir (the sample article + news items, embeddings cached under --work), starts
``python -m api.cli --data-dir D serve --host 127.0.0.1 --port <free>`` as a subprocess, warms it up (one
search and one ask, so the model load is not timed), runs the clients on loopback only, and always stops
the server at the end. Each client loops until the deadline, alternating /search and /ask with questions
from bench/questions/dev.jsonl; requests still in flight at the deadline are awaited (up to --timeout)
and counted. Reports requests served, errors (non-2xx or exceptions), p50/p95/p99 latency per endpoint
and throughput. Exits 1 when any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.answer_quality import (  # noqa: E402
    SAMPLE_DIR,
    load_questions,
    machine,
    open_engine,
    select_news,
)
from bench.datasets import load_news  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
ENDPOINTS = ("GET /search", "POST /ask")


@dataclass
class Tally:
    """Latencies of successful requests and the errors of one endpoint."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)

    @property
    def served(self) -> int:
        return len(self.latencies)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(-(-p * len(s) // 100)) - 1))]


def build_data_dir(work: Path, news_items: int) -> Path:
    """The sample article plus the first ``news_items`` news items of the answer-quality subset."""
    engine = open_engine(work, "load-test")
    engine.ingest_paths([SAMPLE_DIR])
    engine.ingest_items(select_news(load_news())[:news_items], batch_chunks=4096)
    stats = engine.store.stats()
    engine.close()
    print(
        f"data dir {engine.store.data_dir}: {stats['documents']} documents, {stats['chunks']} chunks",
        flush=True,
    )
    return engine.store.data_dir


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@contextmanager
def server(data_dir: Path, port: int, log: Path, start_timeout: float):
    """Run ``policyqa serve`` on loopback; yield its base URL; always stop it (SIGINT, then SIGKILL)."""
    cmd = [
        sys.executable,
        "-m",
        "api.cli",
        "--data-dir",
        str(data_dir),
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}; see {log}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server not up after {start_timeout:.0f}s; see {log}")
            time.sleep(0.3)
        yield url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # its own session: only the server and its children
                proc.wait(timeout=10)
        print(f"server stopped (exit {proc.returncode})", flush=True)


async def one(client: httpx.AsyncClient, endpoint: str, question: str) -> tuple[float, str | None]:
    """One request: (seconds, None) when it succeeded, else (seconds, what went wrong)."""
    t0 = time.perf_counter()
    try:
        if endpoint == "GET /search":
            r = await client.get("/search", params={"q": question, "k": 10})
        else:
            r = await client.post("/ask", json={"question": question, "k": 5})
        error = None if 200 <= r.status_code < 300 else f"HTTP {r.status_code}"
    except Exception as e:  # every failure is counted, none stops the run
        error = type(e).__name__
    return time.perf_counter() - t0, error


async def load(
    url: str, clients: int, duration: float, timeout: float, questions: list[str]
) -> tuple[dict, float]:
    """Run the clients until the deadline; per-endpoint tallies and the wall time (in-flight requests included)."""
    tallies = {e: Tally() for e in ENDPOINTS}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async with httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits) as client:
        start = time.perf_counter()
        deadline = start + duration

        async def worker(i: int) -> None:
            n = i
            while time.perf_counter() < deadline:
                endpoint = ENDPOINTS[n % 2]
                seconds, error = await one(client, endpoint, questions[n % len(questions)])
                tally = tallies[endpoint]
                if error is None:
                    tally.latencies.append(seconds)
                else:
                    tally.errors[error] += 1
                n += 1

        await asyncio.gather(*(worker(i) for i in range(clients)))
        return tallies, time.perf_counter() - start


def report(tallies: dict[str, Tally], wall: float, clients: int, duration: float) -> dict:
    """Print the results as a markdown table; return them as a dict."""
    rows = {}
    print(
        f"\n{clients} clients x {duration:.0f} s on loopback ({wall:.1f} s with in-flight requests), {machine()}\n"
    )
    print("| endpoint | served | errors | p50 ms | p95 ms | p99 ms | req/s |")
    print("|---|---|---|---|---|---|---|")
    for endpoint, t in [*tallies.items(), ("all", _merged(tallies))]:
        errors = sum(t.errors.values())
        ps = [1000 * percentile(t.latencies, p) for p in (50, 95, 99)] if t.latencies else [float("nan")] * 3
        rows[endpoint] = {
            "served": t.served,
            "errors": errors,
            "error_kinds": dict(t.errors),
            "p50_ms": ps[0],
            "p95_ms": ps[1],
            "p99_ms": ps[2],
            "rps": t.served / wall,
        }
        print(
            f"| {endpoint} | {t.served} | {errors} | {ps[0]:.0f} | {ps[1]:.0f} | {ps[2]:.0f} | {t.served / wall:.1f} |"
        )
    kinds = _merged(tallies).errors
    if kinds:
        print(f"\nerrors: {dict(kinds)}")
    return rows


def _merged(tallies: dict[str, Tally]) -> Tally:
    out = Tally()
    for t in tallies.values():
        out.latencies.extend(t.latencies)
        out.errors.update(t.errors)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=50, help="concurrent clients (default 50)")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    ap.add_argument("--timeout", type=float, default=60.0, help="per-request timeout in seconds (default 60)")
    ap.add_argument(
        "--work", type=Path, default=Path(".bench"), help="data dir, embedding cache and server log"
    )
    ap.add_argument("--data-dir", type=Path, default=None, help="serve this data dir instead of building one")
    ap.add_argument("--news", type=int, default=300, help="news items in the built data dir (default 300)")
    ap.add_argument("--start-timeout", type=float, default=180.0, help="seconds to wait for the server")
    ap.add_argument("--out", type=Path, default=None, help="also write the results as JSON here")
    args = ap.parse_args(argv)
    if args.clients < 1 or args.duration <= 0:
        ap.error("--clients must be >= 1 and --duration > 0")
    data_dir = args.data_dir or build_data_dir(args.work, args.news)
    questions = [q["question"] for q in load_questions()]
    log = args.work / "load_test" / "server.log"
    with server(data_dir, free_port(), log, args.start_timeout) as url:
        t0 = time.perf_counter()
        for endpoint in ENDPOINTS:  # load the model before timing anything
            _seconds, error = asyncio.run(_warm(url, endpoint, questions[0], args.timeout))
            if error:
                raise SystemExit(f"warm-up {endpoint} failed: {error}; see {log}")
        print(f"server {url} warm after {time.perf_counter() - t0:.1f}s", flush=True)
        tallies, wall = asyncio.run(load(url, args.clients, args.duration, args.timeout, questions))
    rows = report(tallies, wall, args.clients, args.duration)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            json.dumps(
                {
                    "clients": args.clients,
                    "duration": args.duration,
                    "wall": wall,
                    "machine": machine(),
                    "endpoints": rows,
                },
                indent=2,
            )
        )
    return 1 if rows["all"]["errors"] else 0


async def _warm(url: str, endpoint: str, question: str, timeout: float) -> tuple[float, str | None]:
    async with httpx.AsyncClient(base_url=url, timeout=max(timeout, 120.0)) as client:
        return await one(client, endpoint, question)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the server was already stopped on the way out
        sys.exit(130)

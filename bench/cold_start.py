"""Cold start of the CLI: wall time of `policyqa ask` / `policyqa search` in a fresh process, no server.

    python bench/cold_start.py                 # 10 runs each, p50, and a breakdown of one process
    python bench/cold_start.py --runs 20 --work .bench

The data dir WORK/data/cold-start holds the bundled sample article, ingested with the default embedder
(built into the model cache first, so no run pays for a model build). Each run is a new Python process
(`python -m api.cli`, as the `policyqa` script runs it); wall time is measured around the subprocess.
The breakdown runs the same steps inside one more fresh process with timers: imports, opening the data
directory, loading the model, and the query itself (ask: search + extraction + not-found verdict).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SAMPLE = ROOT / "corpus" / "samples" / "kunming"
QUESTION = "哪些企业落地磨憨？"
SEARCH = "磨憨 落地企业"

BREAKDOWN = r"""
import json, sys, time
t0 = time.perf_counter()
from api.cli import main  # noqa: F401
from qa.engine import Engine
t1 = time.perf_counter()
engine = Engine(sys.argv[1])
t2 = time.perf_counter()
engine.store.embedder
t3 = time.perf_counter()
engine.ask(sys.argv[2], generate=False)
t4 = time.perf_counter()
engine.search(sys.argv[2])
t5 = time.perf_counter()
heavy = sorted(m for m in ("torch", "transformers", "sentence_transformers") if m in sys.modules)
print(json.dumps({"import_s": t1 - t0, "open_s": t2 - t1, "model_load_s": t3 - t2, "ask_s": t4 - t3,
                  "search_after_ask_s": t5 - t4, "heavy_modules": heavy}))
"""


def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), e.get("PYTHONPATH")]))
    e.pop("POLICYQA_EMBEDDER", None)
    e.pop("POLICYQA_EMBED_RUNTIME", None)
    e.pop("POLICYQA_LLM_BASE_URL", None)
    return e


def prepare(data: Path) -> None:
    """Ingest the sample with the default embedder (a no-op when already there)."""
    subprocess.run([sys.executable, "-m", "api.cli", "--data-dir", str(data), "ingest", str(SAMPLE)],
                   env=env(), check=True, capture_output=True, text=True)


def wall(cmd: list[str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = subprocess.run(cmd, env=env(), capture_output=True, text=True)
        out.append(time.perf_counter() - t0)
        if r.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr[-2000:]}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--work", type=Path, default=Path(".bench"))
    args = ap.parse_args(argv)
    data = (args.work / "data" / "cold-start").resolve()
    prepare(data)
    spec = json.loads((data / "config.json").read_text(encoding="utf-8"))["embedder"]
    print(f"data dir {data}, embedder {spec}, load average {os.getloadavg()[0]:.1f}", flush=True)
    base = [sys.executable, "-m", "api.cli", "--data-dir", str(data)]
    results = {
        "ask": wall(base + ["ask", QUESTION, "--no-llm"], args.runs),
        "search": wall(base + ["search", SEARCH], args.runs),
        "stats (no model)": wall(base + ["stats"], args.runs),
        "python -c pass": wall([sys.executable, "-c", "pass"], args.runs),
    }
    breakdown = subprocess.run([sys.executable, "-c", BREAKDOWN, str(data), QUESTION], env=env(),
                               capture_output=True, text=True, check=True)
    print("\n| command | runs | p50 wall (s) | min | max |\n|---|---|---|---|---|")
    for name, times in results.items():
        print(f"| {name} | {len(times)} | {statistics.median(times):.2f} | {min(times):.2f} | {max(times):.2f} |")
    b = json.loads(breakdown.stdout.strip().splitlines()[-1])
    print("\nbreakdown of one fresh process: " + ", ".join(
        f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in b.items()))
    print(f"load average after: {os.getloadavg()[0]:.1f}; target: ask and search p50 <= 3 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

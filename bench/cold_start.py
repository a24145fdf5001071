"""Cold start of the CLI: wall and CPU time of `policyqa ask` / `policyqa search` in a fresh process, no server.

    python bench/cold_start.py                        # 10 runs each, p50, and a breakdown of one process
    python bench/cold_start.py --runs 20 --work .bench
    python bench/cold_start.py --against main         # the same commands from another revision, side by side

The data dir WORK/data/cold-start holds the bundled sample article, ingested with the default embedder
(built into the model cache first, so no run pays for a model build). Each run is a new Python process
(`python -m api.cli`, as the `policyqa` script runs it); wall time is measured around the subprocess and
CPU time (user + system, all threads) is the child's own rusage, which a busy machine disturbs less than
wall time. With ``--against REV`` that revision's tree is exported (``git archive``) into WORK and its
CLI runs the same commands on the same data directory, interleaved run by run with this tree's, so both
columns see the same machine load; the table gives the ratios.

The breakdown runs the steps inside one more fresh process with timers (wall and CPU): imports, opening
the data directory, loading the model (split into the tokenizer, the ONNX session and jieba's
dictionaries where the default ONNX embedder loads them), and the query (ask: search + extraction +
not-found verdict).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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
import json, resource, sys, time

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

marks = [("start", time.perf_counter(), cpu())]
def mark(name):
    marks.append((name, time.perf_counter(), cpu()))

from api.cli import main  # noqa: F401
from qa.engine import Engine
mark("import")
engine = Engine(sys.argv[1], create=False)
mark("open")
engine.store.embedder
mark("model_load")
engine.ask(sys.argv[2], generate=False)
mark("first_ask")
engine.search(sys.argv[2])
mark("search_after_ask")
heavy = sorted(m for m in ("torch", "transformers", "sentence_transformers", "fastapi", "uvicorn")
               if m in sys.modules)
steps = {name: [round(w - marks[i][1], 3), round(c - marks[i][2], 3)] for i, (name, w, c) in enumerate(marks[1:])}
print(json.dumps({"steps": steps, "heavy_modules": heavy}))
"""


def env(root: Path = ROOT) -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(root)
    e.pop("POLICYQA_EMBEDDER", None)
    e.pop("POLICYQA_EMBED_RUNTIME", None)
    e.pop("POLICYQA_LLM_BASE_URL", None)
    return e


def prepare(data: Path) -> None:
    """Ingest the sample with the default embedder (a no-op when already there)."""
    subprocess.run([sys.executable, "-m", "api.cli", "--data-dir", str(data), "ingest", str(SAMPLE)],
                   env=env(), check=True, capture_output=True, text=True)


def export_revision(rev: str, work: Path) -> Path:
    """The tree of git revision ``rev`` under WORK (exported once per commit)."""
    sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", f"{rev}^{{commit}}"],
                         check=True, capture_output=True, text=True).stdout.strip()
    out = work / f"rev-{sha[:12]}"
    if not (out / "api" / "cli.py").is_file():
        out.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", sha], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(out)], input=archive.stdout, check=True)
    return out


def run_once(cmd: list[str], root: Path) -> tuple[float, float]:
    """(wall, cpu) seconds of one fresh process; cpu is its user + system time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env(root), capture_output=True, text=True, cwd=root)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({r.returncode}) in {root}: {r.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def p50(values: list[float]) -> float:
    return statistics.median(values)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--work", type=Path, default=Path(".bench"))
    ap.add_argument("--against", metavar="REV", help="also run the CLI of this git revision, interleaved")
    ap.add_argument("--no-breakdown", action="store_true", help="skip the one-process step breakdown")
    args = ap.parse_args(argv)
    work = args.work.resolve()
    data = work / "data" / "cold-start"
    prepare(data)
    spec = json.loads((data / "config.json").read_text(encoding="utf-8"))["embedder"]
    trees = {"this tree": ROOT}
    if args.against:
        trees[f"{args.against}"] = export_revision(args.against, work)
    print(f"data dir {data}, embedder {spec}, load average {os.getloadavg()[0]:.1f}, "
          f"{os.cpu_count()} cores", flush=True)
    commands = {
        "ask": ["ask", QUESTION, "--no-llm"],
        "search": ["search", SEARCH],
        "stats (no model)": ["stats"],
    }
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _ in range(args.runs):
        for name, cmd in commands.items():
            for label, root in trees.items():  # interleaved: each pair sees the same load
                full = [sys.executable, "-m", "api.cli", "--data-dir", str(data), *cmd]
                results.setdefault((name, label), []).append(run_once(full, root))
        results.setdefault(("python -c pass", "-"), []).append(run_once([sys.executable, "-c", "pass"], ROOT))

    print("\n| command | tree | runs | p50 wall (s) | min | max | p50 CPU (s) |\n|---|---|---|---|---|---|---|")
    for (name, label), runs in results.items():
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        print(f"| {name} | {label} | {len(runs)} | {p50(walls):.2f} | {min(walls):.2f} | {max(walls):.2f} "
              f"| {p50(cpus):.2f} |")
    if args.against:
        print(f"\nratios, {args.against} / this tree (p50; > 1 means this tree is faster):")
        for name in commands:
            mine, theirs = results[(name, "this tree")], results[(name, args.against)]
            print(f"  {name}: wall {p50([w for w, _ in theirs]) / p50([w for w, _ in mine]):.2f}x, "
                  f"CPU {p50([c for _, c in theirs]) / p50([c for _, c in mine]):.2f}x")

    if not args.no_breakdown:
        for label, root in trees.items():
            r = subprocess.run([sys.executable, "-c", BREAKDOWN, str(data), QUESTION], env=env(root),
                               capture_output=True, text=True, check=True, cwd=root)
            b = json.loads(r.stdout.strip().splitlines()[-1])
            steps = ", ".join(f"{k} {w:.2f}/{c:.2f}" for k, (w, c) in b["steps"].items())
            print(f"\nbreakdown, {label}, one fresh process (wall/CPU s): {steps}; "
                  f"heavy modules loaded: {b['heavy_modules'] or 'none'}")
    print(f"\nload average after: {os.getloadavg()[0]:.1f}; target: ask and search p50 <= 3 s wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())

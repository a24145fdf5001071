"""Every shell example in README.md runs, and every "real output" console block matches what it prints.

Driven by the README itself: each ```sh, ```console and ```python block is found and run, so an edited README
is tested as it stands. Commands run in one fresh working directory that holds the checkout's ``corpus/``
(so ``demo-data`` is created there, not in the checkout), with the real default model, as the README's
reader would run them: the console blocks first, on an empty data directory (their output shows the first
ingest), then the sh and python blocks in README order. To keep the model loads few, a read-only command
(``ask``, ``search``, ``show``, ``docs``, ``stats``) that already ran, with the same arguments and no write
since, is not run again: its output would be the same.

* ``policyqa ARGS`` calls the function the ``policyqa`` command runs (``api.cli.main(ARGS)``) in this
  process, from the workspace, with the workspace's environment, its stdout captured; the loaded model is
  kept between calls (the one thing a separate process would not share), so the model loads once.
  ``policyqa ... serve`` starts a real server process (``python -m api.cli ARGS --port FREE``, loopback)
  and waits for ``/health``; the ``curl`` and ``python`` examples then talk to it: ``http://127.0.0.1:8000`` becomes its
  address, the one substitution made in a command. Each must exit 0 and, for curl, return JSON without an
  error ``detail``.
* In a ```console block, ``$ COMMAND`` lines are run and the lines below them are the expected output. A
  line ``...`` stands for any lines. For a ``--json`` command the block shows the JSON on one line
  (wrapped at will) and ``...`` inside it stands for any text; it is compared with the real output
  re-serialized compactly. Nothing else is normalized (``NORMALIZE`` lists what would be, and why).

What is not run is listed in ``EXEMPT``, each with its reason.
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import httpx
import pytest

from api import cli
from index import embedder as embedders

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
README_URL = "http://127.0.0.1:8000"
COMMAND_TIMEOUT = 300
READ_ONLY = {"ask", "search", "show", "docs", "stats"}

pytestmark = pytest.mark.slow  # the real model: the README's output is the real model's

# A command (or a part of an ``&&`` chain) containing one of these is not run.
EXEMPT: dict[str, str] = {
    "python3.11 -m venv": "creates a virtual environment; the tests already run inside one",
    ". .venv/bin/activate": "activates that environment",
    "pip install": "installs the package; the tests run on the installed checkout",
    "ruff check": "CI runs the linter itself, before the tests",
    "python -m pytest": "the test suite itself (this file is part of it)",
    "--host 0.0.0.0": "would listen on the network; the loopback server of the same command is run",
}
# A block containing one of these is not run at all.
EXEMPT_BLOCKS: dict[str, str] = {
    "POLICYQA_LLM_BASE_URL": "needs an external OpenAI-compatible endpoint (tests/test_llm.py covers it with a fake one)",
}
# Whole blocks (by their language) that are configuration, not something to run.
EXEMPT_LANGUAGES: dict[str, str] = {
    "json": "a configuration snippet for a desktop MCP client (tests/test_mcp.py drives `policyqa mcp`)",
    "": "the layout tree, not a command",
    "text": "shown text that is not checked (e.g. output of commands that need folders this workspace lacks)",
}
# (pattern, replacement, why) applied to real and expected output alike; empty while nothing must vary.
NORMALIZE: list[tuple[str, str, str]] = []


@dataclass
class Block:
    lang: str
    text: str
    line: int  # 1-based line of the opening fence

    @property
    def name(self) -> str:
        return f"README.md:{self.line} ({self.lang})"


def readme_blocks() -> list[Block]:
    """Fenced code blocks of the README, in order."""
    blocks, lang, start, body = [], None, 0, []
    for i, line in enumerate(README.read_text(encoding="utf-8").splitlines(), 1):
        fence = re.match(r"^```(\S*)\s*$", line)
        if fence and lang is None:
            lang, start, body = fence.group(1), i, []
        elif line.startswith("```") and lang is not None:
            blocks.append(Block(lang, "\n".join(body), start))
            lang = None
        elif lang is not None:
            body.append(line)
    return blocks


def commands(text: str) -> list[str]:
    """Shell lines of a block, ``\\`` continuations joined, comments and blank lines dropped."""
    out, cur = [], ""
    for line in text.splitlines():
        cur += line.rstrip()
        if cur.endswith("\\"):
            cur = cur[:-1] + " "
            continue
        if cur.strip() and not cur.lstrip().startswith("#"):
            out.append(cur.strip())
        cur = ""
    return out


def exemption(command: str) -> str | None:
    return next((why for key, why in EXEMPT.items() if key in command), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Workspace:
    """A working directory like the checkout's root, with the environment the commands run in."""

    cwd: Path
    env: dict[str, str]
    servers: list[tuple[subprocess.Popen, str]] = field(default_factory=list)
    reads: dict[tuple[str, ...], subprocess.CompletedProcess] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        assert self.servers, "a curl/python example runs before any `policyqa serve` example"
        return self.servers[-1][1]

    def policyqa(self, args: list[str]) -> subprocess.CompletedProcess:
        """``policyqa ARGS`` as the console script runs it: ``api.cli.main(ARGS)``, here, in the workspace."""
        out, err = io.StringIO(), io.StringIO()
        saved_env, saved_cwd = dict(os.environ), os.getcwd()
        os.environ.clear()
        os.environ.update(self.env)
        os.chdir(self.cwd)
        try:
            with redirect_stdout(out), redirect_stderr(err):
                try:
                    code = cli.main(args)
                except SystemExit as e:  # argparse usage errors
                    code = e.code if isinstance(e.code, int) else 1
        finally:
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_env)
        return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())

    def serve(self, args: list[str]) -> None:
        url_port = _free_port()
        log = open(self.cwd / f"serve-{url_port}.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([sys.executable, "-m", "api.cli", *args, "--port", str(url_port)], cwd=self.cwd,
                                env=self.env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{url_port}"
        self.servers.append((proc, url))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert proc.poll() is None, (self.cwd / f"serve-{url_port}.log").read_text()
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"`policyqa {' '.join(args)}` did not answer /health within 120 s")

    def run(self, command: str) -> str:
        """Run one README command (no ``&&``); returns its stdout. Fails the test on a non-zero exit."""
        argv = shlex.split(command, comments=True)
        if argv[0] == "export":
            for assignment in argv[1:]:
                key, _, value = assignment.partition("=")
                self.env[key] = value
            return ""
        if argv[0] == "policyqa":
            if "serve" in argv[1:]:
                self.serve(argv[1:])
                return ""
            key = tuple(argv[1:])
            read_only = bool(READ_ONLY & set(argv[1:]))
            done = self.reads.get(key) if read_only else None
            if done is None:
                done = self.policyqa(argv[1:])
            if read_only:
                self.reads[key] = done
            else:
                self.reads.clear()
        elif argv[0] == "curl":
            done = subprocess.run(["bash", "-c", command.replace(README_URL, self.base_url)], cwd=self.cwd,
                                  env=self.env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
        else:
            raise AssertionError(f"README command {command!r}: no runner for {argv[0]!r}; run it or exempt it")
        assert done.returncode == 0, f"{command}\nexit {done.returncode}\n{done.stdout}\n{done.stderr}"
        if argv[0] == "curl":
            body = json.loads(done.stdout)  # an HTTP error page or a 400 from a bad URL is no JSON answer
            assert not (isinstance(body, dict) and "detail" in body), f"{command}\n{done.stdout}"
        return done.stdout

    def close(self) -> None:
        for proc, _ in self.servers:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def new_workspace(tmp: Path) -> Workspace:
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "corpus").symlink_to(ROOT / "corpus")
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYQA_") or k == "POLICYQA_MODEL_CACHE"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["POLICYQA_DATA"] = str(tmp / "default-data")  # a command without --data-dir stays in here too
    return Workspace(tmp, env)


BLOCKS = readme_blocks()
SHELL = [b for b in BLOCKS if b.lang in ("sh", "bash", "shell")]
CONSOLE = [b for b in BLOCKS if b.lang == "console"]
PYTHON = [b for b in BLOCKS if b.lang == "python"]


def test_every_readme_block_is_run_or_exempt_with_a_reason():
    known = {"sh", "bash", "shell", "console", "python", *EXEMPT_LANGUAGES}
    assert SHELL and CONSOLE, "README.md has no sh or console blocks: the parser no longer finds them"
    for b in BLOCKS:
        assert b.lang in known, f"{b.name}: a {b.lang!r} block is neither run nor exempt"
    for key in [*EXEMPT, *EXEMPT_BLOCKS]:  # an exemption nothing uses is stale
        assert any(key in b.text for b in SHELL + CONSOLE), f"exemption {key!r} matches no README command"


# --- console blocks: run and compare ----------------------------------------------------------------------
def console_steps(text: str) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) for each ``$ `` line of a console block."""
    steps: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:].strip(), []))
        elif steps:
            steps[-1][1].append(line)
    return [(cmd, _trim(lines)) for cmd, lines in steps]


def _trim(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _normalize(text: str) -> str:
    for pattern, replacement, _why in NORMALIZE:
        text = re.sub(pattern, replacement, text)
    return text


def lines_match(expected: list[str], actual: list[str]) -> bool:
    """Line by line, exactly; an expected line ``...`` matches any run of lines (none included)."""
    if not expected:
        return not actual
    if expected[0].strip() == "...":
        return any(lines_match(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and expected[0] == actual[0] and lines_match(expected[1:], actual[1:])


def json_matches(expected: list[str], stdout: str) -> bool:
    """The one-line JSON of the block (``...`` = any text) against the real output, compacted."""
    actual = json.dumps(json.loads(stdout), ensure_ascii=False)
    pattern = ".*?".join(re.escape(part) for part in " ".join(x.strip() for x in expected).split("..."))
    return re.fullmatch(pattern, actual, flags=re.S) is not None


@pytest.fixture(scope="module")
def shell_workspace(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:  # one model load for all in-process CLI calls
        for name, factory in list(embedders.BACKENDS.items()):
            mp.setitem(embedders.BACKENDS, name, cache(factory))
        ws = new_workspace(tmp_path_factory.mktemp("readme") / "ws")
        yield ws
        ws.close()


@pytest.mark.parametrize("block", CONSOLE, ids=lambda b: b.name)
def test_console_block_shows_real_output(block, shell_workspace):
    for command, expected in console_steps(block.text):
        if exemption(command):
            continue
        out = shell_workspace.run(command)
        if "--json" in shlex.split(command, comments=True):
            assert json_matches(expected, out), f"{command}\nREADME:\n" + "\n".join(expected) + f"\nreal:\n{out}"
        else:
            real = _normalize(out).rstrip("\n").splitlines()
            assert lines_match([_normalize(x) for x in expected], real), (
                f"{command}\nREADME:\n" + "\n".join(expected) + "\nreal:\n" + "\n".join(real))


# --- sh and python blocks: run, in README order, after the console blocks ----------------------------------


def _steps(block: Block) -> list[str]:
    return [part.strip() for cmd in commands(block.text) for part in cmd.split(" && ")]


@pytest.mark.parametrize("block", sorted(SHELL + PYTHON, key=lambda b: b.line), ids=lambda b: b.name)
def test_shell_example_runs(block, shell_workspace):
    if block.lang == "python":
        code = block.text.replace(README_URL, shell_workspace.base_url)
        done = subprocess.run([sys.executable, "-c", code], cwd=shell_workspace.cwd, env=shell_workspace.env,
                              capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
        assert done.returncode == 0 and done.stdout.strip(), f"{block.name}\n{done.stdout}\n{done.stderr}"
        return
    whole = next((why for key, why in EXEMPT_BLOCKS.items() if key in block.text), None)
    if whole:
        pytest.skip(whole)
    steps = [s for s in _steps(block) if not exemption(s)]
    if not steps:
        pytest.skip("every command here is exempt: " + "; ".join(sorted({exemption(s) for s in _steps(block)})))
    for step in steps:
        shell_workspace.run(step)

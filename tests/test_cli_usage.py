"""The command as a new user meets it: global options anywhere, reads that create nothing, hints that
repeat the user's options, skipped files named, readable stats, paged docs, --help and exit codes."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import unicodedata
from pathlib import Path

import pytest
from conftest import SAMPLE

from api import cli
from api.cli import build_parser, main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def _global_actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions
            if a.option_strings and not isinstance(a, argparse._HelpAction | argparse._SubParsersAction)]


def _positionals(sub: argparse.ArgumentParser) -> list[str]:
    """What a subcommand needs to parse: its positionals, and its required options with a valid value."""
    out = [f"P{i}" for i, a in enumerate(sub._actions) if not a.option_strings and a.nargs != "?"]
    for a in sub._actions:
        if a.option_strings and a.required:
            out += [a.option_strings[-1], a.choices[0] if a.choices else "VALUE"]
    return out


def _given(action: argparse.Action) -> tuple[list[str], object]:
    """argv for giving one option, and the value it must parse to."""
    flag = action.option_strings[-1]
    if action.nargs == 0:
        return [flag], action.const
    value = action.choices[-1] if action.choices else "VALUE"
    return [flag, value], value


def test_every_global_option_works_before_and_after_every_subcommand():
    parser = build_parser()
    options = _global_actions(parser)
    assert {a.dest for a in options} >= {"data_dir", "json"}
    for name, sub in _subparsers(parser).items():
        for action in options:
            argv, value = _given(action)
            before = parser.parse_args(argv + [name, *_positionals(sub)])
            after = parser.parse_args([name, *_positionals(sub), *argv])
            neither = parser.parse_args([name, *_positionals(sub)])
            assert getattr(before, action.dest) == value, (name, action.dest, "before")
            assert getattr(after, action.dest) == value, (name, action.dest, "after")
            assert getattr(neither, action.dest) == action.default, (name, action.dest, "default")


def test_stats_with_data_dir_after_the_subcommand(hash_env, tmp_path, capsys):
    other = tmp_path / "other"
    code, out, _ = run(capsys, "stats", "--data-dir", str(other), "--json")
    stats = json.loads(out)
    assert code == 0 and stats["data_dir"] == str(other) and stats["data_dir_from"] == "--data-dir"


@pytest.mark.parametrize(
    "argv",
    [("search", "磨憨"), ("ask", "哪些企业落地磨憨？"), ("show", "a.txt"), ("docs",), ("delete", "a.txt")],
    ids=lambda argv: argv[0],
)
def test_reads_on_a_missing_data_dir_create_nothing_and_say_how_to_ingest(hash_env, tmp_path, capsys, argv):
    missing = tmp_path / "no such dir"
    code, out, err = run(capsys, *argv, "--data-dir", str(missing))
    assert code == 1 and not out
    assert "nothing was created" in err and str(missing) in err
    assert f"policyqa --data-dir {shlex.quote(str(missing))} ingest PATH" in err
    assert not missing.exists()
    existing = tmp_path / "existing"  # a folder that is not a data directory: nothing written into it
    existing.mkdir()
    assert run(capsys, "--data-dir", str(existing), *argv)[0] == 1
    assert os.listdir(existing) == []


def test_stats_on_a_missing_data_dir_reports_it_and_creates_nothing(hash_env, tmp_path, capsys):
    missing = tmp_path / "missing"
    code, out, err = run(capsys, "stats", "--data-dir", str(missing), "--json")
    stats = json.loads(out)
    assert code == 0 and stats["exists"] is False and stats["documents"] == 0
    assert "nothing was created" in err and not missing.exists()
    code, out, _ = run(capsys, "stats", "--data-dir", str(missing))
    assert "does not exist yet" in out and not missing.exists()


def test_the_no_documents_hint_repeats_the_data_dir_given(hash_env, tmp_path, capsys):
    data = tmp_path / "empty data"
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")
    assert run(capsys, "--data-dir", str(data), "ingest", str(bad))[0] == 1  # creates it, stores nothing
    code, _, err = run(capsys, "search", "磨憨", "--data-dir", str(data))
    assert code == 1 and f"no documents in {data} yet" in err
    assert f"policyqa --data-dir {shlex.quote(str(data))} ingest PATH" in err
    # From the environment, no option to repeat.
    code, _, err = run(capsys, "ask", "哪些企业落地磨憨？")
    assert code == 1 and "add documents with: policyqa ingest PATH" in err


def test_folder_ingest_names_the_unsupported_files_it_skipped(hash_env, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("题\n\n磨憨口岸建设加快推进。\n", encoding="utf-8")
    (folder / "random.bin").write_bytes(os.urandom(64))
    (folder / ".hidden.bin").write_bytes(b"x")
    code, out, _ = run(capsys, "ingest", str(folder))
    assert code == 0
    assert f"skipped 1 unsupported file: {folder / 'random.bin'}" in out
    (folder / "b.txt").write_text("题二\n\n科技城项目总投资约14亿元。\n", encoding="utf-8")
    (folder / "scan.pdf").write_bytes(b"%PDF-1.7")
    code, out, _ = run(capsys, "ingest", str(folder), "--json")
    report = json.loads(out)
    assert code == 0 and report["added"] == 1 and report["unchanged"] == 1
    assert report["skipped"] == [str(folder / "random.bin"), str(folder / "scan.pdf")]


def test_stats_prints_the_absolute_data_dir_and_a_readable_embedder(hash_env, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text("题\n\n磨憨口岸建设加快推进。\n", encoding="utf-8")
    assert run(capsys, "--data-dir", "rel-data", "ingest", "a.txt")[0] == 0
    code, out, _ = run(capsys, "stats", "--data-dir", "rel-data")
    assert code == 0
    lines = dict(line.split(": ", 1) for line in out.splitlines())
    assert lines["data directory"] == f"{tmp_path / 'rel-data'} (from --data-dir)"
    assert lines["documents"] == "1"
    assert lines["embedder"].startswith("hash, 256 dimensions") and "{" not in out
    stats = json.loads(run(capsys, "stats", "--data-dir", "rel-data", "--json")[1])
    assert stats["data_dir"] == str(tmp_path / "rel-data") and stats["embedder"] == {"backend": "hash", "model": "256"}


def test_docs_limit_and_offset(hash_env, tmp_path, capsys):
    feed = tmp_path / "feed.jsonl"
    rows = [{"id": f"d{i}", "title": f"第{i}篇", "date": f"2024-0{i}-01", "content": f"第{i}篇正文，编号{i}。"}
            for i in range(1, 6)]
    feed.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    assert run(capsys, "ingest", str(feed))[0] == 0

    def ids(*argv: str) -> tuple[list[str], str]:
        code, out, err = run(capsys, "docs", "--json", *argv)
        assert code == 0
        return [d["doc_id"] for d in json.loads(out)], err

    assert ids() == (["d5", "d4", "d3", "d2", "d1"], "")
    page, err = ids("--limit", "2", "--offset", "1")
    assert page == ["d4", "d3"] and "2 of 5 documents" in err and "--offset 3" in err
    assert ids("--offset", "4")[0] == ["d1"]
    assert ids("--limit", "0")[0] == ["d5", "d4", "d3", "d2", "d1"]
    code, out, _ = run(capsys, "docs", "--limit", "1")
    assert out.splitlines() == ["d5\t2024-05-01\t1 chunks\t第5篇"]
    with pytest.raises(SystemExit) as e:
        main(["docs", "--limit", "-1"])
    assert e.value.code == 2


def test_help_explains_every_option_and_gives_examples(capsys):
    parser = build_parser()
    for name, p in [("policyqa", parser), *_subparsers(parser).items()]:
        for action in p._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            label = action.option_strings or [action.dest]
            assert action.help and action.help.strip(), f"{name} {label[0]} has no help"
        p.format_help()  # no broken %-formatting in any help text
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    examples = [line for line in text.split("examples:", 1)[1].splitlines() if line.strip().startswith("policyqa ")]
    assert len(examples) >= 3
    for sub, p in _subparsers(parser).items():
        if sub not in ("serve", "mcp"):
            assert f"policyqa {sub}" in (p.epilog or ""), f"{sub} --help gives no example"


def test_each_option_is_explained_in_one_line_on_an_80_column_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    parser = build_parser()
    for name, p in [("policyqa", parser), *_subparsers(parser).items()]:
        lines = p.format_help().splitlines()
        commands = [c for a in p._actions if isinstance(a, argparse._SubParsersAction) for c in a._choices_actions]
        for action in [*p._actions, *commands]:
            if action.help and not isinstance(action, argparse._SubParsersAction):
                text = action.help % {"default": action.default, "prog": p.prog}
                assert any(line.rstrip().endswith(text) for line in lines), f"{name}: {text!r} is wrapped"


def _columns(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def test_help_fits_an_80_column_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    parser = build_parser()
    for name, p in [("policyqa", parser), *_subparsers(parser).items()]:
        for line in p.format_help().splitlines():
            assert _columns(line) <= 80, f"{name} --help: {line!r}"


def test_exit_codes_are_documented_in_help():
    text = build_parser().format_help()
    section = text.split("exit codes:", 1)[1]
    for code in (cli.EXIT_OK, cli.EXIT_FAIL, cli.EXIT_USAGE, cli.EXIT_BUSY):
        assert f"\n  {code}  " in section
    assert "exit codes:" in _subparsers(build_parser())["ask"].format_help()


def test_ask_exits_0_when_nothing_is_found(hash_env, capsys):
    assert run(capsys, "ingest", str(SAMPLE.parent))[0] == 0
    code, out, _ = run(capsys, "ask", "火星基地的氧气工厂何时投产？", "--json")
    assert code == 0 and json.loads(out)["found"] is False
    code, out, _ = run(capsys, "ask", "火星基地的氧气工厂何时投产？")
    assert code == 0 and "Nearest passages (not an answer)" in out


@pytest.mark.slow
def test_ask_exits_0_found_or_not_with_the_real_model(real_engine_with_sample, monkeypatch, capsys):
    monkeypatch.setattr(cli, "_engine", lambda args, create=False: real_engine_with_sample)
    found = {}
    for question in ("沪滇临港昆明科技城总投资多少？", "深圳前海有哪些企业落户？"):
        code, out, _ = run(capsys, "ask", question, "--json")
        assert code == 0, question
        found[question] = json.loads(out)["found"]
    assert found == {"沪滇临港昆明科技城总投资多少？": True, "深圳前海有哪些企业落户？": False}


def test_usage_errors_exit_2(hash_env):
    for argv in (["search", "-k", "0", "x"], ["frobnicate"], ["ask"], ["stats", "--nope"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2, argv


def test_show_of_an_unknown_id_points_at_docs(hash_env, tmp_path, capsys):
    f = tmp_path / "a.txt"
    f.write_text("题\n\n磨憨口岸建设加快推进。\n", encoding="utf-8")
    run(capsys, "--data-dir", str(tmp_path / "d"), "ingest", str(f))
    code, _, err = run(capsys, "show", "b.txt", "--data-dir", str(tmp_path / "d"))
    assert code == 1 and f"policyqa --data-dir {tmp_path / 'd'} docs" in err
    assert Path(tmp_path / "d").is_dir()

"""The policyqa command: exit codes, JSON contracts and human output."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import SAMPLE

from api.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_jsonl(path, rows) -> None:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")


def test_search_and_ask_on_empty_data_dir_say_how_to_ingest(hash_env, capsys):
    for argv in (("search", "磨憨"), ("ask", "哪些企业落地磨憨？")):
        code, out, err = run(capsys, *argv)
        assert code == 1
        assert "policyqa ingest" in err and "Traceback" not in err


def test_usage_error_exits_2(hash_env):
    with pytest.raises(SystemExit) as e:
        main(["search", "-k", "many", "x"])
    assert e.value.code == 2


def test_ingest_json_counts_and_rejections(hash_env, tmp_path, capsys):
    good = tmp_path / "in" / "news.jsonl"
    good.parent.mkdir()
    write_jsonl(good, [{"id": "a", "title": "甲", "date": "2024-05-01", "source": "昆明日报", "content": "磨憨口岸建设加快推进。"},
                       {"id": "b", "title": "乙", "content": 42}])
    code, out, err = run(capsys, "ingest", str(good), "--json")
    result = json.loads(out)
    assert code == 1
    assert result["added"] == 1 and result["updated"] == 0 and result["unchanged"] == 0
    assert result["duplicates"] == 0
    assert len(result["rejected"]) == 1
    rej = result["rejected"][0]
    assert rej["line"] == 2 and rej["path"].endswith("news.jsonl") and rej["reason"]
    assert "rejected" in err
    code, out, _ = run(capsys, "ingest", str(good.parent), "--json")
    assert json.loads(out)["unchanged"] == 1


def test_search_show_docs_delete_stats_json(hash_env, tmp_path, capsys):
    f = tmp_path / "n.jsonl"
    write_jsonl(f, [{"id": "a", "title": "磨憨口岸", "date": "2024-05-01", "source": "昆明日报", "content": "磨憨口岸建设加快推进。浙江油气落地。"},
                    {"id": "b", "title": "科技城", "date": "2023-01-01", "source": "云南网", "content": "科技城项目总投资约14亿元。"}])
    assert run(capsys, "ingest", str(f))[0] == 0
    code, out, _ = run(capsys, "search", "磨憨", "-k", "2", "--json")
    result = json.loads(out)
    assert code == 0 and result["query"] == "磨憨"
    hit = result["hits"][0]
    assert set(hit) == {"doc_id", "chunk_id", "score", "title", "date", "source", "url", "text", "start", "end"}
    assert hit["doc_id"] == "a"
    code, out, _ = run(capsys, "search", "项目", "--source", "云南网", "--json")
    assert {h["doc_id"] for h in json.loads(out)["hits"]} == {"b"}
    code, out, _ = run(capsys, "search", "项目", "--since", "2024", "--json")
    assert {h["doc_id"] for h in json.loads(out)["hits"]} <= {"a"}

    batch = tmp_path / "q.jsonl"
    write_jsonl(batch, [{"id": "q1", "text": "磨憨"}, {"_id": "q2", "query": "科技城投资"}])
    code, out, _ = run(capsys, "search", "--batch", str(batch), "-k", "1")
    lines = [json.loads(x) for x in out.splitlines()]
    assert [x["id"] for x in lines] == ["q1", "q2"] and lines[1]["hits"][0]["doc_id"] == "b"

    code, out, _ = run(capsys, "show", "a", "--json")
    doc = json.loads(out)
    assert doc["normalized"] == "磨憨口岸建设加快推进。浙江油气落地。" and doc["original"]
    code, out, _ = run(capsys, "docs", "--json")
    assert [d["doc_id"] for d in json.loads(out)] == ["a", "b"]
    code, out, _ = run(capsys, "stats", "--json")
    stats = json.loads(out)
    assert stats["documents"] == 2 and stats["data_dir_from"] == "POLICYQA_DATA"
    assert run(capsys, "delete", "a")[0] == 0
    assert run(capsys, "delete", "a")[0] == 1
    assert run(capsys, "show", "a")[0] == 1


def test_data_dir_option_wins_over_env(hash_env, tmp_path, capsys):
    other = tmp_path / "other"
    code, out, _ = run(capsys, "--data-dir", str(other), "stats", "--json")
    stats = json.loads(out)
    assert stats["data_dir"] == str(other) and stats["data_dir_from"] == "--data-dir"


@pytest.mark.slow
def test_ingest_then_ask_on_the_sample_with_the_real_model(tmp_path):
    """The README's main job, as a user runs it: a fresh process, the bundled sample, a cited answer."""
    data = tmp_path / "data"
    cmd = [sys.executable, "-m", "api.cli", "--data-dir", str(data)]
    ingest = subprocess.run(cmd + ["ingest", str(SAMPLE.parent), "--json"], capture_output=True, text=True, timeout=600)
    assert ingest.returncode == 0, ingest.stderr
    assert json.loads(ingest.stdout)["added"] == 1
    ask = subprocess.run(cmd + ["ask", "哪些企业落地磨憨？", "--json"], capture_output=True, text=True, timeout=600)
    assert ask.returncode == 0, ask.stderr
    answer = json.loads(ask.stdout)
    assert answer["question"] == "哪些企业落地磨憨？" and answer["answer"]
    assert answer["citations"]
    show = subprocess.run(cmd + ["show", answer["citations"][0]["doc_id"], "--json"], capture_output=True, text=True)
    doc = json.loads(show.stdout)
    for c in answer["citations"]:
        assert set(c) >= {"n", "doc_id", "chunk_id", "title", "date", "source", "url", "quote", "start", "end",
                          "orig_start", "orig_end"}
        assert doc["normalized"][c["start"] : c["end"]] == c["quote"]
        assert c["orig_end"] > c["orig_start"]
    top3 = " ".join(c["quote"] for c in answer["citations"][:3])
    assert "浙江油气" in top3
    assert answer["citations"][0]["date"] == "2025-03-24" and answer["citations"][0]["source"] == "昆明信息港"
    human = subprocess.run(cmd + ["ask", "哪些企业落地磨憨？"], capture_output=True, text=True)
    assert human.returncode == 0 and "[1]" in human.stdout and "Sources:" in human.stdout
    lines = human.stdout.splitlines()
    for c in answer["citations"]:  # every quote whole, on one line, as in the source
        assert f"    “{c['quote']}”" in lines

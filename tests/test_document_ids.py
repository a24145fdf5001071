"""The document-id rule: an id read from a file belongs to that file.

A file's id is its path relative to the folder given (its name when the file itself is given). A file
whose id is stored from a different source file is rejected with both paths named (exit 1, the rest
stored) unless ``--replace``; ``--id-prefix`` keeps both; re-ingesting the same file updates it; explicit
ids (JSONL ``id``, HTTP POST /documents) upsert; documents stored before source paths were kept
(NULL ``source_path``) count as coming from the same file.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from api.cli import main
from api.http.routers.documents import articles_from_body
from api.http.routers.documents import ingest as http_ingest
from corpus.models import Article
from corpus.prepare import prepare
from index.embedder import EmbedderSpec
from index.store import Store, StoreError
from qa.engine import Engine

HASH = EmbedderSpec("hash", "64")


def _write(path: Path, title: str, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    return path


def _two_folders(tmp_path: Path) -> tuple[Path, Path]:
    a = _write(tmp_path / "a" / "news" / "index.txt", "甲", "磨憨口岸建设加快推进，浙江油气落地磨憨。")
    b = _write(tmp_path / "b" / "news" / "index.txt", "乙", "临港昆明科技城项目总投资约14亿元。")
    _write(tmp_path / "b" / "news" / "other.txt", "丙", "滇中新区引进新能源电池项目。")
    return a.parent, b.parent


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_file_from_another_folder_is_rejected_naming_both_paths(hash_env, tmp_path, capsys):
    a, b = _two_folders(tmp_path)
    assert run(capsys, "ingest", str(a))[0] == 0
    code, out, err = run(capsys, "ingest", str(b), "--json")
    report = json.loads(out)
    assert code == 1
    assert report["added"] == 1 and report["updated"] == 0  # other.txt: the rest of the batch is stored
    [rejected] = report["rejected"]
    assert rejected["path"] == str(b / "index.txt")
    assert str((a / "index.txt").resolve()) in rejected["reason"]
    assert str((b / "index.txt").resolve()) in rejected["reason"]
    assert report["conflicts"] == [
        {"doc_id": "index.txt", "stored_path": str((a / "index.txt").resolve()),
         "path": str((b / "index.txt").resolve())}
    ]
    assert "--replace" in err and "--id-prefix" in err
    code, out, _ = run(capsys, "show", "index.txt", "--json")
    doc = json.loads(out)
    assert doc["title"] == "甲" and doc["source_path"] == str((a / "index.txt").resolve())


def test_replace_lets_the_other_file_replace_it(hash_env, tmp_path, capsys):
    a, b = _two_folders(tmp_path)
    run(capsys, "ingest", str(a))
    code, out, _ = run(capsys, "ingest", "--replace", str(b), "--json")
    assert code == 0 and json.loads(out)["updated"] == 1
    doc = json.loads(run(capsys, "show", "index.txt", "--json")[1])
    assert doc["title"] == "乙" and doc["source_path"] == str((b / "index.txt").resolve())
    # From now on the id belongs to b's file: a's is the other one.
    assert run(capsys, "ingest", str(a))[0] == 1


def test_id_prefix_keeps_both(hash_env, tmp_path, capsys):
    a, b = _two_folders(tmp_path)
    run(capsys, "ingest", str(a))
    code, out, _ = run(capsys, "ingest", "--id-prefix", "b/", str(b), "--json")
    assert code == 0 and json.loads(out)["added"] == 2
    docs = {d["doc_id"]: d["title"] for d in json.loads(run(capsys, "docs", "--json")[1])}
    assert docs == {"index.txt": "甲", "b/index.txt": "乙", "b/other.txt": "丙"}


def test_the_same_file_still_updates_and_identical_text_elsewhere_is_still_another_file(hash_env, tmp_path, capsys):
    a, _b = _two_folders(tmp_path)
    run(capsys, "ingest", str(a))
    _write(a / "index.txt", "甲", "磨憨口岸建设加快推进，浙江油气等企业落地磨憨。")
    code, out, _ = run(capsys, "ingest", str(a), "--json")
    assert code == 0 and json.loads(out)["updated"] == 1
    assert json.loads(run(capsys, "ingest", str(a), "--json")[1])["unchanged"] == 1
    copy = tmp_path / "copy" / "news"
    copy.mkdir(parents=True)
    (copy / "index.txt").write_bytes((a / "index.txt").read_bytes())
    code, out, _ = run(capsys, "ingest", str(copy), "--json")
    assert code == 1 and json.loads(out)["conflicts"][0]["stored_path"] == str((a / "index.txt").resolve())


def test_a_single_file_argument_is_named_by_its_base_name(hash_env, tmp_path, capsys):
    a, b = _two_folders(tmp_path)
    run(capsys, "ingest", str(a / "index.txt"))
    code, out, _ = run(capsys, "ingest", str(b / "index.txt"), "--json")
    assert code == 1 and json.loads(out)["conflicts"][0]["doc_id"] == "index.txt"


def test_jsonl_records_without_id_are_bound_to_their_file_with_ids_they_upsert(hash_env, tmp_path, capsys):
    for side, body in (("a", "磨憨口岸建设加快推进。"), ("b", "科技城项目总投资约14亿元。")):
        path = tmp_path / side / "feed.jsonl"
        path.parent.mkdir()
        rows = [{"title": f"{side}1", "content": body}, {"id": "shared", "title": f"{side}2", "content": body + "又及。"}]
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    assert run(capsys, "ingest", str(tmp_path / "a"))[0] == 0
    code, out, _ = run(capsys, "ingest", str(tmp_path / "b"), "--json")
    report = json.loads(out)
    assert code == 1 and report["updated"] == 1  # "shared" is an explicit id: it upserts
    [rejected] = report["rejected"]
    assert rejected["line"] == 1 and "feed.jsonl#1" in rejected["reason"]
    doc = json.loads(run(capsys, "show", "shared", "--json")[1])
    assert doc["title"] == "b2"


def test_http_documents_upsert_over_a_file_document(tmp_path):
    engine = Engine(tmp_path / "data", HASH)
    a, _b = _two_folders(tmp_path)
    engine.ingest_paths([a])
    body = json.dumps({"id": "index.txt", "title": "网", "content": "经开区签约项目十二个。"}, ensure_ascii=False)
    result = http_ingest(engine, articles_from_body(body.encode()))
    assert result["results"] == [{"doc_id": "index.txt", "status": "updated"}]
    assert engine.store.get_document("index.txt")["source_path"] is None
    # A file with that id may take it again: a document with no known file never conflicts.
    assert engine.ingest_paths([a]).result.updated == ["index.txt"]


def _doc(doc_id: str, body: str, source_path: str | None, explicit: bool = False):
    return prepare(Article(doc_id=doc_id, text=body, title="题", source_path=source_path, id_explicit=explicit))


def test_store_plan_reports_conflicts_and_write_replace_overrides(tmp_path):
    store = Store(tmp_path / "data", HASH)
    store.write([_doc("x", "第一篇文章的正文。", "/in/a/x.txt")])
    todo, planned = store.plan([_doc("x", "第二篇文章的正文。", "/in/b/x.txt"), _doc("y", "另一篇。", "/in/b/y.txt")])
    assert [d.doc_id for d in todo] == ["y"]
    assert planned.conflicts == [("x", "/in/a/x.txt", "/in/b/x.txt")]
    result = store.write([_doc("x", "第二篇文章的正文。", "/in/b/x.txt"), _doc("y", "另一篇。", "/in/b/y.txt")])
    assert result.added == ["y"] and result.conflicts == [("x", "/in/a/x.txt", "/in/b/x.txt")]
    assert store.get_document("x")["normalized"] == "第一篇文章的正文。"
    # --replace with the same text still moves the document to the new file.
    result = store.write([_doc("x", "第一篇文章的正文。", "/in/b/x.txt")], replace=True)
    assert result.updated == ["x"] and store.get_document("x")["source_path"] == "/in/b/x.txt"
    assert store.write([_doc("x", "显式编号覆盖。", "/in/c/feed.jsonl", explicit=True)]).updated == ["x"]


def test_old_catalogs_are_refused_and_unknown_paths_count_as_the_same_file(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    old = sqlite3.connect(data / "catalog.sqlite")  # the whole-corpus-generation layout, before segments
    old.executescript("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                      "CREATE TABLE documents (doc_id TEXT PRIMARY KEY);")
    old.close()
    with pytest.raises(StoreError, match="older policyqa"):
        Store(data, HASH)
    store = Store(tmp_path / "new", HASH)
    store.write([_doc("x", "旧版本存下的文章。", "/in/a/x.txt")])
    store._conn().execute("UPDATE documents SET source_path = NULL")  # as an older version stored it
    assert store.write([_doc("x", "同一编号的新正文。", "/in/b/x.txt")]).updated == ["x"]
    assert store.get_document("x")["source_path"] == "/in/b/x.txt"
    assert store.write([_doc("x", "第三次。", "/in/a/x.txt")]).conflicts == [("x", "/in/b/x.txt", "/in/a/x.txt")]

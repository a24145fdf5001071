"""read_paths over .txt/.md/.jsonl/.html files and folders: ids, rejections, caps."""

from __future__ import annotations

import json
import shutil
import tracemalloc
from pathlib import Path

import pytest

from corpus import encoding
from corpus.models import Article, Rejection
from corpus.readers import read_paths

FIXTURES = Path(__file__).parent / "fixtures" / "readers"
SAMPLE = Path(__file__).parents[1] / "corpus" / "samples" / "kunming" / "kunming-industry-transfer-2025-03-24.txt"
BODY = "昆明市加快推进承接产业转移园区建设，推动跨区域产业协调发展。"


def _read(*paths: Path | str, root: Path | None = None) -> list[Article | Rejection]:
    return list(read_paths(list(paths), root=root))


def _one(*paths: Path | str) -> Article | Rejection:
    items = _read(*paths)
    assert len(items) == 1, items
    return items[0]


def _article(*paths: Path | str) -> Article:
    item = _one(*paths)
    assert isinstance(item, Article), item
    return item


def _rejection(*paths: Path | str) -> Rejection:
    item = _one(*paths)
    assert isinstance(item, Rejection), item
    return item


# --- text and markdown ------------------------------------------------------------------------------


def test_bundled_sample() -> None:
    article = _article(SAMPLE)
    text = SAMPLE.read_text(encoding="utf-8")
    assert article.doc_id == SAMPLE.name
    assert article.text == text
    assert (article.title, article.date, article.source) == (
        "抢抓机遇协调发展 有序承接产业梯度转移",
        "2025-03-24",
        "昆明信息港",
    )
    assert text[article.body_start] == "習"
    assert article.path == str(SAMPLE) and article.line is None and article.warnings == []


@pytest.mark.parametrize(
    ("codec", "text"),
    [
        ("gbk", f"承接产业转移\n时间：2025年3月24日\n来源：昆明日报\n{BODY}"),
        ("gb18030", f"承接产业转移\n时间：2025年3月24日\n来源：昆明日报\n{BODY}"),
        ("big5", "承接產業轉移\n時間：2025年3月24日\n來源：昆明日報\n昆明市加快推進承接產業轉移園區建設。"),
        ("utf-8-sig", f"承接产业转移\n时间：2025年3月24日\n来源：昆明日报\n{BODY}"),
    ],
)
def test_undeclared_encodings(tmp_path: Path, codec: str, text: str) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(text.encode(codec))
    article = _article(path)
    assert article.text == text
    assert (article.title, article.date, article.source) == ("承接产业转移", "2025-03-24", "昆明日报")
    assert article.text[article.body_start :].startswith("昆明市")


def test_markdown(tmp_path: Path) -> None:
    path = tmp_path / "note.md"
    path.write_text(
        "# 产业转移\n\n- 来源: 昆明日报\n- 链接: https://example.cn/a\n\n" + BODY, encoding="utf-8"
    )
    article = _article(path)
    assert (article.title, article.source, article.url) == ("产业转移", "昆明日报", "https://example.cn/a")
    assert article.doc_id == "https://example.cn/a"  # a url from the metadata is the id
    assert article.text[article.body_start :] == BODY


def test_stray_bad_bytes_are_kept_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(f"标题\n{BODY}".encode() + b"\xff" + BODY.encode())
    article = _article(path)
    assert article.text.count("\ufffd") == 1
    assert len(article.warnings) == 1 and "1 undecodable byte sequence" in article.warnings[0]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b" \n\t\r\n", "only whitespace"),
        ("\u3000\n".encode(), "only whitespace"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file (a PNG image)"),
        (b"\x00\x01\x02" * 100, "binary file"),
        ("标题\n来源：新华社\n".encode(), "no body text"),
    ],
)
def test_text_rejections(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(content)
    rejection = _rejection(path)
    assert reason in rejection.reason
    assert rejection.path == str(path) and rejection.line is None


@pytest.mark.parametrize("suffix", [".txt", ".html"])
def test_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str) -> None:
    monkeypatch.setattr(encoding, "MAX_FILE_BYTES", 1000)
    path = tmp_path / f"big{suffix}"
    path.write_text("标题\n" + "正文" * 400, encoding="utf-8")
    assert "file too large" in _rejection(path).reason


# --- paths, folders and ids -------------------------------------------------------------------------


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    for rel in ["b.txt", "a/z.txt", "a/b.md", ".hidden.txt", ".git/x.txt", "a/.cache/y.txt"]:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{rel}\n{BODY}", encoding="utf-8")
    (root / "a" / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (root / "notes.pdf").write_bytes(b"%PDF-1.7")
    return root


def test_folders_are_walked_sorted_skipping_hidden_and_unsupported(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    items = _read(root)
    assert all(isinstance(item, Article) for item in items)
    assert [item.doc_id for item in items] == ["a/b.md", "a/z.txt", "b.txt"]
    assert items[0].path == str(root / "a" / "b.md")


def test_unsupported_files_in_folders_are_listed_as_skipped(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    skipped: list[str] = []
    items = list(read_paths([root], skipped=skipped))
    assert len(items) == 3
    assert skipped == [str(root / "a" / "image.png"), str(root / "notes.pdf")]  # hidden ones are not listed


def test_articles_record_their_absolute_source_path_and_take_an_id_prefix(tmp_path: Path, monkeypatch) -> None:
    root = _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    items = list(read_paths(["corpus/a"], id_prefix="x/"))
    assert [a.doc_id for a in items] == ["x/b.md", "x/z.txt"]
    assert [a.source_path for a in items] == [str(root / "a" / "b.md"), str(root / "a" / "z.txt")]
    assert not any(a.id_explicit for a in items)


def test_file_argument_id_is_its_name_and_root_overrides(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    assert _article(root / "a" / "z.txt").doc_id == "z.txt"
    assert [a.doc_id for a in _read(root / "a" / "z.txt", root=root)] == ["a/z.txt"]
    assert [a.doc_id for a in _read(root / "a", root=root)] == ["a/b.md", "a/z.txt"]
    outside = tmp_path / "outside.txt"
    outside.write_text(f"题\n{BODY}", encoding="utf-8")
    assert _read(outside, root=root)[0].doc_id == "outside.txt"


def test_single_path_string_is_accepted(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    assert [a.doc_id for a in read_paths(str(root / "b.txt"))] == ["b.txt"]


def test_bad_arguments_are_rejections(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    missing, pdf = _read(tmp_path / "missing.txt", root / "notes.pdf")
    assert isinstance(missing, Rejection) and "no such file" in missing.reason
    assert isinstance(pdf, Rejection) and "unsupported file type '.pdf'" in pdf.reason


def test_duplicate_ids(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for folder in (one, two):
        folder.mkdir()
        (folder / "same.txt").write_text(f"题\n{BODY}", encoding="utf-8")
    first, second = _read(one, two)
    assert isinstance(first, Article) and first.doc_id == "same.txt"
    assert isinstance(second, Rejection)
    assert second.reason == f"duplicate id 'same.txt' (first seen at {one / 'same.txt'})"
    assert second.path == str(two / "same.txt")


def test_same_file_twice_is_a_duplicate(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(f"题\n{BODY}", encoding="utf-8")
    first, second = _read(path, path)
    assert isinstance(first, Article) and isinstance(second, Rejection)


def test_a_crashing_reader_becomes_a_rejection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import corpus.readers as readers

    def boom(path: Path, rel: str):
        raise RuntimeError("boom")
        yield

    monkeypatch.setitem(readers.READERS, ".txt", boom)
    path = tmp_path / "a.txt"
    path.write_text(BODY, encoding="utf-8")
    assert "unexpected error reading file: RuntimeError: boom" in _rejection(path).reason


# --- JSONL ------------------------------------------------------------------------------------------


def test_jsonl_fixture_good_and_bad_lines() -> None:
    items = _read(FIXTURES / "articles.jsonl")
    by_line = {item.line: item for item in items}
    assert sorted(by_line) == [1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12]  # line 3 is blank
    good = {line: item for line, item in by_line.items() if isinstance(item, Article)}
    assert {line: a.doc_id for line, a in good.items()} == {
        1: "kmxxg-001",
        2: "kmxxg-002",
        4: "https://www.kunming.cn/a/3",
        5: "articles.jsonl#5",
        12: "odd-date",
    }
    assert (good[1].title, good[1].date, good[1].source, good[1].url) == (
        "昆明承接产业转移",
        "2025-03-24",
        "昆明信息港",
        "https://www.kunming.cn/a/1",
    )
    assert good[1].text == "昆明市加快推进承接产业转移园区建设。" and good[1].body_start == 0
    assert good[2].text.startswith("磨憨") and good[2].date == "2025-03-25"  # "text" field, Chinese date
    assert (
        good[4].date == "2025-03-26"
        and good[4].title == "无ID的记录"
        and good[4].text == "只有網址，沒有編號。"
    )
    assert good[12].date is None and good[12].warnings == ["line 12: unparseable date '上个月'"]
    reasons = {line: item.reason for line, item in by_line.items() if isinstance(item, Rejection)}
    assert reasons[6].startswith("invalid JSON")
    assert reasons[7] == "line is a JSON array, not an object"
    assert reasons[8] == "field 'content' must be a string, got number"
    assert reasons[9] == "field 'title' must be a string, got array"
    assert reasons[10] == "field 'content' is empty"
    assert reasons[11] == "missing field 'content' (or 'text')"


def _jsonl(path: Path, *lines: object, codec: str = "utf-8") -> Path:
    text = "\n".join(
        line if isinstance(line, str) else json.dumps(line, ensure_ascii=False) for line in lines
    )
    path.write_bytes(text.encode(codec))
    return path


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"id": ["x"], "content": BODY}, "field 'id' must be a string or an integer, got array"),
        ({"id": True, "content": BODY}, "field 'id' must be a string or an integer, got boolean"),
        ({"id": " ", "content": BODY}, "field 'id' is empty"),
        ({"content": BODY, "date": 20250324}, "field 'date' must be a string, got number"),
        ({"content": BODY, "url": {"href": "x"}}, "field 'url' must be a string, got object"),
        ({"text": ["段落"]}, "field 'text' must be a string, got array"),
        ("null", "line is a JSON null, not an object"),
        ('"just a string"', "line is a JSON string, not an object"),
        ("[" * 100_000 + "]" * 100_000, "invalid JSON: nested too deeply"),
        ('{"content": "x"', "invalid JSON"),
    ],
)
def test_jsonl_field_errors(tmp_path: Path, record: object, reason: str) -> None:
    good, rejection = _read(_jsonl(tmp_path / "a.jsonl", {"id": "ok", "content": BODY}, record))
    assert isinstance(good, Article) and isinstance(rejection, Rejection)
    assert rejection.line == 2
    assert rejection.reason.startswith(reason)


def test_jsonl_integer_ids_and_null_fields(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "a.jsonl", {"id": 7, "title": None, "content": None, "text": BODY})
    article = _article(path)
    assert (article.doc_id, article.title, article.text) == ("7", "", BODY)


def test_jsonl_ids_are_explicit_only_when_the_record_names_one(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "a.jsonl", {"id": "x", "content": BODY}, {"url": "https://e.cn/1", "content": BODY + "甲"},
                  {"content": BODY + "乙"})
    items = _read(path)
    assert [(a.doc_id, a.id_explicit) for a in items] == [("x", True), ("https://e.cn/1", False), ("a.jsonl#3", False)]
    assert {a.source_path for a in items} == {str(path.resolve())}


def test_jsonl_duplicate_ids_name_the_first_line(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "a.jsonl", {"id": "x", "content": BODY}, "", {"_id": "x", "content": BODY})
    first, second = _read(path)
    assert isinstance(first, Article) and first.line == 1
    assert isinstance(second, Rejection) and second.line == 3
    assert second.reason == f"duplicate id 'x' (first seen at {path}:1)"


def test_jsonl_blank_only_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text("\n  \n\n", encoding="utf-8")
    assert "empty file" in _rejection(path).reason


@pytest.mark.parametrize("codec", ["gbk", "big5", "utf-8-sig"])
def test_jsonl_undeclared_encodings(tmp_path: Path, codec: str) -> None:
    body = "昆明市加快推進承接產業轉移園區建設。" if codec == "big5" else BODY
    path = _jsonl(
        tmp_path / "a.jsonl", {"id": "1", "content": body}, {"id": "2", "content": body}, codec=codec
    )
    assert [a.text for a in _read(path)] == [body, body]


def test_jsonl_ascii_head_then_gbk_lines(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    ascii_line = json.dumps(
        {"id": "1", "content": "\u6b63\u6587", "pad": "x" * 70_000}
    )  # escaped, ASCII only
    path.write_bytes(
        ascii_line.encode()
        + b"\n"
        + json.dumps({"id": "2", "content": BODY}, ensure_ascii=False).encode("gbk")
    )
    first, second = _read(path)
    assert (first.text, second.text) == ("正文", BODY)


def test_jsonl_undecodable_line_is_rejected_alone(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    garbage = b"\xff\xfb\xfd\xfc\x80\x81" * 50
    path.write_bytes(
        b'{"id": "' + garbage + b'", "content": "x"}\n' + json.dumps({"id": "2", "content": BODY}).encode()
    )
    first, second = _read(path)
    assert isinstance(first, Rejection) and first.line == 1 and "cannot decode" in first.reason
    assert isinstance(second, Article) and second.text == BODY


def test_empty_path_argument_is_rejected() -> None:
    assert _rejection("").reason == "empty path"


def test_jsonl_binary_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 50)
    rejection = _rejection(path)
    assert "binary file" in rejection.reason and rejection.line is None


def test_jsonl_line_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encoding, "MAX_LINE_BYTES", 200)
    monkeypatch.setattr(encoding, "MAX_LINE_CHARS", 50)
    path = _jsonl(
        tmp_path / "a.jsonl",
        {"id": "a", "content": "短"},
        {"id": "b", "content": "x" * 500},  # over the byte bound
        {"id": "c", "content": "长" * 55},  # under the byte bound, over the character cap
        {"id": "d", "content": "短"},
    )
    items = _read(path)
    assert [type(i).__name__ for i in items] == ["Article", "Rejection", "Rejection", "Article"]
    assert [i.line for i in items] == [1, 2, 3, 4]
    assert "MAX_LINE_BYTES" in items[1].reason and "MAX_LINE_CHARS" in items[2].reason


def _huge_line_file(path: Path, megabytes: int) -> Path:
    with open(path, "wb") as handle:
        handle.write(b'{"id": "a", "content": "ok"}\n{"id": "huge", "content": "')
        chunk = b"x" * (1 << 20)
        for _ in range(megabytes):
            handle.write(chunk)
        handle.write(b'"}\n{"id": "b", "content": "ok"}\n')
    return path


@pytest.mark.parametrize("line_bytes", [None, 1 << 20])
def test_jsonl_fifty_megabyte_line_does_not_blow_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line_bytes: int | None
) -> None:
    if line_bytes:
        monkeypatch.setattr(encoding, "MAX_LINE_BYTES", line_bytes)
    path = _huge_line_file(tmp_path / "huge.jsonl", 50)
    tracemalloc.start()
    try:
        items = _read(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [i.line for i in items] == [1, 2, 3]
    assert isinstance(items[1], Rejection) and "MAX_LINE_BYTES" in items[1].reason
    assert isinstance(items[2], Article) and items[2].doc_id == "b"
    # Reading one line up to the bound may briefly hold it twice; never the whole 50 MB line.
    assert peak < 2 * encoding.MAX_LINE_BYTES + (2 << 20)


# --- HTML -------------------------------------------------------------------------------------------


def test_html_extraction_dependencies_are_installed() -> None:
    """jusText (through trafilatura) needs lxml.html.clean, a separate package since lxml 5.2: without it
    every HTML page is rejected. Declared in pyproject.toml; this fails (never skips) where it is missing."""
    import lxml.html.clean  # noqa: F401

    assert isinstance(_one(FIXTURES / "kunming-news.html"), Article)


def test_html_fixture() -> None:
    path = FIXTURES / "kunming-news.html"
    article = _article(path)
    assert article.title == "抢抓机遇协调发展 有序承接产业梯度转移"
    assert article.date == "2025-03-24"
    assert article.url == "https://www.kunming.cn/news/c/2025-03-24/14012345.shtml"
    assert article.doc_id == article.url
    assert article.source == "昆明信息港"
    assert article.raw == path.read_text(encoding="utf-8")
    assert article.text.startswith("习近平总书记在云南考察时强调")
    assert "实现全市产业“一盘棋”发展" in article.text
    for boilerplate in ["版权所有", "ICP备", "关于我们", "客户端下载", "当前位置", "热点新闻", "_hmt"]:
        assert boilerplate not in article.text
    assert article.body_start == 0


def test_html_in_gbk_without_declaration_and_without_canonical(tmp_path: Path) -> None:
    html = (FIXTURES / "kunming-news.html").read_text(encoding="utf-8")
    html = html.replace('<meta charset="utf-8">\n', "").replace('<link rel="canonical"', '<link rel="x"')
    html = html.replace('<meta property="og:url"', "")
    path = tmp_path / "page.htm"
    path.write_bytes(html.encode("gbk"))
    article = _article(path)
    assert article.doc_id == "page.htm"
    assert article.text.startswith("习近平总书记")


@pytest.mark.parametrize(
    "html",
    [
        "<html><head><script>var a = 1;</script></head><body><script>document.write('x')</script></body></html>",
        "<html><body></body></html>",
        "<html><body>" + "<div>" * 50_000 + "深" + "</div>" * 50_000 + "</body></html>",
    ],
    ids=["script-only", "empty-body", "deep-nesting"],
)
def test_html_without_main_text_is_rejected(tmp_path: Path, html: str) -> None:
    path = tmp_path / "a.html"
    path.write_text(html, encoding="utf-8")
    assert "no main text" in _rejection(path).reason


@pytest.mark.parametrize(
    ("error", "reason"),
    [(RecursionError("too deep"), "nested too deeply"), (ValueError("bad tree"), "ValueError: bad tree")],
)
def test_html_extractor_failures_are_rejections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception, reason: str
) -> None:
    import trafilatura

    def fail(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(trafilatura, "bare_extraction", fail)
    path = tmp_path / "a.html"
    shutil.copy(FIXTURES / "kunming-news.html", path)
    assert reason in _rejection(path).reason


def test_fixture_folder_mixes_formats() -> None:
    items = _read(FIXTURES)
    paths = {Path(i.path).name for i in items}
    assert paths == {"articles.jsonl", "kunming-news.html"}
    assert sum(isinstance(i, Article) for i in items) == 6

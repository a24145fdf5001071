"""Title and metadata lines of .txt/.md articles."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.metadata import MAX_TITLE_CHARS, Header, parse_date, parse_header
from corpus.normalize import normalize

SAMPLE = Path(__file__).parents[1] / "corpus" / "samples" / "kunming" / "kunming-industry-transfer-2025-03-24.txt"


def test_bundled_sample_header() -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    header = parse_header(text)
    assert header.title == "抢抓机遇协调发展 有序承接产业梯度转移"
    assert header.date == "2025-03-24"
    assert header.source == "昆明信息港"
    assert header.url is None
    assert text[header.body_start] == "習"
    assert normalize(text[header.body_start :]).text.startswith("习近平总书记在云南考察时强调")
    assert "瀏覽" in text[: header.body_start]
    assert header.warnings == []


@pytest.mark.parametrize(
    "value",
    [
        "2025-03-24",
        "2025/3/24",
        "2025.03.24",
        "2025年3月24日",
        "2025年03月24日 10:30",
        "2025-03-24 08:30:00",
        "2025-03-24T08:30:00+08:00",
        "２０２５年３月２４日",
        "20250324",
        "发布于 2025-3-24 星期一",
    ],
)
def test_dates_become_iso(value: str) -> None:
    assert parse_date(value) == "2025-03-24"


@pytest.mark.parametrize("value", ["", "上个月", "2025-02-30", "2025-13-01", "24/03/2025", "12345"])
def test_bad_dates_are_none(value: str) -> None:
    assert parse_date(value) is None


def _body(text: str, header: Header) -> str:
    return text[header.body_start :]


def test_traditional_labels_with_full_width_colons() -> None:
    text = "標題行\n發佈時間：2025年3月4日\n來源：人民網\n原文鏈接：https://example.com/a?b=1&c=%E4\n\n正文第一段。"
    header = parse_header(text)
    assert (header.title, header.date, header.source) == ("标题行", "2025-03-04", "人民网")
    assert header.url == "https://example.com/a?b=1&c=%E4"
    assert _body(text, header) == "正文第一段。"


def test_several_fields_on_one_line_and_markdown_heading() -> None:
    text = (
        "# 标题一\n\n发布时间：2025年3月24日 10:30  来源：新华社 | 作者：张三  浏览：25\n\n正文。\n第二段。"
    )
    header = parse_header(text)
    assert (header.title, header.date, header.source, header.author) == (
        "标题一",
        "2025-03-24",
        "新华社",
        "张三",
    )
    assert _body(text, header) == "正文。\n第二段。"


def test_bullets_bold_labels_and_indented_body() -> None:
    text = "\n\n  标题  \n- **来源**：新华社\n* 日期: 20250324\n　　正文缩进"
    header = parse_header(text)
    assert (header.title, header.source, header.date) == ("标题", "新华社", "2025-03-24")
    assert _body(text, header) == "正文缩进"


def test_line_starting_with_a_date() -> None:
    text = "标题\n2025-03-24 08:00 来源：云南日报\n正文"
    header = parse_header(text)
    assert (header.title, header.date, header.source) == ("标题", "2025-03-24", "云南日报")
    assert _body(text, header) == "正文"


def test_a_body_sentence_starting_with_a_date_is_body() -> None:
    text = "标题\n2025年3月24日，昆明市召开会议。"
    header = parse_header(text)
    assert header.date is None
    assert _body(text, header) == "2025年3月24日，昆明市召开会议。"


def test_crlf_line_endings() -> None:
    text = "标题\r\n来源：新华社\r\n\r\n正文一\r\n正文二\r\n"
    header = parse_header(text)
    assert (header.title, header.source) == ("标题", "新华社")
    assert _body(text, header) == "正文一\r\n正文二\r\n"


@pytest.mark.parametrize("text", ["标题\n=====\n正文", "## 标题 ##\n正文", "标题\n---\n正文"])
def test_markdown_heading_forms(text: str) -> None:
    header = parse_header(text)
    assert header.title == "标题"
    assert _body(text, header) == "正文"


def test_front_matter() -> None:
    text = (
        '---\ntitle: "前言标题"\ndate: 2025.03.24\nsource: 昆明日报\nurl: https://x.cn/1\n---\n# 标题\n正文'
    )
    header = parse_header(text)
    assert (header.title, header.date, header.source, header.url) == (
        "前言标题",
        "2025-03-24",
        "昆明日报",
        "https://x.cn/1",
    )
    assert _body(text, header) == "正文"


def test_no_metadata_lines() -> None:
    text = "标题\n正文一\n正文二"
    header = parse_header(text)
    assert header.title == "标题" and header.date is None
    assert _body(text, header) == "正文一\n正文二"


def test_single_line_is_body_without_title() -> None:
    text = "只有一行正文，没有标题。\n"
    header = parse_header(text)
    assert header.title == ""
    assert header.body_start == 0


def test_overlong_first_line_is_body() -> None:
    text = "很长" * MAX_TITLE_CHARS + "\n第二段"
    header = parse_header(text)
    assert header.title == "" and header.body_start == 0


def test_metadata_first_line_means_no_title() -> None:
    text = "来源：新华社\n正文"
    header = parse_header(text)
    assert (header.title, header.source) == ("", "新华社")
    assert _body(text, header) == "正文"


def test_metadata_without_body() -> None:
    text = "标题\n- 来源:xx\n"
    header = parse_header(text)
    assert header.source == "xx"
    assert _body(text, header).strip() == ""


def test_unparseable_date_is_a_warning() -> None:
    header = parse_header("标题\n时间：明天上午\n正文")
    assert header.date is None
    assert header.warnings == ["unparseable date '明天上午'"]


def test_label_without_colon_is_body() -> None:
    text = "标题\n时间过得真快，转眼又是一年。"
    assert _body(text, parse_header(text)) == "时间过得真快，转眼又是一年。"


def test_huge_text_only_the_head_is_parsed() -> None:
    body = "正文内容。" * 400_000 + "\n"
    text = "标题\n来源：新华社\n" + body * 3
    header = parse_header(text)
    assert header.source == "新华社"
    assert text[header.body_start :] == body * 3


def test_empty_text() -> None:
    assert parse_header("") == Header(body_start=0)


@settings(max_examples=150, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("标题时间来源:：-# \n\t　2025年3月24日abc(jī)機遇")), max_size=80)
)
def test_body_start_is_always_inside_the_text(text: str) -> None:
    header = parse_header(text)
    assert 0 <= header.body_start <= len(text)
    assert "\n" not in header.title

"""The shared citation text (api.citation_text): whole quotes, spans, and the order citations are listed in."""

from __future__ import annotations

from api.citation_text import citation_lines, citation_order, cited_answer_text, sources_text
from api.render import render_answer


def cite(n: int, score: float, quote: str = "", **extra) -> dict:
    return {"n": n, "doc_id": f"d{n}.txt", "chunk_id": f"d{n}#0", "title": f"标题{n}", "date": "2025-03-24",
            "source": "昆明信息港", "url": None, "quote": quote or f"第{n}句。", "start": 10 * n, "end": 10 * n + 5,
            "orig_start": 20 * n, "orig_end": 20 * n + 9, "score": score, **extra}


def test_a_citation_is_three_lines_with_its_span_and_whole_quote():
    long_quote = "磨憨中铁广场、数字经济产业园等重点项目加快推进," * 12  # far wider than any terminal
    lines = citation_lines(cite(1, 1.0, long_quote))
    assert lines == [
        "[1] 标题1 — 2025-03-24 · 昆明信息港 · d1.txt",
        "    chars 10-15 (original 20-29)",
        f"    “{long_quote}”",
    ]


def test_a_line_break_inside_a_quote_becomes_a_space_and_nothing_else_changes():
    assert citation_lines(cite(1, 1.0, "甲  乙\n丙"))[2] == "    “甲  乙 丙”"


def test_untitled_and_bare_citations_still_render():
    bare = {"n": 2, "title": "", "quote": "x", "start": 0, "end": 1}
    assert citation_lines(bare) == ["[2] (untitled)", "    chars 0-1", "    “x”"]


def test_citations_are_listed_as_the_answer_cites_them_then_by_score():
    cs = [cite(1, 0.5), cite(2, 3.0), cite(3, 1.0), cite(4, 2.0)]
    order = [c["n"] for c in citation_order("甲 [3]；乙 [1]。依据：…[3]", cs)]
    assert order == [3, 1, 2, 4]
    assert [c["n"] for c in citation_order("no markers", cs)] == [2, 4, 3, 1]
    assert [c["n"] for c in citation_order("cites [9] which is not there [2]", cs)] == [2, 4, 3, 1]


def test_sources_text_heading_says_whether_it_is_an_answer():
    cs = [cite(1, 1.0)]
    assert sources_text("x [1]", cs).startswith("Sources:\n[1] ")
    assert sources_text("x", cs, found=False).startswith("Nearest passages (not an answer):\n[1] ")
    assert sources_text("x", []) == ""


def test_cli_and_chat_print_the_same_citations():
    answer = {"answer": "浙江油气 [2]。依据：…[2]", "found": True, "citations": [cite(1, 2.0), cite(2, 1.0)],
              "items": [{"text": "浙江油气", "citation": 2}]}
    chat = cited_answer_text(answer)
    cli = render_answer(answer)
    sources = chat.split("\n\n", 1)[1]
    assert sources.startswith("Sources:\n[2] ") and cli.endswith(sources)
    assert sources.index("[2] 标题2") < sources.index("[1] 标题1")

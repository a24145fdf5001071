"""Typed, cited answers on the sample article with the real model: items, spans, honest not-found."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.slow


def check_contract(engine, answer) -> None:
    """Every citation quotes its document exactly; every item sits inside its cited document."""
    d = answer.as_dict()
    assert set(d) >= {"question", "answer", "citations", "type", "found", "items"}
    for c in answer.citations:
        doc = engine.store.get_document(c.doc_id)
        assert doc["normalized"][c.start : c.end] == c.quote
        assert 0 <= c.orig_start < c.orig_end <= len(doc["original"])
    numbers = {c.n for c in answer.citations}
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    for it in answer.items:
        assert it["citation"] in numbers
        cited = answer.citations[it["citation"] - 1]
        doc = engine.store.get_document(cited.doc_id)
        assert doc["normalized"][it["start"] : it["end"]] == it["text"]
    for n in re.findall(r"\[(\d+)\]", answer.answer):
        assert int(n) in numbers


@pytest.mark.parametrize(
    ("question", "qtype", "expected"),
    [
        ("哪些企业落地磨憨？", "list", {"浙江油气", "经纬先达", "欧瑞照明"}),
        ("哪些企業落地磨憨？", "list", {"浙江油气", "经纬先达", "欧瑞照明"}),
        ("Which firms landed in Mohan?", "list", {"浙江油气", "经纬先达", "欧瑞照明"}),
        ("沪滇临港昆明科技城总投资多少？", "quantity", {"约14亿元"}),
        ("How much is the total investment of the Lingang Kunming science city?", "quantity", {"约14亿元"}),
        ("昆明何时托管磨憨镇？", "time", {"2022年4月"}),
        ("When did Kunming take over Mohan town?", "time", {"2022年4月"}),
        # no translation of "take over" is in the text (托管), "administration" -> 管理 is, in a 2024 sentence
        ("When did Kunming take over the administration of Mohan town?", "time", {"2022年4月"}),
    ],
)
def test_typed_answers(sample_engine, question, qtype, expected):
    answer = sample_engine.ask(question)
    check_contract(sample_engine, answer)
    assert answer.type == qtype and answer.found
    assert {it["text"] for it in answer.items} == expected
    assert all(it["citation"] == 1 for it in answer.items)  # the passage it rests on is cited first
    for text in expected:
        assert text in answer.answer and "[1]" in answer.answer


def test_other_question_answers_with_sentences(sample_engine):
    answer = sample_engine.ask("“1+2+N”体系是什么？")
    check_contract(sample_engine, answer)
    assert answer.type == "other" and answer.found and answer.items == []
    assert "1个核心文件" in answer.answer and "[1]" in answer.answer


@pytest.mark.parametrize("question", ["深圳前海有哪些企业落户？", "What is the weather in Paris today?",
                                      "新冠疫苗接种率是多少？"])
def test_unanswerable_questions_say_not_found(sample_engine, question):
    answer = sample_engine.ask(question)
    check_contract(sample_engine, answer)
    assert answer.found is False and answer.items == []
    assert answer.citations  # the nearest passages are still returned, marked as such

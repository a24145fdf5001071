"""Question and function words (index/question_words.py): never a query term, a distinctive term, or coverage."""

from __future__ import annotations

import pytest

from index.question_words import QUESTION_WORDS, ZH_TIME_PHRASES, mask_question_words
from index.tokenizer import tokenize_query
from qa.extract import Sentence
from qa.question_type import QuestionType, classify
from qa.search import Hit, QueryPlan
from qa.support import MIN_COVERAGE, distinctive_terms, judge_support, term_coverage

# Each: a question, and what is left of it once its question and function words are gone.
WHEN = [
    ("管理办法什么时候开始实施？", "时候"),
    ("管理办法几月份开始实施", "月份"),
    ("管理办法是哪一年开始实施的", "一年"),
    ("管理办法何时开始实施", "何时"),
    ("管理办法在什么时间开始实施", "时间"),
    ("管理办法啥时候开始实施的呢", "时候"),
]
OTHER = [
    ("托管多久了", "多久"),
    ("一共落地了几个项目", "几个"),
    ("有多少家企业签约", "多少"),
    ("是否已经开始实施", "是否"),
    ("为什么要承接产业转移", "为什么"),
    ("怎样承接产业转移", "怎样"),
]


@pytest.mark.parametrize(("question", "word"), WHEN + OTHER)
def test_question_words_are_no_query_term(question, word):
    tokens = tokenize_query(question)
    assert not any(word in t for t in tokens), tokens
    assert not set(tokens) & QUESTION_WORDS


@pytest.mark.parametrize(("question", "word"), WHEN + OTHER)
def test_question_words_are_never_distinctive(question, word):
    terms = distinctive_terms(question)
    assert not any(word in t or t in word for t in terms), terms


def test_no_bigram_straddles_a_question_or_function_word():
    tokens = tokenize_query("管理办法是哪一年实施的")
    assert tokens == ["管理", "办法", "实施", "理办"]  # no 法是, 是哪, 哪一, 年实, 施的


@pytest.mark.parametrize("phrase", ZH_TIME_PHRASES)
def test_every_time_phrase_makes_a_time_question(phrase):
    assert classify(f"磨憨{phrase}通车") == QuestionType.TIME
    assert mask_question_words(f"磨憨{phrase}通车").split() == ["磨憨", "通车"]


def test_content_words_that_hold_question_characters_stay():
    assert "几内亚" in "".join(tokenize_query("几内亚铝土矿"))
    assert tokenize_query("时间表")[:1] == ["时间"]  # only 什么时间 is a question phrase
    assert "时候" in tokenize_query("这个时候的口岸")


def _hit(text: str) -> Hit:
    return Hit("d", "d#0", 1.0, "", None, None, None, text, 0, len(text), dense=0.86)


def test_a_when_question_is_found_when_the_passage_holds_its_terms():
    """The reported failure: 'passages never mention: 时候', and question words lowering coverage."""
    passage = "《重点产业协作园区管理办法》自2024年5月开始实施。"
    question = "重点产业协作园区管理办法什么时候开始实施？"
    plan = QueryPlan(question, question, tokenize_query(question), {})
    sentences = [Sentence(passage, 0, 1, 1.0)]
    vocab = {t: 5 for t in plan.tokens}  # every term in a few chunks of a large corpus
    idf = {t: 3.0 for t in plan.tokens}
    assert term_coverage(plan.tokens, idf, sentences) == 1.0 >= MIN_COVERAGE
    verdict = judge_support(plan, [_hit(passage)], sentences, idf, vocab, n_chunks=5000)
    assert verdict.found, verdict.reason


def test_a_when_question_about_something_absent_is_still_not_found():
    passage = "《重点产业协作园区管理办法》自2024年5月开始实施。"
    question = "深圳前海管理办法什么时候开始实施？"
    plan = QueryPlan(question, question, tokenize_query(question), {})
    sentences = [Sentence(passage, 0, 1, 1.0)]
    vocab = {t: 5 for t in plan.tokens} | {"深圳": 0, "前海": 0}
    idf = {t: 3.0 for t in plan.tokens}
    verdict = judge_support(plan, [_hit(passage)], sentences, idf, vocab, n_chunks=5000)
    assert not verdict.found and "时候" not in verdict.reason and "深圳" in verdict.missing

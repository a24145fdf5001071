"""Corpus-wide answers: detection, clause-level attribution, status, merging names, and the whole answer
over a small store (hash embedder)."""

from __future__ import annotations

import pytest

from corpus.models import Article
from index.embedder import EmbedderSpec
from qa.aggregate import detect
from qa.aggregate.attribute import attribute
from qa.aggregate.canonical import AliasError, Canonicalizer, load_aliases, name_key
from qa.engine import Engine
from qa.search import Filters


@pytest.mark.parametrize(
    ("question", "category", "anchors"),
    [
        ("哪些企业先后落地磨憨？", "firm", ("磨憨",)),
        ("磨憨引进了哪些项目", "project", ("磨憨",)),
        ("有哪些企业入驻了沪滇临港昆明科技城？", "firm", ("沪滇临港昆明科技城",)),
        ("滬滇臨港昆明科技城成功簽約了哪些企業？", "firm", ("沪滇临港昆明科技城",)),
    ],
)
def test_detects_corpus_wide_questions(question, category, anchors):
    spec = detect(question)
    assert spec is not None and spec.category == category and spec.anchors == anchors


@pytest.mark.parametrize(
    "question",
    [
        "磨憨有哪些优势", "哪两个园区被确立为昆明承接产业转移的核心承载区？", "磨憨的面积是多少？", "哪些企业落地了？",
        # asks for places; the firms are only what the places sent
        "From which places were the out-of-province firms that settled in Kunming's key parks recruited?",
    ],
)
def test_other_questions_keep_the_top_k_answer(question):
    assert detect(question) is None


def test_english_question_and_dates():
    spec = detect("Which companies have landed in Mohan in 2024?")
    assert spec.english and spec.foreign == ("mohan",) and (spec.since, spec.until) == ("2024", "2024")
    assert detect("Which new energy companies landed in Mohan?").foreign == ("mohan",)  # a modifier is no place
    spec = detect("2023年至2024年哪些企业落地磨憨")
    assert (spec.since, spec.until) == ("2023", "2024") and spec.stripped_question == "哪些企业落地磨憨"
    assert detect("2024年以来哪些企业落户磨憨").since == "2024" and detect("2024年以来哪些企业落户磨憨").until is None


def _names(text: str, anchor: str = "磨憨", category: str = "firm") -> dict[str, str]:
    return {m.surface: m.status for m in attribute(text, 0, (anchor,), category)}


def test_a_firm_landing_elsewhere_in_the_same_paragraph_is_not_counted():
    assert _names("寻甸特色产业园区引进了宏达钢构，磨憨则引进了星河科技。") == {"星河科技": "landed"}
    assert _names("北辰光电在玉溪高新区投产，磨憨的招商工作也在推进。") == {}
    assert _names("磨憨招商成效明显；景洪则引进了蓝天化工、白云机械等企业。") == {}


def test_a_clause_without_a_place_takes_the_place_before_it():
    assert _names("今年以来，磨憨招商成效明显。蓝湾物流、曙光医疗等12家企业相继入驻。") == {
        "蓝湾物流": "landed", "曙光医疗": "landed"}
    text = "磨憨中铁广场、数字经济产业园等重点项目加快推进，浙江油气、经纬先达等一批企业先后落地。"
    assert _names(text) == {"浙江油气": "landed", "经纬先达": "landed"}


def test_status_from_the_clause():
    assert _names("华夏电池拟落户磨憨，目前正在洽谈。") == {"华夏电池": "planned"}
    assert _names("因市场原因，青松化工已撤出磨憨。") == {"青松化工": "withdrawn"}
    assert _names("翠柏包装原计划落户磨憨，但因资金问题尚未落地。") == {"翠柏包装": "withdrawn"}
    assert _names("北辰光电在磨憨投产。") == {"北辰光电": "operating"}
    assert _names("磨憨与浙江油气签署投资协议。") == {"浙江油气": "signed"}


def test_names_merge_across_suffixes_scripts_and_aliases(tmp_path):
    assert name_key("浙江油气有限公司") == name_key("浙江油气公司") == name_key("浙江油氣") == "浙江油气"
    canon = Canonicalizer()
    groups = canon.groups(["云岭星河新能源科技有限公司", "星河新能源", "浙江油气", "星河"])
    assert groups["云岭星河新能源科技有限公司"] == groups["星河新能源"] != groups["浙江油气"]
    (tmp_path / "aliases.txt").write_text("# firms\n云岭星河新能源科技有限公司 = 云岭星河 = YLX\n", encoding="utf-8")
    canon = Canonicalizer(load_aliases(tmp_path))
    groups = canon.groups(["云岭星河新能源科技有限公司", "YLX"])
    assert groups["YLX"] == groups["云岭星河新能源科技有限公司"]
    assert canon.shown_name(["YLX"]) == "云岭星河新能源科技有限公司"
    (tmp_path / "aliases.txt").write_text("只有一个名字\n", encoding="utf-8")
    with pytest.raises(AliasError, match=r"aliases.txt:1"):
        load_aliases(tmp_path)


ARTICLES = [
    ("m1", "2024-01-15", "云岭星河新能源科技有限公司正式落户磨憨。同日，寻甸特色产业园区引进了宏达钢构。"),
    ("m2", "2024-06-18", "今年以来，磨憨招商成效明显。蓝湾物流、曙光医疗等12家企业相继入驻磨憨。"),
    ("m3", "2025-02-10", "星河新能源在磨憨的首条生产线投产。华夏电池拟落户磨憨。"),
    ("m4", "2025-05-01", "因市场原因，青松化工已撤出磨憨。"),
    ("m5", "2025-07-01", "磨憨口岸货运量持续增长，中老铁路运量再创新高。"),
    ("m6", "2025-08-01", "蓝灣物流在磨憨的仓库已经建成投用。"),
]


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    e = Engine(tmp_path_factory.mktemp("agg"), EmbedderSpec("hash", "64"))
    e.ingest_items([Article(doc_id, text, f"标题{doc_id}", date, "测试") for doc_id, date, text in ARTICLES])
    return e


def test_every_mention_of_every_article_is_returned(engine):
    answer = engine.ask("哪些企业落地磨憨？", k=1, generate=False)
    items = {it["name"]: it for it in answer.items}
    assert set(items) == {"云岭星河新能源科技有限公司", "蓝湾物流", "曙光医疗", "华夏电池", "青松化工"}
    star = items["云岭星河新能源科技有限公司"]
    assert star["status"] == "operating" and star["articles"] == 2
    assert (star["first_date"], star["last_date"]) == ("2024-01-15", "2025-02-10")
    assert [m["doc_id"] for m in star["mentions"]] == ["m1", "m3"]
    assert items["蓝湾物流"]["articles"] == 2  # 蓝灣 in Traditional merged
    assert (items["华夏电池"]["status"], items["青松化工"]["status"]) == ("planned", "withdrawn")
    assert [it["first_date"] for it in answer.items] == sorted(it["first_date"] for it in answer.items)
    agg = answer.aggregate
    assert (agg["n_items"], agg["n_articles"], agg["n_planned"], agg["n_withdrawn"]) == (3, 4, 1, 1)
    assert agg["scanned"] >= 5 and agg["truncated"] is False
    assert "共3家企业（来自4篇文章）" in answer.answer and "宏达钢构" not in answer.answer
    docs = {d: engine.store.get_document(d)["normalized"] for d in ("m1", "m2", "m3", "m4", "m6")}
    by_n = {c.n: c for c in answer.citations}
    for it in answer.items:
        for m in it["mentions"]:
            assert docs[m["doc_id"]][m["start"] : m["end"]] == m["text"]
            c = by_n[m["citation"]]
            assert c.doc_id == m["doc_id"] and c.start <= m["start"] < m["end"] <= c.end
            assert docs[c.doc_id][c.start : c.end] == c.quote


def test_year_in_the_question_filters_by_publication_date(engine):
    answer = engine.ask("2024年哪些企业落地磨憨？", generate=False)
    assert {it["name"] for it in answer.items} == {"云岭星河新能源科技有限公司", "蓝湾物流", "曙光医疗"}
    assert answer.aggregate["since"] == "2024" and "按发布日期筛选" in answer.answer
    assert all(m["date"].startswith("2024") for it in answer.items for m in it["mentions"])


def test_a_year_with_nothing_in_it_is_not_a_missing_term(engine):
    answer = engine.ask("2023年哪些企业落地磨憨？", generate=False)
    assert answer.aggregate["n_items"] == 0 and answer.aggregate["scanned"] == 0
    assert "2023" not in " ".join(answer.support.get("missing") or [])


def test_budget_truncation_is_reported(engine):
    from qa.aggregate import answer_corpus_wide

    answer = answer_corpus_wide(engine.answerer, detect("哪些企业落地磨憨？"), 5, Filters(), budget=2)
    assert answer.aggregate["scanned"] == 2 and answer.aggregate["truncated"] is True
    assert "可能还有未列出的" in answer.answer


def test_english_question_reaches_the_place_through_pinyin(engine):
    answer = engine.ask("Which companies have landed in Mohan?", generate=False)
    assert answer.aggregate["place"] == ["磨憨"]
    assert "蓝湾物流" in {it["name"] for it in answer.items}


def test_subjects_objects_and_listed_names():
    assert _names("远航科技与磨憨签订投资协议。") == {"远航科技": "signed"}
    assert _names("磨憨新增落地企业15家，包括长江电子、黄河食品等。") == {"长江电子": "landed", "黄河食品": "landed"}
    assert _names("据了解，长江电子已正式落户磨憨，黄河食品也已签约。") == {"长江电子": "landed", "黄河食品": "signed"}
    assert _names("云岭星河在磨憨开工建设二期工厂。") == {"云岭星河": "landed"}
    assert _names("近日，长江电子在景洪签约，黄河食品则落户磨憨。") == {"黄河食品": "landed"}


def test_a_signing_question_lists_the_firms_that_signed(engine):
    engine.ingest_items([Article("m7", "磨憨经开区成功签约星光数码，吸引海川冷链等企业注册。", "标题m7", "2025-09-01", "测试")])
    signed = {it["name"] for it in engine.ask("哪些企业在磨憨签约？", generate=False).items}
    assert "星光数码" in signed and "海川冷链" not in signed
    assert "海川冷链" in {it["name"] for it in engine.ask("哪些企业落地磨憨？", generate=False).items}
    engine.delete("m7")


@pytest.mark.parametrize("kind", ["local", "milvus"])
def test_aliases_file_of_the_data_directory_applies_on_every_backend(kind, tmp_path):
    """A Milvus corpus reads aliases.txt from the local data directory, as the local store does."""
    from index.backend import StoreConfig
    from tests.backends import milvus_lite_missing, require

    spec = EmbedderSpec("hash", "64")
    data = tmp_path / "data"
    data.mkdir()
    (data / "aliases.txt").write_text("华夏电池 = 华夏储能\n", encoding="utf-8")
    if kind == "milvus":
        require(milvus_lite_missing() is None, milvus_lite_missing() or "")
        from index.milvus import open_milvus_store

        store = open_milvus_store(StoreConfig(kind="milvus", data_dir=data, milvus_uri=str(tmp_path / "m.db"),
                                              milvus_prefix="alias", embedder=spec))
        e = Engine(store=store)
    else:
        e = Engine(data, spec)
    assert e.store.data_dir == data
    e.ingest_items([Article("a1", "华夏电池拟落户磨憨。", "标题a1", "2024-03-01", "测试"),
                    Article("a2", "华夏储能在磨憨的工厂投产。", "标题a2", "2025-03-01", "测试")])
    items = {it["name"]: it for it in e.ask("哪些企业落地磨憨？", generate=False).items}
    assert list(items) == ["华夏电池"] and items["华夏电池"]["articles"] == 2
    e.store.close()

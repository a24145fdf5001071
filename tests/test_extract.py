"""Answer extraction: key terms, and list / quantity / time items with exact offsets.

Documents are cut with the project's sentence splitter (``corpus.sentences``), as the answerer does, and
sentences are scored the simple way a caller might: the number of the question's key terms they contain
(English questions are scored with a Chinese paraphrase, or not at all).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.normalize import normalize
from corpus.sentences import split_sentences
from qa.extract import Item, Sentence, extract_items, key_terms
from qa.question_type import QuestionType, classify

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_NAME = "kunming-industry-transfer-2025-03-24.txt"


@pytest.fixture(scope="module")
def sample_doc() -> str:
    path = next((ROOT / "corpus" / "samples").rglob(SAMPLE_NAME))
    return normalize(path.read_text(encoding="utf-8")).text


def sentences_of(doc: str, question: str, citation: int = 1, scorer: str | None = None) -> list[Sentence]:
    """Every sentence of ``doc``, scored by how many key terms of ``scorer`` (default: the question) it holds."""
    terms = key_terms(scorer or question)
    out = [
        Sentence(doc[a:b], a, citation, float(sum(t in doc[a:b] for t in terms)))
        for a, b in split_sentences(doc)
    ]
    return sorted(out, key=lambda s: -s.score)


def ask(doc: str, question: str, scorer: str | None = None, flat: bool = False) -> list[Item]:
    sents = sentences_of(doc, question, scorer=scorer)
    if flat:
        sents = [Sentence(s.text, s.start, s.citation, 1.0) for s in sents]
    items = extract_items(question, classify(question), sents)
    for item in items:
        assert doc[item.start : item.end] == item.text, item
    return items


def texts(items: list[Item]) -> list[str]:
    return [i.text for i in items]


# ---------------------------------------------------------------------------------------------------
# split_sentences (corpus.sentences): the splitter whose sentences extraction is handed
# ---------------------------------------------------------------------------------------------------
def test_split_sentences_basic() -> None:
    text = "总投资12.92亿元。“1+2+N”体系就是出台1个核心文件！是吗？是的；完毕"
    got = [text[a:b] for a, b in split_sentences(text)]
    assert got == ["总投资12.92亿元。", "“1+2+N”体系就是出台1个核心文件！", "是吗？", "是的；", "完毕"]


def test_split_sentences_keeps_closing_quotes_and_splits_lines() -> None:
    text = "他说：“好。”然后走了。\n  第二行没有句号\n\n第三行；"
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "他说：“好。”",
        "然后走了。",
        "第二行没有句号",
        "第三行；",
    ]


def test_split_sentences_ascii_terminators_only_before_space_or_end() -> None:
    # scraped mojibake is full of "?" between Han characters: ASCII ! and ? end a sentence only before
    # whitespace, a closing quote or the end; ASCII ; always does
    text = "真的吗?是的!数字1;2;3 Hello world! OK?结束"
    got = [text[a:b] for a, b in split_sentences(text)]
    assert got == ["真的吗?是的!数字1;", "2;", "3 Hello world!", "OK?结束"]


def test_split_sentences_start() -> None:
    assert split_sentences("前" * 100 + "甲。乙", 100) == [(100, 102), (102, 103)]
    assert split_sentences("") == [] and split_sentences(" \n ") == []


def test_split_sentences_sample(sample_doc: str) -> None:
    spans = split_sentences(sample_doc)
    texts_ = [sample_doc[a:b] for a, b in spans]
    assert (
        "2022年4月,云南省委、省政府决定由昆明市托管西双版纳州磨憨镇共建国际口岸城市"
        in texts_[texts_.index(next(t for t in texts_ if t.startswith("昆明是我国面向南亚"))) + 1]
    )
    assert any("计划总投资12.92亿元" in t for t in texts_)
    assert any(
        t.endswith(
            "“1+2+N”体系,打破现有行政区域限制,有效避免区域内产业同质化竞争,达到“1+1>2”的效果,实现全市产业“一盘棋”发展。"
        )
        for t in texts_
    )


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="中文字。！？；!?;,.，“”\n 12+N", max_size=60), st.integers(0, 1000))
def test_split_sentences_properties(text: str, offset: int) -> None:
    spans = split_sentences("x" * offset + text, offset)
    last = offset
    for a, b in spans:
        assert last <= a < b <= offset + len(text)
        chunk = text[a - offset : b - offset]
        assert chunk == chunk.strip() and "\n" not in chunk
        last = b
    covered = {i for a, b in spans for i in range(a - offset, b - offset)}
    assert all(text[i].isspace() or i in covered for i in range(len(text)))


# ---------------------------------------------------------------------------------------------------
# key_terms
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("哪些企业落地磨憨？", ["企业", "落地", "磨憨"]),
        ("沪滇临港昆明科技城总投资多少？", ["沪滇", "临港", "昆明", "科技城", "总投资"]),
        ("自2024年5月以来有多少个项目落地？", ["2024年5月", "项目", "落地"]),
        ("昆明何时托管磨憨镇？", ["昆明", "托管", "磨憨镇"]),
        ("2024年工业对经济增长的贡献率是多少", ["2024年", "工业", "经济", "增长", "贡献率"]),
        ("哪幾家企業落地磨憨？", ["企业", "落地", "磨憨"]),
        ("哪些项目获得了补助", ["项目", "获得", "补助"]),
        ("Which firms landed in Mohan?", ["firms", "landed", "mohan"]),
        ("What is the 1+2+N system?", ["1+2+n", "system"]),
    ],
)
def test_key_terms(question: str, expected: list[str]) -> None:
    assert key_terms(question) == expected


# ---------------------------------------------------------------------------------------------------
# The bundled sample article
# ---------------------------------------------------------------------------------------------------
def test_list_firms_in_mohan(sample_doc: str) -> None:
    items = ask(sample_doc, "哪些企业落地磨憨？")
    assert texts(items) == ["浙江油气", "经纬先达", "欧瑞照明"]
    sentence = next(s for s in sentences_of(sample_doc, "x") if "浙江油气" in s.text)
    assert all(sentence.start <= i.start and i.end <= sentence.start + len(sentence.text) for i in items)
    assert {i.citation for i in items} == {1}


@pytest.mark.parametrize("question", ["哪幾家企業落地磨憨？", "落地磨憨的企业有哪些"])
def test_list_firms_in_mohan_variants(sample_doc: str, question: str) -> None:
    assert set(texts(ask(sample_doc, question))) == {"浙江油气", "经纬先达", "欧瑞照明"}


def test_list_firms_in_mohan_english(sample_doc: str) -> None:
    q = "Which firms landed in Mohan?"
    assert texts(ask(sample_doc, q, scorer="哪些企业落地磨憨")) == ["浙江油气", "经纬先达", "欧瑞照明"]
    # with no help from the sentence scores, pinyin (Mohan -> 磨憨) and CC-CEDICT (landed -> 落地, kept
    # where the sentences hold it) decide
    assert texts(ask(sample_doc, q, flat=True)) == ["浙江油气", "经纬先达", "欧瑞照明"]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("科技城签约了哪些企业", ["华彩光能", "苏州推动者生物"]),
        ("哪些企业在科技城注册", ["中车石家庄车辆有限公司昆明分公司"]),
        ("承接了哪些重大产业项目", ["裕能", "杉杉", "农夫山泉"]),
        ("磨憨有哪些重点项目", ["磨憨中铁广场", "数字经济产业园"]),
        ("哪两个园区是核心承载区", ["磨憨—磨丁合作区", "沪滇临港昆明科技城"]),
        ("昆明市围绕哪些重点领域出台支撑文件", ["新能源", "人才住房", "教育养老", "医疗卫生"]),
        ("采取了哪些联动发展模式", ["央地合作", "四区联动"]),  # quoted names lose their quotes
        ("昆明与哪家集团达成合作", ["上海临港集团"]),
    ],
)
def test_list_sample(sample_doc: str, question: str, expected: list[str]) -> None:
    assert texts(ask(sample_doc, question)) == expected


def test_list_documents_keep_title_marks(sample_doc: str) -> None:
    items = texts(ask(sample_doc, "昆明出台了哪些文件"))
    assert items[:2] == [
        "《昆明市招商引资项目跨区域协作管理办法(试行)》",
        "《昆明市存量产业项目跨区域流转管理服务办法(试行)》",
    ]
    assert "《关于统筹跨区域产业协调发展的意见》" in items


def test_list_without_an_answer_in_the_text_is_empty(sample_doc: str) -> None:
    # the article names no firm that signed with 临港集团; a list of firms elsewhere is no answer
    assert ask(sample_doc, "哪些企业与临港集团签订战略合作协议") == []


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("沪滇临港昆明科技城总投资多少？", "约14亿元"),  # the hedge 约 stays with the number
        ("自2024年5月以来有多少个项目落地？", "48个"),
        ("2024年工业对经济增长的贡献率是多少", "32.6%"),
        ("科技城建筑面积多大", "约28万平方米"),
        ("科技城有多少栋建筑", "42栋"),
        ("多少家企业到磨憨实地调研", "170余家"),
        ("与多少家企业签订战略合作协议", "40余家"),
        ("新兴产业增加值增长了多少", "28.7%"),
        ("2020年新兴产业占规上工业比重是多少", "14.9%"),
        ("以昆明为起点可以辐射多少人口", "超过25亿人"),
        ("落地磨憨和沪滇临港产业协作园区的项目计划总投资多少", "12.92亿元"),
    ],
)
def test_quantity_sample(sample_doc: str, question: str, expected: str) -> None:
    assert texts(ask(sample_doc, question)) == [expected]


def test_quantity_two_things_named(sample_doc: str) -> None:
    q = "2024年工业和服务业对经济增长的贡献率分别是多少"
    assert texts(ask(sample_doc, q)) == ["32.6%", "67.5%"]
    assert texts(ask(sample_doc, "2024年服务业对经济增长的贡献率是多少")) == ["67.5%"]


@pytest.mark.parametrize(
    ("question", "scorer", "expected"),
    [
        ("How much was invested in the Kunming science city?", "昆明科技城总投资多少", "约14亿元"),
        ("How many projects have landed since May 2024?", "2024年5月以来多少个项目落地", "48个"),
        (
            "What was the contribution rate of services to economic growth in 2024?",
            "2024年服务业贡献率",
            "67.5%",
        ),
    ],
)
def test_quantity_sample_english(sample_doc: str, question: str, scorer: str, expected: str) -> None:
    assert texts(ask(sample_doc, question, scorer=scorer)) == [expected]
    assert texts(ask(sample_doc, question, flat=True)) == [expected]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("昆明何时托管磨憨镇？", "2022年4月"),
        ("科技城什么时候开园", "2023年12月"),
        ("五华磨憨产业园哪一年开始建设", "2024年8月"),
        ("When did Kunming take over Mohan town?", "2022年4月"),
    ],
)
def test_time_sample(sample_doc: str, question: str, expected: str) -> None:
    assert texts(ask(sample_doc, question)) == [expected]
    assert texts(ask(sample_doc, question, flat=True)) == [expected]


def test_time_english_word_the_dictionary_misses_ranks_dated_sentences_by_similarity(sample_doc: str) -> None:
    # "take over" has no CC-CEDICT translation the sample uses (it says 托管), and "administration" -> 管理
    # matches 管理办法 in a 2024 sentence; the dated sentences' similarity to the question decides instead.
    question = "When did Kunming take over the administration of Mohan town?"
    asked: list[list[str]] = []

    def similarity(texts: list[str]) -> list[float]:  # stands in for the embedder: closeness to the meaning
        asked.append(list(texts))
        return [float(len(set(t) & set("昆明托管磨憨镇"))) for t in texts]

    sents = sentences_of(sample_doc, question)
    assert texts(extract_items(question, classify(question), sents, similarity=similarity)) == ["2022年4月"]
    from qa.extract.dates import date_spans

    assert asked and all(date_spans(t) for t in asked[0])  # only the dated sentences are embedded
    asked.clear()  # a Chinese question finds its own words: nothing is embedded
    zh = "昆明何时托管磨憨镇？"
    assert texts(extract_items(zh, classify(zh), sentences_of(sample_doc, zh), similarity=similarity)) == ["2022年4月"]
    assert asked == []


def test_unmatched_words_of_an_english_question() -> None:
    from qa.extract.dense_relevance import unmatched_words
    from qa.extract.term_matching import build_terms

    terms = build_terms(
        "When did Kunming take over Mohan?", set(), {"take over": [("接管", 0.8), ("接手", 0.9)]}
    )
    assert unmatched_words(terms, ["昆明接管磨憨。"]) == []
    assert unmatched_words(terms, ["昆明托管磨憨。"]) == ["take over"]
    assert unmatched_words(terms, ["昆明接手。"]) == ["mohan"]


def test_other_returns_nothing(sample_doc: str) -> None:
    q = "What is the 1+2+N system?"
    assert classify(q) == QuestionType.OTHER
    assert ask(sample_doc, q) == []
    assert extract_items("“1+2+N”体系是什么", QuestionType.OTHER, sentences_of(sample_doc, "1+2+N")) == []


def test_no_sentences() -> None:
    for qtype in QuestionType:
        assert extract_items("哪些企业落地磨憨", qtype, []) == []


# ---------------------------------------------------------------------------------------------------
# Fixtures of other policy news
# ---------------------------------------------------------------------------------------------------
NEWS = """今年以来，我市新引进比亚迪股份有限公司、宁德时代新能源科技股份有限公司和隆基绿能科技股份有限公司等12家龙头企业，总投资达356.8亿元。截至2023年底，园区累计入驻企业1,256家，实现工业总产值860亿元，同比增长12.5%。
会议审议通过了《关于加快推进产业转移的实施意见》《促进民营经济高质量发展的若干措施》等文件。签约项目包括“云南白药智慧医药产业园”“滇中新区新能源电池材料项目”以及“昆明国际陆港物流园”三个重大项目。
一季度，全省规上工业增加值和固定资产投资分别增长8.2%、6.5%。该项目于2021年3月开工建设，2023年6月30日建成投产。近年来，我市持续优化营商环境，企业满意度不断提升。
项目规划用地约1200亩，建成后可新增就业岗位3000余个。对新认定的国家级专精特新“小巨人”企业，给予一次性奖励50万元；对省级专精特新企业奖励20万元。
中国工商银行和中国建设银行等5家银行为园区企业提供授信120亿元。首批入驻的企业有云南能投新能源投资开发有限公司、昆明钢铁控股有限公司和云南白药集团股份有限公司。
重点扶持华为、腾讯和阿里巴巴三家企业在滇设立区域总部。园区重点发展生物医药、新能源电池和高端装备制造等产业。工业和信息化部、国家发展改革委联合印发通知。"""


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "我市新引进了哪些龙头企业？",
            ["比亚迪股份有限公司", "宁德时代新能源科技股份有限公司", "隆基绿能科技股份有限公司"],
        ),
        (
            "会议审议通过了哪些文件",
            ["《关于加快推进产业转移的实施意见》", "《促进民营经济高质量发展的若干措施》"],
        ),
        (
            "签约了哪些重大项目",
            ["云南白药智慧医药产业园", "滇中新区新能源电池材料项目", "昆明国际陆港物流园"],
        ),
        ("哪些银行为园区企业提供授信", ["中国工商银行", "中国建设银行"]),
        (
            "首批入驻的企业有哪些",
            ["云南能投新能源投资开发有限公司", "昆明钢铁控股有限公司", "云南白药集团股份有限公司"],
        ),
        ("重点扶持哪些企业", ["华为", "腾讯", "阿里巴巴"]),
        ("园区重点发展哪些产业", ["生物医药", "新能源电池", "高端装备制造"]),
        ("哪些部门联合印发通知", ["工业和信息化部", "国家发展改革委"]),
        ("Which banks provide credit to the park?", ["中国工商银行", "中国建设银行"]),
        ("哪些企业满意度提升", []),  # the sentence names no firm: no junk items
        ("总投资多少", ["356.8亿元"]),
        ("新引进龙头企业总投资多少", ["356.8亿元"]),
        ("How many companies were newly introduced?", ["12家"]),
        ("园区入驻企业多少家", ["1,256家"]),
        ("工业总产值同比增长多少", ["12.5%"]),
        ("一季度固定资产投资增长多少", ["6.5%"]),
        ("项目用地多少亩", ["约1200亩"]),
        ("能新增多少就业岗位", ["3000余个"]),
        ("国家级小巨人企业奖励多少", ["50万元"]),
        ("省级专精特新企业奖励多少钱", ["20万元"]),
        ("该项目何时建成投产", ["2023年6月30日"]),
        ("项目什么时候开工", ["2021年3月"]),
    ],
)
def test_news_fixture(question: str, expected: list[str]) -> None:
    assert texts(ask(NEWS, question)) == expected


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("签约企业有哪些", "签约企业包括华为、腾讯、阿里巴巴。", ["华为", "腾讯", "阿里巴巴"]),
        (
            "哪些企业落户园区",
            "今年，华润电力、国家电投和中国华能先后落户园区。",
            ["华润电力", "国家电投", "中国华能"],
        ),
        (
            "有哪些企业入驻",
            "目前已有云南白药、昆药集团、沃森生物等30余家企业入驻。",
            ["云南白药", "昆药集团", "沃森生物"],
        ),
        (
            "哪些项目获得了补助",
            "补助资金主要用于支持昆明长水机场改扩建工程、滇中引水工程等重大项目建设。",
            ["昆明长水机场改扩建工程", "滇中引水工程"],
        ),
        ("哪些企业落户园区", "园区坚持绿色、创新、协调发展，吸引了大批企业落户。", []),
        ("哪些企业落户园区", "近年来，我市持续优化营商环境，企业满意度不断提升。", []),
        ("哪些企业落户园区", "园区面积12平方公里，交通便利。", []),
        ("外资占比多少", "项目总投资1.5亿美元，其中外资占比60%。", ["60%"]),
        ("总投资多少", "项目总投资1.5亿美元，其中外资占比60%。", ["1.5亿美元"]),
        ("2023年GDP是多少", "2023年全市实现地区生产总值7864.76亿元，同比增长5.1%。", ["7864.76亿元"]),
        (
            "高出全省多少个百分点",
            "重点服务业营业收入实现13.9%的快速增长，高于全省4.3个百分点。",
            ["4.3个百分点"],
        ),
        ("营业收入增长多少", "重点服务业营业收入实现13.9%的快速增长，高于全省4.3个百分点。", ["13.9%"]),
        ("占规上工业比重是多少", "新兴产业占全市规上工业比重从2020年的14.9%提高至26.2%。", ["26.2%"]),
        ("规划面积多大", "园区规划面积12.5平方公里，首期开发3000亩。", ["12.5平方公里"]),
        ("用了多少年建成", "经过两年多建设，该工程于去年底建成。", ["两年多"]),
        ("有多少人参加", "活动吸引了约1.2万人次参加。", ["约1.2万人次"]),
        (
            "规划面积多大",
            "该项目于2024年3月开工。",
            [],
        ),  # no area anywhere: nothing rather than a wrong number
        ("何时印发", "2024年1月15日，省政府办公厅印发了《实施方案》。", ["2024年1月15日"]),
        ("哪些部门负责", "由市发改委、市工信局等部门负责统筹推进。", ["市发改委", "市工信局"]),
        (
            "有哪些高校参与",
            "云南大学、昆明理工大学和云南师范大学等高校参与联合攻关。",
            ["云南大学", "昆明理工大学", "云南师范大学"],
        ),
        ("哪些国家参加了博览会", "来自老挝、越南、泰国等国家的客商参加了博览会。", ["老挝", "越南", "泰国"]),
        ("哪家企业中标", "经公开招标，云南建投第三建设有限公司中标该项目。", ["云南建投第三建设有限公司"]),
        ("哪些企业获得奖励", "根据《办法》，对年度纳税超过1000万元的企业给予奖励。", []),
        (
            "哪些企业获评专精特新",
            "昆明云内动力股份有限公司、云南贝泰妮生物科技集团股份有限公司等5家企业获评国家级专精特新“小巨人”企业。",
            ["昆明云内动力股份有限公司", "云南贝泰妮生物科技集团股份有限公司"],
        ),
        ("总投资多少", "项目分两期建设，一期投资5亿元，二期投资8.6亿元，总投资13.6亿元。", ["13.6亿元"]),
        ("二期投资多少", "项目分两期建设，一期投资5亿元，二期投资8.6亿元，总投资13.6亿元。", ["8.6亿元"]),
        ("什么时候通车", "中老铁路于2021年12月3日全线开通运营。", ["2021年12月3日"]),
        (
            "Which cities joined the alliance?",
            "昆明、成都、重庆等12个城市加入了联盟。",
            ["昆明", "成都", "重庆"],
        ),
        ("How many cities joined?", "昆明、成都、重庆等12个城市加入了联盟。", ["12个"]),
        ("方案哪一年实施", "该方案自2025-03-01起施行。", ["2025-03-01"]),
    ],
)
def test_single_sentence(question: str, sentence: str, expected: list[str]) -> None:
    assert texts(ask(sentence, question)) == expected


def test_items_merged_across_sentences_keep_their_citations() -> None:
    sents = [
        Sentence("今年，华润电力、国家电投等企业先后落户园区。", 500, 1, 2.0),
        Sentence("此外，中国华能和大唐集团也已落户园区。", 40, 2, 1.5),
        Sentence("园区还引进了一批科研机构。", 90, 3, 1.0),
    ]
    items = extract_items("哪些企业落户园区", QuestionType.LIST, sents)
    assert [(i.text, i.citation) for i in items] == [
        ("华润电力", 1),
        ("国家电投", 1),
        ("中国华能", 2),
        ("大唐集团", 2),
    ]
    assert (items[0].start, items[0].end) == (503, 507)
    assert (items[2].start, items[2].end) == (43, 47)


def test_items_are_deduplicated_and_capped() -> None:
    sents = [
        Sentence("园区引进了华润电力、国家电投、中国华能、大唐集团等企业。", 0, 1, 2.0),
        Sentence("华润电力、国家电投等企业已经投产。", 100, 2, 1.9),
    ]
    items = extract_items("园区引进了哪些企业", QuestionType.LIST, sents)
    assert texts(items) == ["华润电力", "国家电投", "中国华能", "大唐集团"]
    assert texts(extract_items("园区引进了哪些企业", QuestionType.LIST, sents, max_items=2)) == [
        "华润电力",
        "国家电投",
    ]


def test_long_sentence_with_several_lists() -> None:
    # a caller that splits at 。 only hands over several lists at once: pick the one about the question
    text = (
        "跨区域协作机制有力带动了2个园区发展,沪滇临港昆明科技城成功签约华彩光能、苏州推动者生物等23家企业,"
        "吸引中车石家庄车辆有限公司昆明分公司等50家企业注册,成为沪滇合作、东西协作的标志性成果;"
        "磨憨中铁广场、数字经济产业园等重点项目加快推进,浙江油气、经纬先达、欧瑞照明等一批企业先后落地,"
        "磨憨国际口岸城市建设驶入快车道。"
    )
    sents = [Sentence(text, 0, 1, 1.0)]
    assert texts(extract_items("哪些企业落地磨憨？", QuestionType.LIST, sents)) == [
        "浙江油气",
        "经纬先达",
        "欧瑞照明",
    ]
    assert texts(extract_items("科技城签约了哪些企业", QuestionType.LIST, sents)) == [
        "华彩光能",
        "苏州推动者生物",
    ]
    assert texts(extract_items("磨憨有哪些重点项目", QuestionType.LIST, sents)) == [
        "磨憨中铁广场",
        "数字经济产业园",
    ]
    assert texts(extract_items("科技城签约了多少家企业", QuestionType.QUANTITY, sents)) == ["23家"]


@pytest.mark.parametrize(
    "question",
    [
        "哪些企业落地磨憨？",
        "科技城签约了哪些企业",
        "昆明出台了哪些文件",
        "沪滇临港昆明科技城总投资多少？",
        "2024年工业对经济增长的贡献率是多少",
        "昆明何时托管磨憨镇？",
        "Which firms landed in Mohan?",
        "How much was invested in the Kunming science city?",
        "When did Kunming take over Mohan town?",
    ],
)
def test_offsets_point_into_the_document(sample_doc: str, question: str) -> None:
    # sentences carry their document offsets; every item must map back exactly (checked in ask())
    items = ask(sample_doc, question)
    assert items
    for item in items:
        assert item.end > item.start and item.text.strip() == item.text


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.text(
            alphabet="华为腾讯企业公司集团项目园区等和、，。约亿万元%年月日12345.“”《》签约落地多少",
            max_size=40,
        ),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from(["哪些企业签约落地", "总投资多少", "何时签约", "项目有多少个"]),
)
def test_extraction_never_breaks_offsets(parts: list[str], question: str) -> None:
    doc = "\n".join(parts)
    sents = [Sentence(doc[a:b], a, 1, 1.0) for a, b in split_sentences(doc)]
    for item in extract_items(question, classify(question), sents):
        assert doc[item.start : item.end] == item.text and item.text

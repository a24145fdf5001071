"""Question typing and unit hints: Chinese (Simplified and Traditional) and English."""

from __future__ import annotations

import pytest

from qa.question_type import QuestionType, classify, quantity_hints

LIST, QUANTITY, TIME, OTHER = QuestionType.LIST, QuestionType.QUANTITY, QuestionType.TIME, QuestionType.OTHER


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # Chinese, Simplified
        ("哪些企业落地磨憨？", LIST),
        ("科技城签约了哪些企业", LIST),
        ("哪几家企业在科技城注册？", LIST),
        ("落地磨憨的企业有哪些", LIST),
        ("哪家企业最先入驻？", LIST),  # singular: a list of possibly one
        ("哪两个园区是核心承载区", LIST),
        ("请列举昆明出台的配套文件", LIST),
        ("科技城引进了什么企业", LIST),
        ("沪滇临港昆明科技城总投资多少？", QUANTITY),
        ("自2024年5月以来有多少个项目落地？", QUANTITY),  # a date in the question is no time question
        ("2024年工业对经济增长的贡献率是多少", QUANTITY),
        ("有几家企业签约入驻", QUANTITY),
        ("科技城建筑面积多大", QUANTITY),
        ("产业投资占全部投资的比重", QUANTITY),
        ("新兴产业增加值增长了多少", QUANTITY),
        ("建成用了多少年", QUANTITY),  # a duration, not a date
        ("昆明何时托管磨憨镇？", TIME),
        ("科技城什么时候开园", TIME),
        ("五华磨憨产业园哪一年开始建设", TIME),  # 哪一年 is time, not list
        ("哪年出台了管理办法", TIME),
        ("办法几月开始实施", TIME),
        ("开园的具体日期是什么时间", TIME),
        ("“1+2+N”体系是什么", OTHER),
        ("昆明为什么要承接产业转移", OTHER),
        ("磨憨在哪里", OTHER),
        # Chinese, Traditional
        ("哪幾家企業落地磨憨？", LIST),
        ("科技城簽約了哪些企業", LIST),
        ("滬滇臨港昆明科技城總投資多少？", QUANTITY),
        ("工業對經濟增長的貢獻率佔比多少", QUANTITY),
        ("昆明甚麼時候託管磨憨鎮？", TIME),
        ("昆明何時託管磨憨鎮", TIME),
        # English
        ("Which firms landed in Mohan?", LIST),
        ("Which company registered first?", LIST),
        ("What are the key projects in Mohan?", LIST),
        ("List the documents Kunming issued", LIST),
        ("How much was invested in the Kunming science city?", QUANTITY),
        ("How many projects have landed since May 2024?", QUANTITY),
        ("What percentage did industry contribute to growth?", QUANTITY),
        ("What share of investment went to industry?", QUANTITY),
        ("What is the total investment of the science city?", QUANTITY),
        ("When did Kunming take over Mohan town?", TIME),
        ("What year did the park open?", TIME),
        ("In which year was the system created?", TIME),
        ("What is the 1+2+N system?", OTHER),
        ("Why does Kunming take on industry transfer?", OTHER),
        ("How many firms signed when the park opened?", QUANTITY),  # the earliest question phrase wins
    ],
)
def test_classify(question: str, expected: QuestionType) -> None:
    assert classify(question) == expected


def test_question_type_is_a_str_enum() -> None:
    assert QuestionType.LIST == "list" and str(QuestionType.QUANTITY) == "quantity"
    assert {t.value for t in QuestionType} == {"list", "quantity", "time", "other"}


@pytest.mark.parametrize("question", ["", "   ", "？", "1+2+N"])
def test_classify_degenerate_input(question: str) -> None:
    assert classify(question) == OTHER


@pytest.mark.parametrize(
    ("question", "first", "also"),
    [
        ("沪滇临港昆明科技城总投资多少？", "亿元", {"万元", "元"}),
        ("自2024年5月以来有多少个项目落地？", "个", {"项"}),
        ("2024年工业对经济增长的贡献率是多少", "%", set()),
        ("科技城建筑面积多大", "平方米", {"亩", "平方公里"}),
        ("有多少家企业签约入驻", "家", set()),
        ("科技城有多少栋建筑", "栋", set()),
        ("以昆明为起点可以辐射多少人口", "人", {"人次"}),
        ("活动有多少人参加", "人", {"人次"}),
        ("項目總投資多少萬元", "万元", set()),  # Traditional, with the unit in the question
        ("How much was invested in the Kunming science city?", "亿元", {"元"}),
        ("How many firms were signed?", "家", set()),
        ("How many projects landed?", "个", {"项"}),
        ("What percentage did industry contribute?", "%", set()),
        ("How many people can it reach?", "人", set()),
        ("How many buildings does it have?", "栋", set()),
        ("What is the floor area?", "平方米", set()),
    ],
)
def test_quantity_hints(question: str, first: str, also: set[str]) -> None:
    hints = quantity_hints(question)
    assert hints[0] == first
    assert also <= set(hints)
    assert len(hints) == len(set(hints))


def test_quantity_hints_order_follows_the_question_word() -> None:
    # the thing right next to 多少 is measured; the firms are only context
    hints = quantity_hints("科技城入驻企业的总投资多少")
    assert hints.index("亿元") < hints.index("家")
    hints = quantity_hints("工业总产值同比增长多少")
    assert hints.index("%") < hints.index("亿元")


def test_quantity_hints_empty_without_a_measured_thing() -> None:
    assert quantity_hints("What is the 1+2+N system?") == []

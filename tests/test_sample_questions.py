"""Questions a reader of the sample article would ask, in Simplified, Traditional and English, with the
sample mixed among a few hundred CCTV news items: the passage holding the answer is cited in the top 3."""

from __future__ import annotations

import pytest
from conftest import SAMPLE

from qa.engine import Engine

QUESTIONS = [
    ("哪些企业落地磨憨？", "浙江油气"),
    ("哪些企業落地磨憨？", "浙江油气"),
    ("Which firms landed in Mohan?", "浙江油气"),
    ("沪滇临港昆明科技城总投资多少？", "14亿元"),
    ("滬滇臨港昆明科技城總投資多少？", "14亿元"),
    ("How much is the total investment in the Lingang Kunming science city?", "14亿元"),
    ("昆明什么时候托管磨憨镇？", "2022年4月"),
    ("When did Kunming take over Mohan town?", "2022年4月"),
    ("《重点产业协作园区管理办法》实施以来有多少个项目落地？", "48个项目"),
    ("2024年工业对经济增长的贡献率是多少？", "32.6%"),
    ("科技城签约了哪些企业？", "华彩光能"),
    ("“1+2+N”体系是什么？", "1个核心文件"),
    ("臨港集團組織多少家企業到磨憨實地調研？", "170余家企业"),
    ("What is the four-zone linkage mechanism?", "四区联动"),
    pytest.param("Which companies did Kunming attract through industrial transfer?", "农夫山泉",
                 marks=pytest.mark.xfail(reason="English paraphrase with no romanized name to bridge: dense "
                                                "alone must find the 承接了裕能、杉杉、农夫山泉 passage, and "
                                                "often ranks it fourth or fifth", strict=False)),
]


def chunk_text(engine: Engine, chunk_id: str) -> str:
    row = engine.store._conn().execute("SELECT text FROM chunks WHERE chunk_id = ?", (chunk_id,)).fetchone()
    return row[0]


@pytest.mark.slow
@pytest.mark.parametrize(("question", "answer"), QUESTIONS)
def test_answer_passage_is_cited_in_top_3(mixed_engine, question, answer):
    result = mixed_engine.ask(question)
    passages = [chunk_text(mixed_engine, c.chunk_id) for c in result.citations[:3]]
    assert any(answer in p for p in passages), (question, [p[:60] for p in passages])
    sample_id = SAMPLE.name
    assert any(c.doc_id == sample_id for c in result.citations[:3])

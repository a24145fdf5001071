"""Question typing (list / quantity / time / other) and expected-unit hints for quantity questions.

Works on Chinese (Simplified or Traditional, converted with the corpus normalizer) and English questions.
Pure functions over the question text; no models.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from corpus.normalize import normalize_query
from index.question_words import ZH_TIME_RE


class QuestionType(StrEnum):
    """What kind of answer a question expects."""

    LIST = "list"
    QUANTITY = "quantity"
    TIME = "time"
    OTHER = "other"


@lru_cache(maxsize=1024)
def prepare(question: str) -> str:
    """The question as Simplified Chinese with folded full-width ASCII, ASCII letters lower-cased."""
    return normalize_query(question or "").lower()


def has_han(text: str) -> bool:
    """Whether the text contains any Han character."""
    return re.search("[\u3400-\u4dbf\u4e00-\u9fff]", text) is not None


# --- type patterns ------------------------------------------------------------------------------
_ZH_TIME = ZH_TIME_RE  # the time phrases live with the other question words
_ZH_LIST = re.compile(
    r"哪些|哪几|哪家|哪一家|哪个|哪一个|哪位|哪类|哪种|哪所|哪座|哪项|哪条|哪部|"
    r"哪[两二三四五六七八九十]+[个家项类种所座位条部]|"
    r"列举|列出|罗列|"
    r"(?:什么|甚么|何种|哪种)(?:样的)?(?:企业|公司|项目|园区|单位|机构|银行|产业|行业|领域|措施|政策|文件|城市|地区|品牌|产品)"
)
_ZH_QUANTITY = re.compile(
    r"多少|几[个家项栋座条件名位人次年天倍成批类种所台辆套十百千万亿]|多大|多高|多长|多久|多远|多快|多重|"
    r"比例|占比|比重|百分之几|几成|贡献率|增长率|增速|增幅"
)

_EN_TIME = re.compile(
    r"\bwhen\b|\bwhat (?:year|month|date|day|time|period)\b|\bwhich (?:year|month|date|day|quarter|period)\b|"
    r"\bsince when\b|\bhow long ago\b|\bin what year\b"
)
_EN_QUANTITY = re.compile(
    r"\bhow (?:much|many|large|big|long|far|high|fast|tall)\b|\bwhat percent(?:age)?\b|\bwhat share\b|"
    r"\bwhat (?:proportion|fraction|ratio)\b|"
    r"\bwhat(?:'s| is| was| are| were)? the (?:(?:total|overall|planned|combined|annual|average) )?"
    r"(?:investment|amount|number|area|value|share|percentage|proportion|ratio|rate|growth|size|scale|"
    r"revenue|output|cost|budget|population|sum|count|contribution)\b"
)
_EN_LIST = re.compile(
    r"\bwhich\b|\bwhat (?:are|were) the\b|\blist\b|\bname (?:the|all|some|a few)\b|\benumerate\b|"
    r"\bwhat (?:firms|companies|enterprises|projects|parks|businesses|industries|sectors|cities|measures|"
    r"policies|documents|banks|universities|regions|zones)\b"
)

_PRECEDENCE = (QuestionType.TIME, QuestionType.QUANTITY, QuestionType.LIST)


def classify(question: str) -> QuestionType:
    """Classify a Chinese (Simplified or Traditional) or English question.

    Chinese: time words win (哪一年 is time, not list), then list words (哪几家 is a list, not a count),
    then quantity words. English: the earliest question phrase wins (ties: time, quantity, list).
    """
    q = prepare(question)
    if has_han(q):
        if _ZH_TIME.search(q):
            return QuestionType.TIME
        if _ZH_LIST.search(q):
            return QuestionType.LIST
        if _ZH_QUANTITY.search(q):
            return QuestionType.QUANTITY
    best: tuple[int, int] | None = None
    found = QuestionType.OTHER
    for rank, (qtype, pattern) in enumerate(
        ((QuestionType.TIME, _EN_TIME), (QuestionType.QUANTITY, _EN_QUANTITY), (QuestionType.LIST, _EN_LIST))
    ):
        m = pattern.search(q)
        if m and (best is None or (m.start(), rank) < best):
            best = (m.start(), rank)
            found = qtype
    return found


# --- unit hints -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class UnitConcept:
    """A measured thing: the question words that name it, the units its answer carries, and the
    Chinese words that sit next to such numbers in a text (used to anchor English questions)."""

    name: str
    zh: tuple[str, ...]
    en: str  # regex over the lower-cased English question
    units: tuple[str, ...]
    anchors: tuple[str, ...]


CONCEPTS: tuple[UnitConcept, ...] = (
    UnitConcept(
        "money",
        tuple(
            "投资 资金 金额 营收 营业收入 收入 产值 总额 资产 贷款 融资 补贴 奖补 奖励 经费 预算 成本 费用 税收 销售额 交易额 生产总值 gdp 钱".split()
        ),
        r"\binvest\w*|\bmoney\b|\bfund\w*|\byuan\b|\brmb\b|\bcosts?\b|\brevenues?\b|\bbudgets?\b|\bspen[dt]\w*|"
        r"\bcapital\b|\bgdp\b|\bincome\b|\bloans?\b|\bsubsid\w*|\bfinanc\w*|\bdollars?\b|\boutput value\b",
        ("亿元", "万元", "元"),
        ("投资", "资金", "金额", "营收", "收入", "产值", "总额", "生产总值"),
    ),
    UnitConcept(
        "area",
        ("面积", "占地", "用地", "土地"),
        r"\barea\b|\bsquare\b|\bacres?\b|\bhectares?\b|\bland\b|\bfloor space\b",
        ("平方米", "亩", "平方公里", "公顷", "平方千米"),
        ("面积", "占地", "用地"),
    ),
    UnitConcept(
        "firms",
        ("企业", "公司", "厂商", "厂家", "商户", "经营主体", "市场主体"),
        r"\bfirms?\b|\bcompan(?:y|ies)\b|\benterprises?\b|\bbusiness(?:es)?\b|\bmanufacturers?\b",
        ("家",),
        ("企业", "公司"),
    ),
    UnitConcept(
        "projects",
        ("项目", "工程"),
        r"\bprojects?\b",
        ("个", "项"),
        ("项目",),
    ),
    UnitConcept(
        "percent",
        tuple("贡献率 比重 占比 比例 增长率 增速 增幅 增长 百分比 同比 环比 下降 提高 提升 率".split()),
        r"\bpercent\w*|\bshare\b|\bgrowth\b|\bgr[eo]w\w*|\brates?\b|\bproportion\b|\bratio\b|\bcontribut\w*|"
        r"\bincrease\w*|\bdecrease\w*|\brise\b|\brose\b|\bfell\b|\bfall\b",
        ("%", "个百分点", "百分点", "成"),
        ("增长", "贡献率", "比重", "占比", "比例", "增速"),
    ),
    UnitConcept(
        "jobs",
        ("岗位", "职位"),
        r"\bjobs?\b|\bpositions?\b|\bposts?\b",
        ("个",),
        ("岗位",),
    ),
    UnitConcept(
        "people",
        ("人口", "人数", "人员", "员工", "就业", "游客", "人才", "居民", "职工", "人次"),
        r"\bpeople\b|\bpersons?\b|\bpopulation\b|\bemployees?\b|\bworkers?\b|\bvisitors?\b|"
        r"\btourists?\b|\bresidents?\b",
        ("人", "人次", "名"),
        ("人口", "就业", "人员", "人次"),
    ),
    UnitConcept(
        "buildings",
        ("楼", "栋", "建筑", "楼宇", "厂房"),
        r"\bbuildings?\b|\btowers?\b",
        ("栋", "幢", "座"),
        ("建筑", "楼"),
    ),
    UnitConcept(
        "measures",
        ("措施", "举措", "条款"),
        r"\bmeasures?\b|\bclauses?\b",
        ("条", "项"),
        ("措施",),
    ),
    UnitConcept(
        "duration",
        ("多少年", "几年", "多久", "多长时间", "多少个月", "几个月", "多少天"),
        r"\bhow long\b|\bhow many (?:years|months|days)\b",
        ("年", "个月", "天"),
        (),
    ),
)

# Units a question can name right after 多少/几 ("多少个项目", "多少亿元").
COUNTER_UNITS = tuple(
    """
    个百分点 百分点 平方公里 平方千米 平方米 万亿元 亿元 万元 千元 美元 元 公顷 亩 人次 个月 千瓦时 万千瓦 千瓦 兆瓦 公里
    千米 万吨 吨 家 个 项 栋 幢 座 条 件 名 位 人 户 所 台 辆 套 次
    批 类 种 年 天 倍 成 %
    """.split()
)
_COUNTER = re.compile(r"(?:多少|几十|几百|几千|几)(" + "|".join(map(re.escape, COUNTER_UNITS)) + ")")
_EN_COUNTER = {
    "yuan": "元",
    "square meters": "平方米",
    "square metres": "平方米",
    "mu": "亩",
    "people": "人",
    "years": "年",
    "months": "个月",
    "days": "天",
    "times": "倍",
    "percent": "%",
}
_MARKER = re.compile(r"多少|几|多大|多高|多长|多久|how much|how many|what percent|what share|what proportion")


def _concept_positions(q: str) -> list[tuple[int, UnitConcept]]:
    """(position in the question, concept) for every concept the question names."""
    found: list[tuple[int, UnitConcept]] = []
    for concept in CONCEPTS:
        positions = [q.find(word) for word in concept.zh if word in q]
        m = re.search(concept.en, q)
        if m:
            positions.append(m.start())
        if positions:
            found.append((min(positions), concept))
    return found


def hint_concepts(question: str) -> list[UnitConcept]:
    """The measured things a quantity question names, most relevant (nearest the question word) first."""
    q = prepare(question)
    markers = [m.start() for m in _MARKER.finditer(q)]
    found = _concept_positions(q)
    if markers:
        found.sort(key=lambda pc: min(abs(pc[0] - m) for m in markers))
    return [c for _, c in found]


def quantity_hints(question: str) -> list[str]:
    """Units the answer to a quantity question should carry, most likely first.

    A unit named right after 多少/几 comes first ("多少个项目" -> 个), then the units of the things the
    question measures, nearest the question word first ("总投资多少" -> 亿元, 万元, 元).
    """
    q = prepare(question)
    hints: list[str] = []
    for m in _COUNTER.finditer(q):
        hints.append(m.group(1))
        for concept in CONCEPTS:  # 多少人 also takes 人次, 多少亩 also 平方米
            if m.group(1) in concept.units and m.group(1) not in ("个", "项", "条"):
                hints.extend(concept.units)
    m = re.search(r"how many (square met(?:er|re)s|mu|people|years|months|days|times|yuan)\b", q)
    if m:
        hints.append(_EN_COUNTER[m.group(1)])
    if re.search(r"\bpercent", q):
        hints.append("%")
    for concept in hint_concepts(q):
        hints.extend(concept.units)
    return list(dict.fromkeys(hints))

"""Categories of listed things (firm, project, park, place, document, measure, field, org, product): the
category a list question asks for and its head noun, the category a list's head phrase names (等12家龙头
企业 -> firm) or its items' suffixes suggest (…有限公司 -> firm), and how compatible two categories are.
"""

from __future__ import annotations

import re

from qa.extract.names import FIRM_SUFFIX_RE, ORG_SUFFIX_RE
from qa.extract.terms import ZH_STOP
from qa.extract.tokens import cut_known_words, cut_words, pos_tokens
from qa.question_type import has_han, prepare

# Categories of things a list question asks for; the word lists double as head nouns after 等.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "firm": tuple(
        "企业 公司 厂商 厂家 集团 商家 品牌 龙头 头部企业 市场主体 经营主体 银行 金融机构 外资企业 民营企业 国企 央企 链主".split()
    ),
    "project": tuple("项目 工程 重点项目 产业项目".split()),
    "park": tuple(
        "园区 产业园 开发区 合作区 高新区 经开区 新区 基地 平台 载体 科技城 片区 自贸区 保税区 综保区 示范区".split()
    ),
    "place": tuple("地区 城市 国家 省份 省区 州市 县区 区县 地方 乡镇 口岸 地 国 省 市 县".split()),
    "document": tuple("文件 政策 办法 意见 规划 方案 法规 条例 通知 制度".split()),
    "measure": tuple("措施 举措 机制 模式 做法 经验 路径 工作".split()),
    "field": tuple("领域 产业 行业 赛道 板块 业态 方向".split()),
    "org": tuple("协会 联合会 商会 高校 大学 学院 机构 部门 单位 研究院 研究所 医院 学校 院校".split()),
    "product": tuple("产品 商品 设施 配套".split()),
}
_EN_CATEGORIES: dict[str, str] = {
    "firm": r"\bfirms?\b|\bcompan(?:y|ies)\b|\benterprises?\b|\bbusiness(?:es)?\b|\bmanufacturers?\b|\bbanks?\b",
    "project": r"\bprojects?\b",
    "park": r"\bparks?\b|\bzones?\b|\bplatforms?\b|\bbases?\b",
    "place": r"\bcities\b|\bcity\b|\bcountries\b|\bprovinces?\b|\bregions?\b|\bplaces?\b|\bcounties\b|\bdistricts?\b",
    "document": r"\bdocuments?\b|\bpolic(?:y|ies)\b|\bregulations?\b|\bplans?\b|\brules?\b",
    "measure": r"\bmeasures?\b|\bmechanisms?\b|\bmodels?\b|\bsteps?\b",
    "field": r"\bindustr(?:y|ies)\b|\bsectors?\b|\bfields?\b|\bareas?\b",
    "org": r"\bassociations?\b|\buniversit(?:y|ies)\b|\binstitut\w*|\bagenc(?:y|ies)\b|\bdepartments?\b|\borgani[sz]ations?\b",
    "product": r"\bproducts?\b|\bfacilit(?:y|ies)\b",
}
_COMPAT = {
    frozenset({"firm", "org"}): 0.4,
    frozenset({"park", "project"}): 0.3,
    frozenset({"park", "place"}): 0.2,
    frozenset({"firm", "project"}): 0.1,
}
_CAT_WORDS = sorted({w for ws in CATEGORIES.values() for w in ws}, key=len, reverse=True)
_WORD_CAT: dict[str, str] = {w: cat for cat, words in reversed(CATEGORIES.items()) for w in words}


_PARK_SUFFIX_RE = re.compile(r"(?:园区|产业园|开发区|合作区|高新区|新区|科技城|基地|片区|园)$")
_PLACE_SUFFIX_RE = re.compile(r"(?:省|市|县|区|州|镇|乡|村)$")


QTY_PREFIX = re.compile(
    r"^(?:等)?(?:(?:一批|一系列|一些|多家|数家|诸多|众多|各类|多个|多项|近百家|上百家|数十家)|"
    r"(?:约|近|超过|逾)?(?:\d+|[一二两三四五六七八九十百千几数多]+)(?:多|余)?(?:个|家|项|所|座|条|批|类|种|大|款|位|名|处|项次)(?:多|余)?)"
)


def _np_head(phrase: str) -> str | None:
    """Category of the noun phrase that opens ``phrase``: its last category word before the first
    adverb/preposition/particle, or before a verb once a category word was seen
    ("联动发展模式" -> measure, "市级重点园区统筹确立为…" -> park)."""
    head = None
    for _a, _b, word, pos in pos_tokens(phrase):
        if pos[0] in "dpucryex" or pos == "uj" or (head and pos[0] == "v" and pos != "vn"):
            break
        for w in _CAT_WORDS:
            if word.endswith(w) and (len(w) > 1 or word == w):
                head = _WORD_CAT[w]
                break
    return head


def category_of_phrase(phrase: str) -> str | None:
    """Category named by a head phrase after 等 or a count ("一批企业先后落地" -> firm,
    "地招引的省外企业" -> place, "一批赋能转型、助力链群培育的重大产业项目" -> project)."""
    phrase = QTY_PREFIX.sub("", phrase, count=1)
    if not phrase:
        return None
    toks = cut_words(phrase)
    if toks and toks[0] in _WORD_CAT:
        return _WORD_CAT[toks[0]]
    head = _np_head(phrase)
    if head is None and "的" in phrase:
        after = phrase[phrase.find("的") + 1 :]
        head = _np_head(after)
    return head


def category_of_items(texts: list[str]) -> str | None:
    """Category most items' own form suggests (《…》, …有限公司, …大学, …园区, …项目, short …市), if half agree."""
    votes: dict[str, int] = {}
    for t in texts:
        cat = None
        if t.startswith("《"):
            cat = "document"
        elif FIRM_SUFFIX_RE.search(t):
            cat = "firm"
        elif ORG_SUFFIX_RE.search(t):
            cat = "org"
        elif _PARK_SUFFIX_RE.search(t):
            cat = "park"
        elif t.endswith("项目") or t.endswith("工程"):
            cat = "project"
        elif _PLACE_SUFFIX_RE.search(t) and len(t) <= 6:
            cat = "place"
        if cat:
            votes[cat] = votes.get(cat, 0) + 1
    if not votes:
        return None
    cat, n = max(votes.items(), key=lambda kv: kv[1])
    return cat if n * 2 >= len(texts) else None


def question_category(question: str) -> tuple[str | None, str]:
    """The category a list question asks for and the head noun naming it: the category word right after
    哪些/哪几家/什么 (科技城签约了哪些企业 -> firm, 企业), else the one nearest the question word;
    English: the first category noun."""
    q = prepare(question)
    if has_han(q):
        marker = re.search(
            r"哪些|哪[几两二三四五六七八九十]+[个家项类种所座位条部]?|哪一?[家个类种所座位项条部]|什么|甚么|列举|列出",
            q,
        )
        if marker:
            after = q[marker.end() :]
            after = re.sub(r"^(?:重点|主要|大型|新|头部|龙头|知名|重大|市级|省级|国家级)", "", after)
            for w in _CAT_WORDS:
                if after.startswith(w):
                    return _WORD_CAT[w], w
            words = cut_known_words(after)
            if words and has_han(words[0]) and words[0] not in ZH_STOP:
                noun = words[0]
                if len(noun) == 1 and len(words) > 1 and has_han(words[1]):
                    noun += words[1]  # 功能+区 -> 功能区
                cat = next((_WORD_CAT[w] for w in _CAT_WORDS if len(w) > 1 and noun.endswith(w)), None)
                return cat, noun
        best = None
        for w in _CAT_WORDS:
            k = q.rfind(w)
            if k >= 0 and len(w) >= 2:
                dist = abs(k - marker.start()) if marker else -k
                if best is None or dist < best[0]:
                    best = (dist, _WORD_CAT[w], w)
        if best:
            return best[1], best[2]
        if re.search(r"哪家|几家", q):
            return "firm", ""
        return None, ""
    first = None
    for cat, pattern in _EN_CATEGORIES.items():
        m = re.search(pattern, q)
        if m and (first is None or m.start() < first[0]):
            first = (m.start(), cat)
    return (first[1], "") if first else (None, "")


def category_compat(asked: str | None, got: str | None) -> float:
    """How well a found category answers the asked one: 1 same, 0.1-0.4 related, -1 wrong, 0.3 unknown."""
    if asked is None or got is None:
        return 0.3
    if asked == got:
        return 1.0
    return _COMPAT.get(frozenset({asked, got}), -1.0)

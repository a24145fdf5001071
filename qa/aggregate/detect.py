"""Which questions are answered corpus-wide: a category (企业, 项目, 园区, 机构…), an action of the landing
family (落地, 落户, 入驻, 签约, 引进, 开工, 投产…) and a place or subject ("哪些企业落地磨憨", "磨憨引进了哪些
项目", "Which companies have landed in Mohan?"). Other list questions ("磨憨有哪些优势") are left to the
top-k answer. A year, month or range in the question becomes a publication-date filter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qa.extract.categories import CATEGORIES, question_category
from qa.extract.dates import DATE_RE
from qa.extract.terms import EN_STOP
from qa.extract.tokens import pos_tokens
from qa.question_type import QuestionType, classify, has_han, prepare

# Categories whose members can "land somewhere"; their head nouns double as counters in the answer.
AGGREGATE_CATEGORIES = ("firm", "project", "park", "org")

# The action family (Chinese). Longest first so 签约落地 is one action.
ZH_ACTIONS = tuple(
    sorted(
        """
        落地 落户 落子 入驻 进驻 入园 签约 签下 签署 签订 引进 引入 招引 吸引 承接 开工 动工 投产 达产 开业
        运营 投运 建成 注册 设立 入户 迁入 扎根 安家 撤出 撤离 退出 终止 解约
        """.split(),
        key=len,
        reverse=True,
    )
)
ZH_ACTION_RE = re.compile("|".join(ZH_ACTIONS))
_EN_ACTION_RE = re.compile(
    r"\b(?:land(?:s|ed|ing)?|settl\w*|locat\w*|set(?:s|ting)? up|mov\w* (?:in|into|to)|relocat\w*|"
    r"sign\w*|introduc\w*|attract\w*|brought in|bring\w* in|start\w* (?:construction|production|operat\w*)|"
    r"beg[ai]n\w* (?:construction|production|operat\w*)|break\w* ground|open\w*|register\w*|based|"
    r"invest\w* in|arriv\w*|withdr[ae]w\w*|pull\w* out|enter\w*|join\w*)\b"
)
_EN_CATEGORY = {
    "firm": r"\bfirms?\b|\bcompan(?:y|ies)\b|\benterprises?\b|\bbusiness(?:es)?\b|\bmanufacturers?\b|\bbanks?\b",
    "project": r"\bprojects?\b",
    "park": r"\b(?:industrial )?parks?\b|\bzones?\b",
    "org": r"\binstitut\w*|\borgani[sz]ations?\b|\buniversit(?:y|ies)\b|\bassociations?\b",
}
# Words around the place that are not part of it.
_ZH_FILLER = re.compile(
    r"哪[些几一两二三四五六七八九十]*[个家项类种所座位条部]?|什么样?的?|多少[个家项]?|几[个家项]|请问|列[出举]|罗列|"
    r"先后|相继|陆续|已经|已|都|曾经|曾|成功|累计|共计|一共|总共|共|目前|至今|迄今|为止|截至|近年来|以来|期间|"
    r"之后|之前|以前|以后|前后|新近|最近|近期|近日|分别|正式|主要|重点|重大|知名|龙头|大型|优质|新|有|了|过|着|的|"
    r"在|于|到|向|往|与|和|同|跟|被|把|将|从|由|对|为|是|也|还|又|等|呢|吗|啊|\?|？|，|,|。|、|\s"
)
_EN_FILLER = frozenset(
    """
    which what who whose companies company firms firm enterprises enterprise businesses business have has had been did do does landed land lands landing settled settle set up moved
    into in at to on of the a an and or so far ever yet already since after before during between from until
    signed sign signing introduced attracted opened registered located relocated based invested started began
    construction production operation operations there their list name all were was are is new so far
    institutions organizations universities associations banks manufacturers withdrawn withdrew pulled out
    """.split()
)


@dataclass(frozen=True)
class AggregateQuestion:
    """What a corpus-wide question asks: the category, the action words it used, its place/subject terms
    (Chinese; for English questions the words to look up), and publication-date bounds from its text."""

    question: str
    category: str  # firm / project / park / org
    head: str  # the noun the question used (企业, 项目...), "" for English
    actions: tuple[str, ...]
    anchors: tuple[str, ...]  # Chinese place/subject strings
    foreign: tuple[str, ...] = ()  # English place phrases still to map to Chinese (pinyin names, dictionary words)
    since: str | None = None
    until: str | None = None
    date_text: str = ""  # the date phrase as written ("2024年"), "" when none
    english: bool = False
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def stripped_question(self) -> str:
        """The question without its date phrase (the date is a filter, not a term to find)."""
        return self.question.replace(self.date_text, "") if self.date_text else self.question


def _asked(q: str) -> tuple[str, int, int] | None:
    """The category an English question asks for and the span of its asking phrase: "which (new energy)
    companies", not "from which places ... firms" (the firms there are not what is asked)."""
    first = None
    for cat, pattern in _EN_CATEGORY.items():
        m = re.search(rf"\b(?:which|what)\s+(?:[a-z'\-]+\s+){{0,2}}?(?:{pattern})", q)
        if m and (first is None or m.start() < first[1]):
            first = (cat, m.start(), m.end())
    return first


def _category(q: str, english: bool) -> tuple[str | None, str]:
    if english:
        asked = _asked(q)
        return (asked[0], "") if asked else (None, "")
    cat, head = question_category(q)
    if cat in AGGREGATE_CATEGORIES:
        return cat, head
    return None, head


_YEAR = r"((?:19|20)\d{2})"


def question_dates(q: str) -> tuple[str | None, str | None, str]:
    """Publication-date bounds named in a (prepared) question and the phrase that names them.

    2024年 -> 2024..2024; 2024年5月 -> 2024-05..2024-05; 2023年至2024年, 2023—2024年 -> 2023..2024;
    2024年以来/起/之后 -> since 2024; 2024年以前/之前/前 -> until 2024 (the year before 前 is excluded)."""
    m = re.search(rf"{_YEAR}\s*年?\s*(?:[-—–~～至到])\s*{_YEAR}\s*年?", q)
    if m:
        return m.group(1), m.group(2), m.group(0)
    m = re.search(rf"{_YEAR}\s*年\s*(?:(1[0-2]|0?[1-9])\s*月)?(以来|起|之后|以后|至今|来)?(以前|之前|前)?", q)
    if not m:
        m2 = re.search(rf"\b(?:in|during|since|after|before|until)?\s*{_YEAR}\b", q)
        if not m2 or has_han(q):
            return None, None, ""
        word = q[m2.start() : m2.end()].split()[0] if " " in q[m2.start() : m2.end()].strip() else ""
        year = m2.group(1)
        if word in ("since", "after"):
            return year, None, m2.group(0).strip()
        if word in ("before", "until"):
            return None, (year if word == "until" else str(int(year) - 1)), m2.group(0).strip()
        return year, year, m2.group(0).strip()
    year, month, after, before = m.group(1), m.group(2), m.group(3), m.group(4)
    value = f"{year}-{int(month):02d}" if month else year
    if after:
        return value, None, m.group(0)
    if before:
        return None, str(int(year) - 1) if not month else value, m.group(0)
    return value, value, m.group(0)


def detect(question: str) -> AggregateQuestion | None:
    """The corpus-wide reading of a question, or None when it is not one (see the module docstring)."""
    q = prepare(question)
    english = not has_han(q)
    if classify(question) != QuestionType.LIST and not (english and re.search(r"\bwhich\b|\bwhat\b", q)):
        return None
    category, head = _category(q, english)
    if category is None:
        return None
    since, until, date_text = question_dates(q)
    if english:
        actions = tuple(m.group(0) for m in _EN_ACTION_RE.finditer(q))
        if not actions:
            return None
        _cat, a, b = _asked(q) or (category, 0, 0)
        rest = q[:a] + " " + q[b:]  # the asking phrase, modifiers included ("new energy"), is not a place
        rest = _EN_ACTION_RE.sub(" ", re.sub(r"\b(?:19|20)\d{2}\b", " ", rest))
        runs, run = [], []  # consecutive content words name one place: "shenzhen qianhai cooperation zone"
        for w in re.findall(r"[a-z][a-z\-]*|[^a-z\s]+", rest):
            if w in _EN_FILLER or w in EN_STOP or not w[0].isalpha() or len(w) < 2:
                if run:
                    runs.append(" ".join(run))
                run = []
            else:
                run.append(w)
        if run:
            runs.append(" ".join(run))
        if not runs:
            return None
        return AggregateQuestion(question, category, "", actions, (), tuple(runs), since, until,
                                 _original_phrase(question, date_text), True)
    actions = tuple(dict.fromkeys(m.group(0) for m in ZH_ACTION_RE.finditer(q)))
    if not actions:
        return None
    rest = q.replace(date_text, "，") if date_text else q
    rest = DATE_RE.sub("，", rest)
    rest = ZH_ACTION_RE.sub("，", rest)
    for word in sorted({w for w in CATEGORIES[category]} | ({head} if head else set()), key=len, reverse=True):
        rest = rest.replace(word, "，")
    rest = _ZH_FILLER.sub("，", rest)
    anchors = tuple(dict.fromkeys(a for a in rest.split("，") if len(a) >= 2 and has_han(a)))
    if not anchors or len(anchors) > 2 or any(_verbal(a) for a in anchors):
        return None  # 园区被确立为…承接产业转移的核心承载区: the action is not about the category's members
    return AggregateQuestion(question, category, head, actions, anchors, (), since, until,
                             _original_phrase(question, date_text), False)


def _verbal(term: str) -> bool:
    """Whether a leftover term holds a verb (确立, 转移): then it is a predicate, not a place or subject."""
    return any(pos.startswith("v") and pos != "vn" and len(word) >= 2 for _a, _b, word, pos in pos_tokens(term))


def _original_phrase(question: str, prepared_phrase: str) -> str:
    """The date phrase as it stands in the question (the prepared text may differ in width or script)."""
    if not prepared_phrase:
        return ""
    if prepared_phrase in question:
        return prepared_phrase
    low = question.lower()
    k = prepare(question).find(prepared_phrase)
    return question[k : k + len(prepared_phrase)] if k >= 0 and len(low) == len(prepare(question)) else ""

"""Clause-level attribution: a name counts for the question's place when a clause says the question's action
about that place, not when the place is merely nearby.

For every clause holding an action of the landing family (落地, 入驻, 引进, 签约…), the clause's location is
the place it names: the question's place (or subject) counts; another place (寻甸特色产业园区, 景洪) means the
names in it landed elsewhere. A clause that names no place takes the nearest place named earlier in its
sentence (else, when it names none, the last one of the sentence before, in the same paragraph): "磨憨中铁广场…
加快推进，浙江油气、经纬先达等一批企业先后落地" is about 磨憨. Names are those of the clause (lists, pairs,
organization names, else the bare name before or after the action), of the category asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from corpus.sentences import split_sentences
from qa.aggregate.detect import ZH_ACTION_RE
from qa.aggregate.status import WITHDRAWN, clause_status
from qa.extract.categories import category_compat, category_of_items
from qa.extract.clauses import clause_spans, protected_spans
from qa.extract.enumerations import Enumeration, find_enumerations, find_name_pairs, find_named_entities
from qa.extract.names import FIRM_SUFFIX, FIRM_SUFFIX_RE, NAME_SUFFIX_RE, is_valid_item, mostly_common_words
from qa.extract.tokens import pos_tokens


@dataclass
class RawMention:
    """A name attributed to the question's place by one clause; offsets index the normalized document."""

    surface: str
    start: int
    end: int
    status: str
    sentence: tuple[int, int]  # the sentence that says it, document offsets
    actions: str = ""  # the action words of its clause ("签约", "注册", "签约入驻")


_PLACE_SUFFIX = re.compile(
    r"(?:省|市|县|州|镇|乡|村|区|园|城|港|口岸|岛|湾|新城|片区|园区|产业园|工业园|开发区|高新区|经开区|新区|"
    r"合作区|科技城|保税区|综保区|示范区|基地)$"
)
_GENERIC_PLACES = frozenset(
    """
    园区 城市 地区 市区 城区 社区 片区 景区 小区 全市 全省 全区 全县 全州 本市 该区 该市 我市 我省 我区 当地 境内 省内
    区内 县内 市内 国内 海外 省外 市外 境外 各地 外地 本地 异地 两地 基地 港口 园 城 区 港 口岸 工业园区 产业园区
    重点园区 开发区 经开区 高新区 新区 合作区 示范区 保税区 综保区 核心区 承载区 功能区 集聚区 产业园 工业园 科技园
    物流园 城乡 农村 乡村 县城 县域 镇区 大湾区 新城 老城 主城 主城区 中心城区 郊区
    """.split()
)
_ORIGIN_BEFORE = ("来自", "从", "自", "源自")
_NOUN_POS = ("n", "nz", "nr", "nrt", "nt", "j", "x", "eng", "vn", "nrfg", "ng")
_TIME_LEAD = re.compile(
    r"^(?:(?:19|20)\d{2}年(?:\d{1,2}月(?:\d{1,2}日)?)?(?:以来|初|底|末|中)?|\d{1,2}月(?:\d{1,2}日)?|近日|日前|近期|"
    r"今年|去年|同年|当年|目前|截至目前|此外|同时|其中|另外|随后|此后|近年来|最近|当天|当日|本月|上月|年初|年底)+"
)
_GENERIC_END = re.compile(
    r"(?:企业|公司|项目|产业|行业|园区|政府|部门|机构|单位|平台|工作|建设|发展|合作|工程|集群|链条|产业链|资金|人才|资源|"
    r"协议|合同|备忘录|协议书|意向书|框架|合作关系|中心|总部|基地|品牌|要素|游客|消费|消费者|客商|人员|团队|活动|论坛|"
    r"产品|服务|机构|高端|领域|业态|场景|街区|商圈)$"
)
_GENERIC_HEAD = re.compile(
    r"^(?:全球|海外|国际|国内|境外|外地|各地|各国|外资证券|密集|一批|一些|多家|多个|数家|众多|诸多|大批|更多|各类|相关|有关|该|本|其|这些|这批|上述|以上|首批|优质|龙头|重点|重大|"
    r"头部|外资|民营|国有|知名|大型|中小|科技型|新兴|优势|特色|配套|招商|产业|新|老|好|大|小)"
)


@lru_cache(maxsize=8192)
def dict_pos_tokens(text: str) -> tuple[tuple[int, int, str, str], ...]:
    """(start, end, word, pos) from jieba's dictionary alone (no guessing at unknown words: several times
    faster, and the places it tags are the ones its dictionary knows)."""
    from qa.extract.tokens import _jieba

    _jieba_module, posseg = _jieba()
    out, at = [], 0
    for pair in posseg.cut(text, HMM=False):
        k = text.find(pair.word, at)
        if k < 0:
            continue
        out.append((k, k + len(pair.word), pair.word, pair.flag))
        at = k + len(pair.word)
    return tuple(out)


def _places(sent: str, anchors: tuple[str, ...], items: list[tuple[int, int]]) -> list[tuple[int, int, bool]]:
    """(start, end, is_the_question's_place) of the places a sentence names, in order. The question's place
    counts wherever it stands (磨憨中铁广场 is in 磨憨); another place counts outside names (浙江油气 is a firm)."""
    found: list[tuple[int, int, bool]] = []
    for anchor in anchors:
        found.extend((m.start(), m.end(), True) for m in re.finditer(re.escape(anchor), sent))
    anchor_spans = [(a, b) for a, b, _ in found]
    toks = dict_pos_tokens(sent)
    for i, (a, b, word, pos) in enumerate(toks):
        if len(word) < 2 or word in _GENERIC_PLACES:
            continue
        if any(s <= a < e or s < b <= e for s, e in anchor_spans) or any(s <= a and b <= e for s, e in items):
            continue
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if pos == "ns":
            if nxt and nxt[3] in _NOUN_POS and not _PLACE_SUFFIX.search(nxt[2]) and nxt[0] == b:
                continue  # 浙江油气, 上海临港集团: a name that starts with a place
            if sent[max(0, a - 2) : a].endswith(_ORIGIN_BEFORE) or (nxt and nxt[2] in ("籍", "企业", "客商", "商会")):
                continue  # 来自上海的…, 上海企业: where from, not where to
            found.append((a, b, False))
        elif _PLACE_SUFFIX.search(word) and pos[0] in "n" and i > 0 and toks[i - 1][3] in ("ns", "nz", "nr", "j"):
            found.append((toks[i - 1][0], b, False))  # 寻甸+特色产业园区 is caught at 寻甸 already; 勐腊+县
    found.sort()
    return found


def _names(sent: str, category: str) -> list[Enumeration]:
    """The sentence's lists and names of the asked category (or of unknown category that look like names)."""
    enums = find_enumerations(sent) if re.search(r"[、等“「『‘\"和及与同暨]", sent) else []
    taken = [span for en in enums for span in en.items]
    if re.search("和|及", sent):  # the finders tag every clause; only run them where they can find something
        enums += find_name_pairs(sent, taken)
        taken = [span for en in enums for span in en.items]
    if NAME_SUFFIX_RE.search(sent):
        enums += find_named_entities(sent, taken)
    out = []
    for en in enums:
        cat = en.category or category_of_items([sent[s:e] for s, e in en.items])
        if cat is None:
            if category in ("firm", "org") and mostly_common_words(sent, en.items):
                continue
            if category in ("project", "park"):
                continue
        elif category_compat(category, cat) < 0.4 or (category == "firm" and cat == "org"):
            continue
        out.append(en)
    return out


def _is_bare_name(text: str, category: str, subject: bool = False) -> bool:
    """Whether a phrase next to an action is a name (星河科技, 浙江油气公司, 年产5万吨电池材料项目) and not a
    generic noun (一批优质企业, 项目建设) or an everyday word."""
    if not is_valid_item(text) or len(text) > 24 or _GENERIC_HEAD.match(text) or "的" in text:
        return False
    toks = pos_tokens(text)
    if not toks or (len(toks) == 1 and toks[0][3].startswith("v")) or all(t[3][0] in "vad" for t in toks):
        return False
    if category == "project":
        return bool(re.search(r"(?:项目|工程)$", text)) and len(text) >= 6
    if category == "park":
        return bool(_PLACE_SUFFIX.search(text)) and len(text) >= 4
    if NAME_SUFFIX_RE.search(text):
        return len(text) >= 4 and not _GENERIC_END.search(text[: -2] if FIRM_SUFFIX_RE.search(text) else "")
    if _GENERIC_END.search(text) or len(toks) == 1 and toks[0][3] in ("n", "v", "vn", "a", "l", "i", "an"):
        return False
    if re.search(r"\d", text):
        return False
    if mostly_common_words(text, [(0, len(text))]) or toks[0][3][0] in "pdcurmq":
        return False
    if toks[0][3][0] == "v":  # a subject 远航科技 (远航 is tagged a verb), but not 举全市, 带动就业, 建设二期工厂
        return subject and len(toks) >= 2 and toks[-1][3] in _PROPER + ("n", "ng") and toks[-1][2] not in _GENERIC_PLACES
    return True


def _partners(sent: str, cs: int, ce: int, category: str) -> list[tuple[int, int]]:
    """The partner in 与/同/和 X 签约 (磨憨与浙江油气签署投资协议)."""
    out = []
    for m in re.finditer(r"[与同和跟]([^，,。；;与同和跟]{2,20}?)(?:正式|成功|顺利)?(?:签约|签署|签订|签下|达成)", sent[cs:ce]):
        name = m.group(1)
        if _is_bare_name(name, category) or (NAME_SUFFIX_RE.search(name) and is_valid_item(name)):
            out.append((cs + m.start(1), cs + m.end(1)))
    return out


_TAKES_OBJECT = re.compile(r"引进|引入|招引|吸引|承接|签约|签下|签署|签订")  # 引进了X; 开工建设二期工厂 names no firm
_SUBJECT_STOP = frozenset(
    "原 原本 原先 曾 曾经 已 已经 将 于 在 正式 先后 相继 陆续 成功 率先 拟 计划 准备 有望 预计 意向 即将 打算 尚未 未 未能 没有 则 也 还 均 都 又 再 共 首次 顺利".split()
)


def _bare_names(sent: str, cs: int, ce: int, a: int, b: int, category: str, places) -> list[tuple[int, int]]:
    """The name right before the clause's action (its subject) or right after it (its object)."""
    out = []
    head = sent[cs:a]
    lead = _TIME_LEAD.match(head)
    s = cs + (lead.end() if lead else 0)
    subj_end = a
    for tok_a, _tok_b, word, pos in pos_tokens(sent[s:a]):
        if pos[0] in "pdcu" or word in _SUBJECT_STOP:
            subj_end = s + tok_a
            break
    subj = _ADVERBS.sub("", sent[s:subj_end].strip())
    if subj and not _overlaps_place(s, s + len(subj), places, sent) and _is_bare_name(subj, category, subject=True):
        out.append((s, s + len(subj)))
    k = b
    while k < ce and sent[k] in "了到在于入进至驻":
        k += 1
    obj_end = k
    for tok_a, _tok_b, word, pos in pos_tokens(sent[k:ce]):
        if (pos[0] in "pduv" and tok_a > 0) or word in ("等", "的"):
            break
        obj_end = k + _tok_b
    for a2, b2 in _split_and(sent, k, obj_end):
        obj = sent[a2:b2]
        if obj and _TAKES_OBJECT.search(sent, a, b) and not _overlaps_place(a2, b2, places, sent) and _is_bare_name(
            obj, category
        ):
            out.append((a2, b2))
    m = re.search(r"迎来了?([^，。；、]{2,20}?)的(?:入驻|落户|落地|签约|投产|开业)", sent[cs:ce])
    if m and _is_bare_name(m.group(1), category):  # 磨憨则迎来了雪峰医药的入驻
        out.append((cs + m.start(1), cs + m.end(1)))
    return out


def _split_and(sent: str, a: int, b: int) -> list[tuple[int, int]]:
    """A phrase cut at 和/及/与 (年产10万吨冷链仓储项目和跨境电商产业园项目)."""
    out, at = [], a
    for m in re.finditer(r"以及|和|及|与", sent[a:b]):
        out.append((at, a + m.start()))
        at = a + m.end()
    out.append((at, b))
    return [(x, y) for x, y in out if y - x >= 2]


def _overlaps_place(a: int, b: int, places, sent: str) -> bool:
    """Whether [a, b) overlaps a place, other than the question's place opening a longer name (磨憨…项目)."""
    for p0, p1, is_anchor in places:
        if p0 < b and a < p1:
            if is_anchor and p0 == a and p1 < b and re.search(rf"(?:{FIRM_SUFFIX}|项目|工程)$", sent[a:b]):
                continue  # 磨憨跨境电商产业园项目: a name that opens with the place
            return True
    return False


# Verbs whose object is where (落户景洪), whose object is what (引进了宏达钢构: the subject is where), and
# verbs whose place comes with 在/于 (在景洪投产).
_WHERE_OBJECT = re.compile(r"落地|落户|落子|入驻|进驻|入园|迁入|扎根|安家|撤出|撤离|退出|迁往|布局")
_WHERE_SUBJECT = re.compile(r"引进|引入|招引|吸引|承接|签约|签下|签署|签订")
_STOP_SLOT = re.compile(r"[，,。；;：:、（(“”]|等|的|后|以来|并|及|和|与|见效|生根|开花|投产|开工|建设|发展")
_ADVERBS = re.compile(r"(?:已经|已|正式|成功|顺利|先后|相继|陆续|率先|均|都|也|还|将|拟|则|又|再|共|累计|首次|一举)+$")


_PROPER = ("ns", "nr", "nz", "nt", "j", "x", "eng", "nrt", "nrfg")


def _place_like(phrase: str, toks) -> bool:
    """Whether a slot names a place: led by a proper noun (景洪, 勐腊县), or ending in a place suffix
    (寻甸特色产业园区); 商户, 市场 are not places."""
    return toks[0][3] in _PROPER or len(toks[0][2]) == 1 or bool(_PLACE_SUFFIX.search(phrase))


def _nounish(phrase: str) -> bool:
    """Whether a phrase opens with a noun (a place or name), not a preposition, adverb or verb (从外有序)."""
    toks = pos_tokens(phrase)
    return bool(toks) and toks[0][3][0] not in "pdcuvrmq" and not any(t[3][0] in "pd" for t in toks)


def _short_name(phrase: str) -> bool:
    """A short phrase of Han characters that opens with no function word (在磨憨投产: 磨 is tagged a verb)."""
    toks = pos_tokens(phrase)
    return len(phrase) <= 6 and bool(toks) and toks[0][3][0] not in "pdcurmq" and not any(t[3][0] in "pdu" for t in toks)


def locative_slots(sent: str, cs: int, ce: int, items: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans of a clause that say where its action happens: the object of 落户/入驻…, the phrase after 在/于
    before the action, and the subject of 引进/签约… (when it is not a listed name)."""
    out: list[tuple[int, int]] = []
    for m in _WHERE_OBJECT.finditer(sent, cs, ce):
        k = m.end()
        while k < ce and sent[k] in "了于到在至进入":
            k += 1
        stop = _STOP_SLOT.search(sent, k, ce)
        end = stop.start() if stop else ce
        toks = pos_tokens(sent[k:end]) if end - k >= 2 else ()
        if toks and toks[0][3][0] not in "vdpucmrq" and _place_like(sent[k:end], toks):
            out.append((k, end))
    for m in re.finditer(r"(?<![存现实])[在于](?!此|内|这|该)", sent[cs:ce]):
        k = cs + m.end()
        act = ZH_ACTION_RE.search(sent, k, ce)
        if act is None:
            continue
        phrase = _ADVERBS.sub("", sent[k : act.start()])
        if 2 <= len(phrase) <= 16 and (_nounish(phrase) or _short_name(phrase)) and not re.search(r"[，,、]|\d+年|月|日|期间|之际|背景|支持|推动|基础", phrase):
            out.append((k, k + len(phrase)))
    for m in _WHERE_SUBJECT.finditer(sent, cs, ce):
        if m.group().startswith("签") and len(sent[m.end() : ce].lstrip("了")) < 2:
            continue  # 黄河食品也已签约: no object, so the subject is who signed, not where
        head = sent[cs : m.start()]
        lead = _TIME_LEAD.match(head)
        s = cs + (lead.end() if lead else 0)
        phrase = _ADVERBS.sub("", sent[s : m.start()])
        if re.search(r"[与和同跟]", phrase) or not 2 <= len(phrase) <= 16:
            continue
        if any(a <= s < b for a, b in items) or NAME_SUFFIX_RE.search(phrase) or not _nounish(phrase):
            continue  # 星河科技签约入驻: the subject is the name, not the place
        out.append((s, s + len(phrase)))
    return out


def _locate(places, cs: int, ce: int, sent_places_prev: list[tuple[int, int, bool]], slots) -> bool | None:
    """Whether the clause [cs, ce) is about the question's place: its own place, else the nearest one before
    it in the sentence, else (when the sentence names none after it either) the last place of the paragraph's previous sentence."""
    inside = [p for p in places if cs <= p[0] < ce]
    if any(p[2] for p in inside):
        return True
    if inside or slots:
        return False
    before = [p for p in places if p[1] <= cs]
    if before:
        return before[-1][2]
    if any(p[0] >= ce for p in places):
        return None  # a place named only later in the sentence is what follows is about, not this clause
    if sent_places_prev:
        return sent_places_prev[-1][2]
    return None


_NAME_CHARS = re.compile(r"[\u3400-\u9fffA-Za-z0-9·&（）()\-]{2,40}")


def _subjectless(head: str) -> bool:
    """Whether the words before a clause's action are only time words and adverbs (先后, 已, 均…)."""
    lead = _TIME_LEAD.match(head)
    rest = head[lead.end() :] if lead else head
    return not _ADVERBS.sub("", rest.strip())


def _withdrawn_later(sent: str, clauses, ci: int, names: list[Enumeration]) -> bool:
    """Whether a later clause of the sentence, naming nothing of its own, says the action failed or ended."""
    for cs, ce in clauses[ci + 1 :]:
        if any(cs <= s < ce for en in names for s, _e in en.items):
            return False
        if clause_status(sent[cs:ce], 0) == WITHDRAWN:
            return True
    return False


# Verbs that open a verb phrase, not a name (推动商业银行…, 支持外资企业…).
_INTRODUCING = frozenset(
    """
    推动 推进 加快 支持 鼓励 引导 吸引 带动 促进 助力 举办 组织 开展 打造 建设 发展 培育 实施 落实 深化 优化 提升 扩大
    加强 完善 围绕 聚焦 依托 服务 引进 引入 签约 签署 设立 成立 布局 建立 形成 实现 开通 启动 召开 发布 出台
    """.split()
)
_COUNTED = re.compile(r"\d+(?:\.\d+)?\s*(?:多|余)?(?:个|家|项|批|座|所|条)|[一二三四]季度|上半年|下半年")
_SINGLE_COMMON = frozenset({"n", "vn", "v", "a", "an", "ad", "b", "s", "f", "l", "i", "d", "t", "ns", "m", "q", "r"})


def _plausible_name(name: str, category: str) -> bool:
    """Whether a found name can be a firm's (project's…) name: not a count (43个重点项目), not a generic
    phrase (外资证券, 全球游客, 研发中心), not one everyday word (基金, 论坛), not a clause (推动商业银行)."""
    if _COUNTED.search(name) or ZH_ACTION_RE.search(name):
        return False  # 43个重点项目; 航运中心一体化运营
    suffixed = bool(NAME_SUFFIX_RE.search(name)) or (category == "project" and re.search(r"(?:项目|工程)$", name))
    if _GENERIC_HEAD.match(name) or (not suffixed and _GENERIC_END.search(name)):
        return False
    toks = pos_tokens(name)
    if not toks:
        return False
    if len(toks) == 1 and toks[0][3] in _SINGLE_COMMON and not suffixed:
        return False
    if toks[0][2] in _INTRODUCING and len(toks) >= 2:
        return False  # 推动商业银行, 支持外资企业: a verb phrase, not a name (远航科技 and 启明软件 stay)
    return True


def _opens_with_names(sent: str) -> bool:
    """Whether a sentence's first clause holds a list or an organization name (its own subject)."""
    mask, _ = protected_spans(sent)
    spans = clause_spans(sent, mask)
    if not spans:
        return False
    first = sent[spans[0][0] : spans[0][1]]
    return bool(find_enumerations(first) or find_named_entities(first, []))


_LISTING = re.compile(r"(?:其中)?(?:包括|包含|涵盖|如|例如|比如|有|分别是|分别为|主要有|主要包括)")
# Words that point back to a place named before (白塔云仓有限公司入驻该园).
_ANAPHOR = re.compile(r"该(?:园区?|区|市|县|镇|州|城|基地|口岸|合作区|开发区)|园内|区内|当地|此地|这里")


class _Context:
    """The places of an earlier sentence of the paragraph, tagged only when a later clause needs them."""

    def __init__(self, sent: str, anchors: tuple[str, ...], before: _Context | None, places=None) -> None:
        self.sent, self.anchors, self.before, self._places = sent, anchors, before, places
        self.has_anchor = any(a in sent for a in anchors) or (before is not None and before.has_anchor)

    def places(self) -> list[tuple[int, int, bool]]:
        """This sentence's places, else (when it names none) those of the sentence before it."""
        if self._places is None:
            self._places = _places(self.sent, self.anchors, [])
        if self._places or self.before is None:
            return self._places
        return self.before.places()


def attribute(text: str, offset: int, anchors: tuple[str, ...], category: str) -> list[RawMention]:
    """Names that ``text`` (a passage starting at document offset ``offset``) says took the action about one
    of ``anchors``, with their status and the sentence saying it."""
    out: list[RawMention] = []
    prev: _Context | None = None
    last_paragraph: _Context | None = None
    prev_end = 0
    for ss, se in split_sentences(text):
        sent = text[ss:se]
        if "\n" in text[prev_end:ss]:
            last_paragraph, prev = prev, None  # a new paragraph: the previous place carries over only to 该园…
        if prev is None and last_paragraph is not None and _ANAPHOR.search(sent):
            prev = last_paragraph
        after_semicolon = text[ss - 1 : ss] in "；;"
        prev_end = se
        has_action = ZH_ACTION_RE.search(sent) is not None
        has_anchor = any(a in sent for a in anchors)
        if not has_action or not (has_anchor or (prev is not None and prev.has_anchor)):
            if has_anchor or has_action:
                prev = _Context(sent, anchors, None)
            elif prev is not None:
                prev = _Context(sent, anchors, prev)
            continue
        if after_semicolon and prev is not None and _opens_with_names(sent):
            prev = None  # "…；磨憨中铁广场、数字经济产业园等重点项目加快推进，…": a new part, a new topic
        names = _names(sent, category)
        item_spans = [span for en in names for span in en.items]
        places: list[tuple[int, int, bool]] | None = None
        mask, _quotes = protected_spans(sent)
        clauses = clause_spans(sent, mask)
        for ci, (cs, ce) in enumerate(clauses):
            acts = [m for m in ZH_ACTION_RE.finditer(sent, cs, ce) if not mask[m.start()]]
            if not acts:
                continue
            slots: list[tuple[int, int]] = []
            if not any(a in sent[cs:ce] for a in anchors):  # the question's place in the clause decides at once
                if places is None:
                    places = _places(sent, anchors, item_spans)
                slots = locative_slots(sent, cs, ce, item_spans)
                if not _locate(places, cs, ce, prev.places() if prev is not None else [], slots):
                    places.extend((a, b, False) for a, b in slots)
                    places.sort()
                    continue
            spans = [span for en in names for span in en.items if cs <= span[0] < ce]
            if not spans:
                spans = [sp for sp in _partners(sent, cs, ce, category) if sent[sp[0] : sp[1]] not in anchors]
            if not spans:
                if places is None:
                    places = _places(sent, anchors, item_spans)
                spans = _bare_names(sent, cs, ce, acts[0].start(), acts[-1].end(), category,
                                    places + [(a, b, False) for a, b in slots])
            if not spans and ci > 0 and _subjectless(sent[cs : acts[0].start()]):
                ps, pe = clauses[ci - 1]  # 浙江油气、经纬先达等一批企业，先后落地磨憨 (not: …，京雄高铁全线建成)
                if not ZH_ACTION_RE.search(sent, ps, pe):
                    spans = [span for en in names for span in en.items if ps <= span[0] < pe and en.explicit]
            if not spans and ci + 1 < len(clauses):
                ns, ne = clauses[ci + 1]  # …落地企业15家，包括长江电子、黄河食品等 / …引进了：A、B
                if sent[ce : ce + 1] in "：:" or (_LISTING.match(sent, ns) and not ZH_ACTION_RE.search(sent, ns, ne)):
                    spans = [span for en in names for span in en.items if ns <= span[0] < ne]
            if not spans:
                continue
            status = clause_status(sent[cs:ce], acts[0].start() - cs)
            if status != WITHDRAWN and _withdrawn_later(sent, clauses, ci, names):
                status = WITHDRAWN  # 翠柏包装原计划落户磨憨，但因资金问题尚未落地
            for a, b in spans:
                name = sent[a:b].strip("“”\"'《》")
                if not _NAME_CHARS.fullmatch(name) or any(anchor == name for anchor in anchors):
                    continue
                if not _plausible_name(name, category):
                    continue
                k = sent.find(name, a)
                out.append(RawMention(name, offset + ss + k, offset + ss + k + len(name), status,
                                      (offset + ss, offset + se), "".join(m.group() for m in acts)))
        prev = _Context(sent, anchors, None, places)
    return out

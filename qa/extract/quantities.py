"""Quantities in Chinese text: number + magnitude + unit spans (约14亿元, 1,256家, 32.6%, 百分之五), with the
hedges that belong to them, dates and the question's own numbers left out; how well a quantity's unit
fits a question's unit hints; "A和B…分别…X和Y" pairing of subjects with values; and the word a Chinese
quantity question measures (总投资多少 -> 总投资).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.extract.dates import date_spans
from qa.extract.terms import PREFIX_CHARS
from qa.extract.tokens import cut_known_words, is_han, pos_tokens
from qa.question_type import has_han

_AR_NUM = r"\d+(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_CN_NUM = r"[零〇一二两三四五六七八九十百千万亿]+"
_MAG = r"万亿|千亿|百亿|十亿|亿|千万|百万|十万|万|千|百"
_UNITS = tuple(
    """
    个百分点 百分点 平方公里 平方千米 平方米 立方米 千瓦时 兆瓦 吉瓦 千瓦 公顷 公里 千米 千克 公斤 标箱
    人民币 美元 欧元 港元 日元 英镑 元 平米 亩 % ％ ‰ 人次 个月 小时 分钟 家 个 项 栋 幢 座 条 件 名 位
    人 户 所 台 辆 套 次 场 款 处 艘 架 列 趟 宗 份 张 部 种 类 批 篇 期 轮 届 年 天 周 倍 成 吨 米 度
    ㎡
    """.split()
)
_UNIT_ALT = "|".join(sorted(map(re.escape, _UNITS), key=len, reverse=True))
_QTY_RE = re.compile(
    rf"(?P<pre>约|大约|近|将近|接近|逾|超过|超|不足|不到)?"
    rf"(?P<num>(?:{_AR_NUM}|{_CN_NUM})(?:\s*[-—–~～至到]\s*(?:{_AR_NUM}|{_CN_NUM}))?)"
    rf"(?P<a1>[多余])?(?P<mag>{_MAG})?(?P<a2>[多余])?(?P<unit>{_UNIT_ALT})(?P<post>多|余|以上|以下|左右)?"
    rf"|(?P<pct>百分之(?:{_AR_NUM}|{_CN_NUM}))"
    rf"|(?P<frac>(?:{_AR_NUM}|{_CN_NUM})分之(?:{_AR_NUM}|{_CN_NUM}))"
)
_CN_DIGIT = re.compile("[零〇一二两三四五六七八九十]")
_COUNT_CLASSIFIERS = set("个批种类次项条家名位件场款处份张部篇期轮届")


@dataclass
class Quantity:
    """A number+unit span of a sentence."""

    start: int
    end: int
    unit: str  # magnitude + unit, e.g. 亿元, 万平方米, %
    bare_unit: str


def find_quantities(text: str, question_numbers: set[str]) -> list[Quantity]:
    """Number+unit spans of a sentence, dates and the question's own numbers excluded."""
    dates = date_spans(text)
    out: list[Quantity] = []
    for m in _QTY_RE.finditer(text):
        a, b = m.start(), m.end()
        if any(a < d1 and d0 < b for d0, d1 in dates):
            continue
        if m.group("pct") or m.group("frac"):
            out.append(Quantity(a, b, "%", "%"))
            continue
        num, unit = m.group("num"), m.group("unit")
        if not re.search(r"\d", num):
            if not _CN_DIGIT.search(num):
                continue  # 万元 with no number
            if num == "一" and unit in _COUNT_CLASSIFIERS:
                continue  # 一批, 一个: idiom rather than a count
            if a and text[a - 1] in "第之每各":
                continue
            if num == "一" and a and is_han(text[a - 1]) and not m.group("pre"):
                continue  # 统一/进一步-like word fragments
        elif a and text[a - 1] == "第":
            continue
        if unit == "年" and re.fullmatch(r"(?:19|20)\d{2}", num):
            continue  # a year, not a duration
        if re.sub(r"\D", "", num) and re.sub(r"\D", "", num) in question_numbers:
            continue
        mag = m.group("mag") or ""
        out.append(Quantity(a, b, mag + unit, unit))
    return out


def unit_match(q: Quantity, hints: list[str], primary: set[str]) -> float:
    """How well a quantity's unit fits the hints: 2 a primary hint, 1 another, 0 none, 0.5 without hints."""
    if not hints:
        return 0.5
    unit = q.unit.replace("％", "%")
    for h in hints:
        if unit == h or unit.endswith(h) or q.bare_unit == h:
            return 2.0 if h in primary else 1.0
    return 0.0


def pair_respectively(text: str, values: list[Quantity]) -> list[tuple[str, Quantity]] | None:
    """Pair the subjects and values of "A和B ... 分别 ... X和Y" (same count on both sides)."""
    k = text.find("分别")
    if k < 0:
        return None
    clause_start = max(text.rfind(ch, 0, k) for ch in "，,；;。：:") + 1
    clause_end_candidates = [p for p in (text.find(ch, k) for ch in "，,；;。") if p >= 0]
    clause_end = min(clause_end_candidates) if clause_end_candidates else len(text)
    vals = [v for v in values if k < v.start < clause_end]
    if len(vals) < 2:
        return None
    head = text[clause_start:k]
    parts = [p for p in re.split(r"和|与|及|以及|、", head) if p]
    if len(parts) != len(vals):
        return None
    subjects = []
    for i, part in enumerate(parts):
        if i == len(parts) - 1:  # the last one carries the shared predicate: keep its leading nouns
            kept = ""
            for _a, _b, word, pos in pos_tokens(part):
                if pos[0] in "pvudcr" and pos != "vn" and kept:
                    break
                kept += word
            part = kept
        subjects.append(part)
    return list(zip(subjects, vals, strict=True))


_ATTR_SKIP = frozenset(
    "是 为 有 达 达到 约 共 共有 一共 总共 合计 累计 了 的 到 在 将 能 可 可以 会 要 大概 大约".split()
)


def quantity_attribute(q: str) -> str:
    """The word a Chinese quantity question measures: the content word right before 多少/几/多大
    (总投资多少 -> 总投资, 同比增长多少 -> 增长)."""
    m = re.search(r"多少|几|多大|多高|多长|多久|多远", q)
    if not m or not has_han(q[: m.start()]):
        return ""
    words = [w for w in cut_known_words(q[: m.start()]) if w.strip()]
    while words and (words[-1] in _ATTR_SKIP or not has_han(words[-1])):
        words.pop()
    if not words:
        return ""
    word = words[-1]
    if len(words) > 1 and (len(word) == 1 or words[-2] in PREFIX_CHARS):
        word = words[-2] + word  # 总+投资 -> 总投资
    return word if len(word) >= 2 else ""

"""The one list of question and function words: words that carry a question's form, not its topic.

Used by the query tokenizer (BM25 and the coverage check never see them), the not-found verdict (they
are never a distinctive term), question typing (the time phrases) and the key-term extractor. A phrase
is masked whole before a question is cut into words, so 什么时候 leaves no 时候 and 哪一年 no 一年 behind.
"""

from __future__ import annotations

import re
from itertools import product

_WHICH = ("什么", "甚么", "哪个", "哪一")
_TIME_NOUNS = ("日子", "日期", "年份", "年度", "季度", "月份", "时段", "时期", "时间")
# Phrases that ask for a point in time (question typing: TIME).
ZH_TIME_PHRASES: tuple[str, ...] = (
    *"何时 何年 何日 几时 几月 几月份 几号 几日 哪年 哪一年 哪几年 哪些年 哪天 哪一天 哪日 哪一日 哪个月 哪一个月".split(),
    *"什么时候 甚么时候 啥时候 啥时 多少年前".split(),
    *("".join(p) for p in product(_WHICH, _TIME_NOUNS)),
)
_COUNTERS = "个 家 项 条 栋 座 名 位 次 批 类 种 所 台 辆 套 件 户 部".split()
_NUMERALS = "一 两 二 三 四 五 六 七 八 九 十 几".split()
# Phrases that ask for something else: a list, an amount, a duration, a reason, a yes or no.
ZH_OTHER_PHRASES: tuple[str, ...] = (
    *"哪些 哪些是 哪几 哪里 哪儿 哪 什么 甚么 什么样 啥 怎么 怎样 怎么样 如何 为什么 为何 谁 是否 是不是 能否 有没有"
    " 多少 多久 多长时间 多长 多大 多高 多远 多快 几年 几天 几个月 多少年 多少天 多少个月 百分之几 几成 几倍 请问".split(),
    *("哪" + c for c in (*_COUNTERS, "些")),
    *("哪" + n + c for n, c in product(_NUMERALS, _COUNTERS)),
    *("多少" + c for c in _COUNTERS),
    *("几" + c for c in _COUNTERS),
)
# Words that hold a sentence together and say nothing about its topic.
ZH_FUNCTION_WORDS: frozenset[str] = frozenset(
    "的 了 是 在 有 和 与 及 或 对 为 被 把 将 由 从 向 于 以 要 也 都 就 还 又 并 该 此 这 那 其 各 每 吗 呢 吧 啊 呀 么 请"
    " 以及 已经 其中 目前 这些 那些 一些 分别 具体 主要".split()
)
EN_QUESTION_WORDS: frozenset[str] = frozenset(
    "which what when where who whom whose how why is are was were be been the a an of in on at to for did do "
    "does many much".split()
)

QUESTION_WORDS: frozenset[str] = frozenset(
    {*ZH_TIME_PHRASES, *ZH_OTHER_PHRASES, *ZH_FUNCTION_WORDS, *EN_QUESTION_WORDS}
)
"""Every question and function word, Chinese and English, lower-cased: never a query term."""


def _alternation(words) -> str:
    return "|".join(map(re.escape, sorted(set(words), key=lambda w: (-len(w), w))))


ZH_TIME_RE = re.compile(_alternation(ZH_TIME_PHRASES))
"""Any Chinese phrase that asks when."""
ZH_QUESTION_RE = re.compile(_alternation((*ZH_TIME_PHRASES, *ZH_OTHER_PHRASES)))
"""Any Chinese question phrase, longest first (什么时候 before 什么)."""
_FINAL_PARTICLES = re.compile(r"[的了吗呢吧啊呀么]+(?=[\s？?。！!，,]*$)")


def mask_question_words(text: str, mark: str = " ") -> str:
    """``text`` with every Chinese question phrase and sentence-final particle replaced by ``mark``."""
    return ZH_QUESTION_RE.sub(mark, _FINAL_PARTICLES.sub(mark, text))

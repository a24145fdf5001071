"""Names inside list pieces: where a name starts (introducing words such as 签约, 承接了, 包括 cut off) and
ends (a last item not closed by 等), splitting at conjunctions without breaking agency names
(工业和信息化部), and whether pieces are names at all rather than actions or everyday words. Holds the
organization-name suffixes (…有限公司, …集团, …大学) the list finders share.
"""

from __future__ import annotations

import re

from qa.extract.clauses import QUOTE_OPEN
from qa.extract.tokens import HAN, HAN_RE, pos_tokens

FIRM_SUFFIX = r"股份有限公司|有限责任公司|有限公司|分公司|子公司|公司|集团|银行|控股|股份"
ORG_SUFFIX = r"大学|学院|研究院|研究所|实验室|联合会|协会|商会|医院"
FIRM_SUFFIX_RE = re.compile(rf"(?:{FIRM_SUFFIX})$")
ORG_SUFFIX_RE = re.compile(rf"(?:{ORG_SUFFIX})$")
NAME_SUFFIX_RE = re.compile(rf"{FIRM_SUFFIX}|{ORG_SUFFIX}")


# Words before a list that are not part of its first item (verbs that introduce names, prepositions...).
_LEAD_STRONG = frozenset(
    """
    签约 签下 签署 签订 引进 引入 吸引 招引 引荐 承接 包括 包含 涵盖 涉及 覆盖 例如 比如 诸如 如 像 有
    是 为 与 和 及 同 跟 向 对 把 将 被 让 使 给 在 从 由 于 以 就 了 的 等 还 也 并 已 已经 先后 相继
    陆续 成功 分别 共同 均 都 目前 截至 近年来 其中 联合 携手 依托 围绕 聚焦 支持 鼓励 引导 组织 协同
    配合 对接 落户 入驻 落地 注册 集聚 汇聚 包揽 拥有 成立 设立 招商 即 主要有 主要 重点 已有 现有 共有
    还有 另有 就有 拥有 包括了 吸引了 引进了 签约了 承接了 出台 印发 发布 制定 采取 实施 推出 评选 认定
    公布 入选 获评
    """.split()
)
_LEAD_WEAK = frozenset(
    """
    发展 建设 打造 培育 推动 推进 壮大 扶持 坚持 结合 实行 围绕着 突出 瞄准 做强 做大 加快 积极 大力
    着力 持续 不断 进一步 实现 形成 建立 开展 开通 服务 布局 带动 促进 助力 整合 升级 改造 提升 完善
    优化 保障 覆盖 辐射 连接 联通 面向 服务于 对标 瞄准 培养 孵化 招募 吸纳 引育 新建 新增 启动 谋划
    储备 签约落地 投资 参股 控股 收购 并购 合资 入股 授牌 命名 表彰 遴选 筛选 确定 确立 列入 纳入
    """.split()
)
# Introducing verbs whose objects are firms or projects (a list after them is likely an answer to "which firms").
_TAKES_NAMES = frozenset(
    "签约 签下 签署 签订 引进 引入 吸引 招引 引荐 承接 落户 入驻 落地 注册 新增 收购 并购 孵化 培育 招募 授牌 遴选 认定 入选".split()
)
_TRAIL_STOP = frozenset(
    """
    签约 签署 签订 落地 入驻 落户 注册 在内 共同 先后 相继 陆续 分别 均 都 已 已经 正在 将 也 还 纷纷 向
    在 从 对 于 把 被 成为 实现 加快 推进 建立 形成 达成 参加 参与 共建 合作 开展 进行 获得 获批 入选
    建成 投产 开工 投用 等 的 了 以 为 是 与
    """.split()
)
_GENERIC_ITEMS = frozenset(
    "企业 公司 项目 园区 单位 部门 机构 产业 行业 领域 地区 城市 政府 国家 省份 方面 工作 平台 重点 其他 其它 有关 相关 一批 多家".split()
)
CONJ = frozenset({"和", "及", "以及", "与", "同", "暨"})


def trim_lead(text: str, a: int, b: int) -> tuple[int, bool]:
    """Start of the name that ends at ``b`` in ``text[a:b]``, cutting introducing words (签约, 承接了, 从...).
    Returns (start, whether a verb that takes firms/projects was cut)."""
    piece = text[a:b]
    suffixed = bool(NAME_SUFFIX_RE.search(piece[-6:]))
    tokens = pos_tokens(piece)
    cut = 0
    verb = False
    for idx in range(len(tokens) - 1, -1, -1):
        s, e, word, pos = tokens[idx]
        if idx == len(tokens) - 1 and len(tokens) > 1 and word not in ("了",):
            continue  # the name itself ends here
        stop = word in _LEAD_STRONG or (not suffixed and word in _LEAD_WEAK)
        if (
            not stop
            and len(word) == 1
            and pos in ("p", "c", "uj", "ul", "uz", "ug", "uv", "ud")
            and word != "之"
        ):
            stop = True
        if not stop and len(word) >= 2 and pos in ("d", "p", "c", "r"):
            stop = True
        if stop and word in CONJ and piece[-1] in _AGENCY_END and piece[s - 1 : s] not in _AGENCY_END:
            stop = len(piece) - e > 6  # 工业和信息化部 is one name
        if stop:
            cut = e
            verb = word in _TAKES_NAMES
            break
        # 承接了裕能 is tokenized 承接/了裕/能: a verb, then 了 glued to the name
        if word[0] == "了" and idx > 0 and tokens[idx - 1][2] in _LEAD_STRONG | _LEAD_WEAK:
            cut = s + 1
            verb = tokens[idx - 1][2] in _TAKES_NAMES
            break
    if cut == 0 and len(tokens) > 1 and len(tokens[0][2]) >= 2 and tokens[0][3] in ("v", "vd"):
        cut = tokens[0][1]  # a clause that opens with a verb (结合临港集团…): the name is its object
        verb = tokens[0][2] in _TAKES_NAMES
    start = a + cut
    while start < b and text[start] in "了着过的将已 ":
        start += 1
    return start, verb


def trim_trail(text: str, a: int, b: int) -> int | None:
    """End of the name that starts at ``a`` in ``text[a:b]`` (a last list item not closed by 等).
    None when the piece is a modifier ("主动流转的市域企业"), i.e. the list is not a list of names."""
    piece = text[a:b]
    m = None
    for found in NAME_SUFFIX_RE.finditer(piece):
        m = found  # the last name suffix in the piece
    if m is not None and m.end() >= len(piece) - 12:
        rest = piece[m.end() :]
        if not rest or not HAN_RE.match(rest[0]) or rest[:2] in _TRAIL_STOP or rest[:1] in _TRAIL_STOP:
            return a + m.end()
    tokens = pos_tokens(piece)
    for idx, (s, _e, word, _pos) in enumerate(tokens):
        if idx == 0:
            continue
        if word == "的":
            return None
        if word in _TRAIL_STOP:
            return a + s
    for idx, (s, _e, word, pos) in enumerate(tokens):
        if idx == 0:
            continue
        rest = len(piece) - s
        if (pos in ("v", "vd", "p") and len(word) >= 2 or pos == "p") and rest - len(word) >= 2:
            return a + s
    return b


_AGENCY_END = "部厅局委办署"


def split_at_conjunctions(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """Split a piece at conjunctions (A和B, A及B, A以及B, A与B): conjunction tokens (never inside a jieba
    word), and any conjunction right after a name suffix or a closing quote (…有限公司和隆基…)."""
    cuts: list[tuple[int, int]] = []
    for s, e, word, _pos in pos_tokens(text[a:b]):
        if word in CONJ and s > 0 and a + e < b:
            cuts.append((a + s, a + e))
    for m in re.finditer(
        r"(?:(?<=公司|集团|银行|大学|学院|协会)|(?<=[”》」』]))(?:以及|和|及|与)", text[a:b]
    ):
        cuts.append((a + m.start(), a + m.end()))
    out = []
    start = a
    for s, e in sorted(set(cuts)):
        if text[b - 1] in _AGENCY_END and text[s - 1] not in _AGENCY_END and s - start <= 6:
            continue  # one agency name: 工业和信息化部, 住房和城乡建设部, 文化和旅游厅
        if s > start and e < b:
            out.append((start, s))
            start = e
    out.append((start, b))
    return out


def is_valid_item(item: str) -> bool:
    """Whether a piece can be a listed name: 2-40 characters, no clause punctuation, not a count or generic."""
    if len(item) < 2 or len(item) > 40:
        return False
    if item in _GENERIC_ITEMS or re.match(
        r"[\d零一二两三四五六七八九十百千几数多]+[多余]?[个家项所座条批类种名位]", item
    ):
        return False
    if not re.search(rf"[{HAN}A-Za-z]", item):
        return False
    return not any(ch in item for ch in "，,；;。：:")


def mostly_actions(text: str, items: list[tuple[int, int]]) -> bool:
    """Whether most items start with a verb (or hold a count), i.e. the list is of actions, not names."""
    actions = 0
    for s, e in items:
        item = text[s:e]
        if item.startswith(("《", "“")) or text[s - 1 : s] in ("“", "《"):
            continue
        toks = pos_tokens(item)
        if re.search(r"\d+(?:\.\d+)?[个家项条批类种名位%]", item) or len(toks) == 1 and toks[0][3] == "v":
            actions += 1
        elif (
            toks
            and len(toks) > 1
            and len(toks[0][2]) >= 2
            and (toks[0][3] in ("v", "vd") or toks[0][2] in _LEAD_STRONG | _LEAD_WEAK)
        ):
            actions += 1
    return actions * 2 > len(items)


_COMMON_POS = frozenset({"n", "v", "vn", "a", "an", "ad", "d", "b", "l", "i"})
_VERBAL_POS = frozenset({"v", "vn", "a", "ad", "an", "d"})


def mostly_common_words(text: str, items: list[tuple[int, int]]) -> bool:
    """Whether most items are everyday words (one dictionary word, or only verbs/adjectives) rather
    than names (proper nouns, unknown words, names with a suffix)."""
    common = 0
    for s, e in items:
        item = text[s:e]
        if NAME_SUFFIX_RE.search(item) or text[s - 1 : s] in QUOTE_OPEN or item[:1] in QUOTE_OPEN:
            continue
        toks = pos_tokens(item)
        if len(toks) == 1 and toks[0][3] in _COMMON_POS or toks and all(t[3] in _VERBAL_POS for t in toks):
            common += 1
    return common * 2 > len(items)

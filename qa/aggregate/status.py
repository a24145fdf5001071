"""The status a clause gives the names it attributes: signed, landed, operating, planned or withdrawn.

Cues are read in the clause that holds the action: a withdrawal or negation (撤出, 终止, 未落地) wins, then
an intention (拟, 计划, 意向, 将 right before the action), then operation (投产, 开业), then landing
(落地, 落户, 入驻, 引进, 开工…), then a bare signing (签约, 签署). Planned and withdrawn names are never
counted as landed.
"""

from __future__ import annotations

import re

SIGNED, LANDED, OPERATING, PLANNED, WITHDRAWN = "signed", "landed", "operating", "planned", "withdrawn"
STATUSES = (LANDED, OPERATING, SIGNED, PLANNED, WITHDRAWN)
COUNTED = frozenset({SIGNED, LANDED, OPERATING})  # what "N items landed" counts
# When one item has several mentions of the same date, the stronger status stands.
STRENGTH = {PLANNED: 0, SIGNED: 1, LANDED: 2, OPERATING: 3, WITHDRAWN: 4}

_WITHDRAWN = re.compile(
    r"撤出|撤离|撤资|退出|终止|中止|解约|取消|搁浅|放弃|停产|关停|注销|迁出|外迁|流失|"
    r"(?:未能?|尚未|没有|并未|暂未|仍未)(?:正式|真正|如期|按期)?(?:落地|落户|入驻|签约|开工|投产|进驻|引进)"
)
_PLANNED_NEAR = re.compile(r"(?:拟|计划|准备|筹划|打算|有望|预计|意向|将于|将在|将|即将|有意|谋划|洽谈)[^，。；]{0,6}$")
_PLANNED_ANY = re.compile(r"意向|拟|洽谈中|正在洽谈|待签约|有意向")
_OPERATING = re.compile(r"投产|达产|开业|运营|投运|投入使用|试生产|试运行|量产|正式营业|建成投用")
_LANDED = re.compile(r"落地|落户|落子|入驻|进驻|入园|引进|引入|招引|吸引|承接|开工|动工|建成|注册|设立|迁入|扎根|安家")
_SIGNED = re.compile(r"签约|签下|签署|签订")
_DONE_BEFORE = re.compile(r"已经?|已于|成功|正式|顺利")


def clause_status(clause: str, action_at: int) -> str:
    """Status of the names a clause attributes; ``action_at`` is where its (first) action word starts."""
    if _WITHDRAWN.search(clause):
        return WITHDRAWN
    before = clause[:action_at]
    if (_PLANNED_NEAR.search(before) and not _DONE_BEFORE.search(before[-4:])) or _PLANNED_ANY.search(clause):
        return PLANNED
    if _OPERATING.search(clause):
        return OPERATING
    if _LANDED.search(clause):
        return LANDED
    if _SIGNED.search(clause):
        return SIGNED
    return LANDED


def stronger(a: str, b: str) -> str:
    """The status that stands when two mentions of one date disagree."""
    return a if STRENGTH[a] >= STRENGTH[b] else b

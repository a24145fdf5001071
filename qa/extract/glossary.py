"""A small English-to-Chinese glossary of policy-news words, so that an English question finds the Chinese
words that carry it in a text (invested -> 投资, science city -> 科技城). Single words are matched by stem
plus a regular English ending; phrases are matched as substrings of the lower-cased question.
"""

from __future__ import annotations

# English policy-news words -> the Chinese words that carry them in a text.
_GLOSSARY: dict[str, tuple[str, ...]] = {
    "firm": ("企业", "公司"),
    "company": ("企业", "公司"),
    "compani": ("企业", "公司"),
    "enterprise": ("企业",),
    "business": ("企业",),
    "project": ("项目",),
    "park": ("园区", "产业园"),
    "invest": ("投资",),
    "sign": ("签约",),
    "land": ("落地",),
    "settl": ("落地", "入驻"),
    "locat": ("落地",),
    "register": ("注册",),
    "regist": ("注册",),
    "town": ("镇",),
    "county": ("县",),
    "province": ("省",),
    "industr": ("产业", "工业"),
    "servic": ("服务业",),
    "econom": ("经济",),
    "growth": ("增长",),
    "grow": ("增长",),
    "contribut": ("贡献",),
    "area": ("面积",),
    "building": ("建筑", "栋"),
    "transfer": ("转移",),
    "cooperat": ("合作",),
    "zone": ("区",),
    "system": ("体系",),
    "mechanism": ("机制",),
    "polic": ("政策",),
    "measure": ("措施",),
    "revenue": ("营收", "收入"),
    "population": ("人口",),
    "open": ("开园", "开业", "开通"),
    "railway": ("铁路",),
    "border": ("边境",),
    "document": ("文件",),
    "plan": ("规划", "计划"),
    "bank": ("银行",),
    "universit": ("大学",),
    "agreement": ("协议",),
    "strategic": ("战略",),
    "research": ("研究",),
    "visit": ("调研",),
    "employ": ("就业",),
    "job": ("就业",),
    "export": ("出口",),
    "trade": ("贸易", "商贸"),
    "manufactur": ("制造",),
    "energy": ("能源",),
    "digital": ("数字",),
    "center": ("中心",),
    "centre": ("中心",),
    "hub": ("枢纽",),
    "capital": ("省会",),
    "launch": ("启动",),
    "complet": ("建成",),
    "construct": ("建设",),
    "cross-border": ("跨境",),
    "crossborder": ("跨境",),
    "region": ("区域",),
}
GLOSSARY_PHRASES: dict[str, tuple[str, ...]] = {
    "science city": ("科技城",),
    "tech city": ("科技城",),
    "technology city": ("科技城",),
    "take over": ("托管",),
    "take on": ("承接",),
    "took on": ("承接",),
    "taken on": ("承接",),
    "undertak": ("承接",),
    "undertook": ("承接",),
    "took over": ("托管",),
    "taken over": ("托管",),
    "taking over": ("托管",),
    "industrial park": ("产业园", "园区"),
    "cooperation zone": ("合作区",),
    "trade zone": ("自贸",),
    "free trade": ("自贸",),
    "contribution rate": ("贡献率",),
    "added value": ("增加值",),
    "value added": ("增加值",),
    "total investment": ("总投资",),
    "floor area": ("建筑面积",),
    "border port": ("口岸",),
    "port city": ("口岸城市",),
}
# Endings an English word may add to a glossary stem (invest -> invested, compani -> companies).
_EN_ENDINGS = frozenset(
    "s es ed d ing e y ies ic ics al ial ion ions ment ments er ers ered ration ive ee ees ly ation ations".split()
)


def glossary_lookup(word: str) -> tuple[str, ...]:
    """Chinese words for an English word, by stem and a regular ending (signed -> 签约, not significant)."""
    for stem in sorted(_GLOSSARY, key=len, reverse=True):
        if word.startswith(stem) and (word == stem or word[len(stem) :] in _EN_ENDINGS):
            return _GLOSSARY[stem]
    return ()

"""Normalization of the noisy sample, and the offset map back to the original text."""

from __future__ import annotations

import re

from conftest import SAMPLE
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.normalize import normalize

PINYIN = re.compile(r"[(（][a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+[)）]")
TONED = re.compile("[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ]")


def sample_text() -> str:
    return SAMPLE.read_text(encoding="utf-8")


def test_sample_has_no_pinyin_left():
    text = normalize(sample_text()).text
    assert not PINYIN.search(text)
    assert not TONED.search(text), TONED.search(text)


def test_sample_is_simplified():
    text = normalize(sample_text()).text
    for phrase in ("沪滇临港昆明科技城", "浙江油气、经纬先达、欧瑞照明", "抢抓机遇协调发展 有序承接产业梯度转移",
                   "磨憨—磨丁合作区", "总投资约14亿元", "计划总投资12.92亿元"):
        assert phrase in text, phrase
    for traditional in ("滬滇", "臨港", "經緯", "歐瑞", "機遇", "產業"):
        assert traditional not in text


def test_mojibake_left_in_place_without_annotations():
    text = normalize(sample_text()).text
    # "承接?xùn)|中部": the fragment stays, the broken annotation "xùn)" goes.
    assert "承接?|中部" in text
    assert "?记" in text  # from "?shū)記"


def test_fullwidth_letters_and_digits_fold_but_chinese_punctuation_stays():
    n = normalize("ＡＢＣ１２３，中文。！？；“引号”")
    assert n.text == "ABC123，中文。！？；“引号”"


def test_whitespace_tidied():
    assert normalize("  甲　　乙 \t丙  \r\n\r\n\r\n\r\n丁  ").text == "甲 乙 丙\n\n丁"


def test_toneless_syllable_kept_unless_it_is_the_reading():
    assert normalize("公司(ABC)成立").text == "公司(ABC)成立"
    assert normalize("和(de)的").text == "和(de)的"  # "de" is no reading of 和
    assert normalize("機(ji)遇").text == "机遇"


def test_sample_spans_map_back_exactly():
    original = sample_text()
    n = normalize(original)
    i = n.text.index("浙江油气、经纬先达、欧瑞照明")
    a, b = n.to_original(i, i + len("浙江油气、经纬先达、欧瑞照明"))
    assert original[a:b] == "浙江油氣、經(jīng)緯先達(dá)、歐瑞照明"
    i = n.text.index("机遇")
    a, b = n.to_original(i, i + 2)
    assert original[a:b] == "機(jī)遇"


_PIECES = st.sampled_from(
    ["機", "(jī)", "遇", "产", "業", "(yè)", "Ａ", "１", "a", " ", "  ", "\u3000", "\n", "\r\n", "。", "，",
     "?", "xùn)", "|", "(ABC)", "\u200b", "12.92", "億元", "臺灣", "(tái)"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_offset_map_properties(original):
    n = normalize(original)
    src = n.source
    assert len(src) == len(n.text)
    # strictly increasing positions inside the original
    assert all(0 <= int(x) < len(original) for x in src)
    assert all(int(a) < int(b) for a, b in zip(src, src[1:], strict=False))
    # each normalized character comes from its source character (folded/converted) or from whitespace
    for ch, i in zip(n.text, src, strict=True):
        o = original[int(i)]
        assert ch == o or normalize(o).text == ch or (ch in " \n" and o.isspace()), (ch, o)
    # every span maps to an original span that normalizes back to the same text
    for a in range(0, len(n.text) + 1, 3):
        for b in range(a, len(n.text) + 1, 4):
            oa, ob = n.to_original(a, b)
            assert 0 <= oa <= ob <= len(original)
            if b > a and not n.text[a:b].strip() == "":
                assert normalize(original[oa:ob]).text == n.text[a:b].strip()

"""Undeclared UTF-8 / GB18030 / GBK / Big5 detection, binary refusal and the size cap."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus import encoding
from corpus.encoding import DecodeError, decode_bytes, detect_encoding, read_capped

SAMPLE = Path(__file__).parents[1] / "corpus" / "samples" / "kunming" / "kunming-industry-transfer-2025-03-24.txt"
_PINYIN = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")

SIMPLIFIED = (
    "昆明市将深入学习贯彻习近平总书记重要讲话精神，扩大高水平对外开放，加快推进昆明承接产业转移园区建设，"
    "积极承接东中部产业转移，不断提升昆明在服务国家重大战略中的嵌入度和贡献度。"
)
TRADITIONAL = (
    "昆明市將深入學習貫徹習近平總書記重要講話精神，擴大高水平對外開放，加快推進昆明承接產業轉移園區建設，"
    "積極承接東中部產業轉移，不斷提升昆明在服務國家重大戰略中的嵌入度和貢獻度。"
)
SHORT_SIMPLIFIED = ["中国", "发展", "你好世界", "产业转移", "来源：新华社", "时间：2025年3月24日"]
SHORT_TRADITIONAL = ["時間", "發展", "你好世界", "產業轉移", "來源：昆明信息港", "機遇"]


def _plain_traditional() -> str:
    """The bundled sample without pinyin annotations and mojibake: clean Traditional text."""
    text = _PINYIN.sub("", SAMPLE.read_text(encoding="utf-8"))
    text = "".join(ch for ch in text if ch not in "?\ufffd")
    return text.encode("big5", errors="ignore").decode("big5")  # drops leftovers of broken annotations


@pytest.mark.parametrize("codec", ["utf-8", "gbk", "gb18030"])
@pytest.mark.parametrize("text", [pytest.param(SIMPLIFIED, id="sentence"), *SHORT_SIMPLIFIED])
def test_simplified_is_read_without_declaration(codec: str, text: str) -> None:
    assert decode_bytes(text.encode(codec), "a.txt") == (text, [])


@pytest.mark.parametrize("codec", ["utf-8", "big5", "cp950", "gb18030"])
@pytest.mark.parametrize("text", [pytest.param(TRADITIONAL, id="sentence"), *SHORT_TRADITIONAL])
def test_traditional_is_read_without_declaration(codec: str, text: str) -> None:
    assert decode_bytes(text.encode(codec), "a.txt") == (text, [])


@pytest.mark.parametrize("codec", ["utf-8", "big5", "gb18030"])
def test_whole_sample_round_trips(codec: str) -> None:
    text = _plain_traditional()
    assert decode_bytes(text.encode(codec), "a.txt") == (text, [])


def test_gb18030_four_byte_characters() -> None:
    text = "数据中心𠀀项目落地，𤭢字与欧元符号€也能读。" + SIMPLIFIED
    data = text.encode("gb18030")
    assert b"\x95\x32\x82\x36" in data  # U+20000 is a four-byte sequence
    assert decode_bytes(data, "a.txt") == (text, [])


@pytest.mark.parametrize(("codec", "text"), [("big5", TRADITIONAL), ("gbk", SIMPLIFIED)])
def test_chinese_after_a_long_ascii_head(codec: str, text: str) -> None:
    page = "<html><head><script>" + "var x = 1;" * 10_000 + "</script></head><body>" + text + "</body></html>"
    assert decode_bytes(page.encode(codec), "page.html") == (page, [])


def test_utf8_bom_is_stripped() -> None:
    assert decode_bytes(b"\xef\xbb\xbf" + SIMPLIFIED.encode(), "a.txt") == (SIMPLIFIED, [])


def test_utf16_with_bom() -> None:
    assert decode_bytes(SIMPLIFIED.encode("utf-16"), "a.txt") == (SIMPLIFIED, [])


def test_ascii_and_empty() -> None:
    assert decode_bytes(b"plain ascii\n", "a.txt") == ("plain ascii\n", [])
    assert decode_bytes(b"", "a.txt") == ("", [])


def test_utf8_with_pinyin_annotations() -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    assert decode_bytes(text.encode("utf-8"), "a.txt") == (text, [])


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"x" * 100,
        b"\x7fELF\x02\x01\x01" + b"\x00" * 100,
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
        "正文".encode() + b"\x00" + "正文".encode(),
        bytes([1, 2, 3, 4, 5, 6, 14, 15, 16, 17]) * 20 + SIMPLIFIED.encode(),
    ],
    ids=["png", "zip", "elf", "pdf", "nul", "control-bytes"],
)
def test_binary_is_refused(data: bytes) -> None:
    with pytest.raises(DecodeError, match="binary") as info:
        decode_bytes(data, "a.txt")
    assert info.value.reason.startswith("binary file") and info.value.binary


@pytest.mark.parametrize("codec", ["utf-8", "gbk", "big5"])
def test_stray_bad_bytes_are_replaced_with_a_warning(codec: str) -> None:
    text = SIMPLIFIED if codec != "big5" else TRADITIONAL
    good = text.encode(codec)
    middle = len(good) // 2
    middle -= middle % 2 if codec != "utf-8" else 0  # keep GBK/Big5 pairs aligned
    if codec == "utf-8":
        middle = good.index("。".encode())
    data = good[:middle] + b"\xff" + good[middle:] + b"\xff\n"
    decoded, warnings = decode_bytes(data, "dir/a.txt")
    assert decoded.count("\ufffd") == 2
    assert decoded.replace("\ufffd", "").strip() == text
    assert len(warnings) == 1 and "2 undecodable byte sequences" in warnings[0] and "a.txt" in warnings[0]


def test_a_legitimate_replacement_character_is_not_counted() -> None:
    text = "乱码\ufffd保留" + SIMPLIFIED
    assert decode_bytes(text.encode("utf-8"), "a.txt") == (text, [])


def test_undecodable_text_is_refused() -> None:
    with pytest.raises(DecodeError, match="cannot decode"):
        decode_bytes(b"\xff\xfb\xfd\xfc\x80\x81" * 50 + b"abc", "a.txt")


def test_a_bom_on_garbage_is_refused() -> None:
    with pytest.raises(DecodeError, match="byte-order mark"):
        decode_bytes(b"\xef\xbb\xbf" + b"\xff\xc0" * 50, "a.txt")


def test_detect_encoding_tolerates_a_cut_sample() -> None:
    data = SIMPLIFIED.encode("gbk")
    assert detect_encoding(data[:-1]) == "gb18030"  # ends inside a character
    assert detect_encoding(b"\xef\xbb\xbf" + SIMPLIFIED.encode()) == "utf-8-sig"
    with pytest.raises(DecodeError):
        detect_encoding(b"\x89PNG\r\n\x1a\n")


def test_read_capped_enforces_the_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 101)
    monkeypatch.setattr(encoding, "MAX_FILE_BYTES", 100)
    with pytest.raises(DecodeError, match="file too large: 101 bytes"):
        read_capped(path)
    path.write_bytes(b"x" * 100)
    assert read_capped(path) == b"x" * 100


def test_read_capped_reports_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(DecodeError, match="cannot read file"):
        read_capped(tmp_path / "missing.txt")


_SENTENCES = [s for s in re.split(r"[。\n]", _plain_traditional()) if len(s) >= 12]


@settings(max_examples=60, deadline=None)
@given(
    sentence=st.sampled_from(_SENTENCES),
    simplified=st.booleans(),
    codec=st.sampled_from(["utf-8", "gb18030", "big5"]),
)
def test_sentences_from_the_sample_round_trip(sentence: str, simplified: bool, codec: str) -> None:
    from corpus.normalize import to_simplified

    text = to_simplified(sentence) if simplified else sentence
    try:
        data = text.encode(codec)
    except UnicodeEncodeError:
        return  # Big5 lacks some Simplified characters
    assert decode_bytes(data, "a.txt") == (text, [])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_decode_or_raise_decode_error(data: bytes) -> None:
    try:
        text, warnings = decode_bytes(data, "a.txt")
    except DecodeError as exc:
        assert exc.reason
    else:
        assert isinstance(text, str) and isinstance(warnings, list)

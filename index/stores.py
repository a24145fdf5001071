"""Open a store by configuration: the local segment store, or a backend registered in :data:`BACKENDS`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from index.backend import StoreBackend, StoreConfig, StoreError


def _open_local(config: StoreConfig) -> StoreBackend:
    from index.store import Store

    if config.data_dir is None:
        raise StoreError("a local store needs a data directory (--data-dir or $POLICYQA_DATA)")
    return Store(config.data_dir, config.embedder)


def _open_milvus(config: StoreConfig) -> StoreBackend:
    from index.milvus import open_milvus_store

    return open_milvus_store(config)


# kind -> opener; another backend registers itself with one line here.
BACKENDS: dict[str, Callable[[StoreConfig], StoreBackend]] = {"local": _open_local, "milvus": _open_milvus}


def store_exists(config: StoreConfig) -> bool:
    """Whether ``config`` names a store that was created already (opening one that is not creates it)."""
    if config.kind == "local":
        from index.store import CONFIG

        return config.data_dir is not None and (Path(config.data_dir) / CONFIG).is_file()
    return True  # a server-side store answers for itself when opened


def open_store(config: StoreConfig) -> StoreBackend:
    """The store ``config`` names; StoreError for an unknown kind."""
    try:
        opener = BACKENDS[config.kind]
    except KeyError:
        raise StoreError(f"unknown store kind {config.kind!r}; known: {', '.join(sorted(BACKENDS))}") from None
    return opener(config)

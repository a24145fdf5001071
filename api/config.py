"""Where state lives: the data directory, from the option, the environment or the user's data dir."""

from __future__ import annotations

import os
from pathlib import Path

ENV_DATA = "POLICYQA_DATA"
ENV_EMBEDDER = "POLICYQA_EMBEDDER"


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

"""Errors the front-ends turn into messages: a read of a store that holds nothing yet."""

from __future__ import annotations

from pathlib import Path


class NoDocumentsError(Exception):
    """Search or ask on a store without chunks; ``data_dir`` says which (a data directory or a URI)."""

    def __init__(self, data_dir: Path | str) -> None:
        super().__init__(f"no documents in {data_dir} yet; add some with: policyqa ingest PATH")
        self.data_dir = data_dir


class NoDataDirError(NoDocumentsError):
    """A read on a path that holds no policyqa data directory (nothing was created there)."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        self.args = (f"no policyqa data in {data_dir} (nothing was created); add some with: policyqa ingest PATH",)

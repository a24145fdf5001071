"""One object that the front-ends (CLI, HTTP, chat, MCP) share: store, search and answers."""

from __future__ import annotations

from pathlib import Path

from index.embedder import EmbedderSpec
from index.ingest import IngestReport, ingest_items, ingest_paths
from index.store import Store
from qa.answer import Answer, Answerer
from qa.search import Filters, Hit, Searcher


class NoDocumentsError(Exception):
    """Search or ask on an empty data directory."""


class Engine:
    """policyqa over one data directory."""

    def __init__(self, data_dir: Path | str, embedder: EmbedderSpec | None = None) -> None:
        self.store = Store(data_dir, embedder)
        self.searcher = Searcher(self.store)
        self.answerer = Answerer(self.searcher)

    def _require_documents(self) -> None:
        if self.store.stats()["chunks"] == 0:
            raise NoDocumentsError(
                f"no documents in {self.store.data_dir} yet; add some with: policyqa ingest PATH"
            )

    def search(self, query: str, k: int = 10, filters: Filters | None = None, mode: str = "hybrid") -> list[Hit]:
        """Top passages for a query."""
        self._require_documents()
        return self.searcher.search(query, k=k, filters=filters, mode=mode)

    def ask(self, question: str, k: int = 5, filters: Filters | None = None) -> Answer:
        """An extractive, cited answer."""
        self._require_documents()
        return self.answerer.ask(question, k=k, filters=filters)

    def ingest_paths(self, paths: list[Path | str], **kwargs) -> IngestReport:
        """Read and ingest files and folders."""
        return ingest_paths(self.store, paths, **kwargs)

    def ingest_items(self, items, **kwargs) -> IngestReport:
        """Ingest already-read articles."""
        return ingest_items(self.store, items, **kwargs)

    def delete(self, doc_id: str) -> bool:
        """Delete one document; False when it was not there."""
        return bool(self.store.write([], delete=[doc_id]).deleted)

    def close(self) -> None:
        """Release this thread's database connection."""
        self.store.close()

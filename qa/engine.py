"""One object that the front-ends (CLI, HTTP, chat, MCP) share: store, search and answers."""

from __future__ import annotations

from pathlib import Path

from index.backend import StoreBackend, StoreConfig
from index.embedder import EmbedderSpec
from index.ingest import IngestReport, ingest_items, ingest_paths
from index.stores import open_store
from qa.answer import Answer, Answerer
from qa.llm import GenerationStream, Generator, generator_for
from qa.search import Filters, Hit, Searcher


class NoDocumentsError(Exception):
    """Search or ask on an empty data directory."""


class Engine:
    """policyqa over one store (a data directory by default)."""

    def __init__(
        self, data_dir: Path | str | None = None, embedder: EmbedderSpec | None = None,
        store: StoreBackend | None = None,
    ) -> None:
        """Open ``data_dir`` (a local store), or use ``store`` (any backend) as given."""
        if store is None:
            data = Path(data_dir).expanduser() if data_dir is not None else None
            store = open_store(StoreConfig(kind="local", data_dir=data, embedder=embedder))
        self.store = store
        self.searcher = Searcher(self.store)
        self.answerer = Answerer(self.searcher)

    def _require_documents(self) -> None:
        if self.store.stats()["chunks"] == 0:
            raise NoDocumentsError(
                f"no documents in {self.store.location} yet; add some with: policyqa ingest PATH"
            )

    def search(self, query: str, k: int = 10, filters: Filters | None = None, mode: str = "hybrid") -> list[Hit]:
        """Top passages for a query."""
        self._require_documents()
        return self.searcher.search(query, k=k, filters=filters, mode=mode)

    def ask(self, question: str, k: int = 5, filters: Filters | None = None, generate: bool | None = None) -> Answer:
        """A cited answer: extractive, then rewritten by the configured LLM (qa.llm) unless ``generate`` is False.

        The LLM is only asked when the passages support an answer (``found``); when it fails, the extractive
        answer stays and ``generated["error"]`` says why. ``generate=True`` without an LLM records that too.
        """
        answer, generator = self._ask(question, k, filters, generate)
        return generator.answer(answer) if generator else answer

    def ask_stream(
        self, question: str, k: int = 5, filters: Filters | None = None, generate: bool | None = None
    ) -> tuple[Answer, GenerationStream | None]:
        """The extractive answer and, when ``ask`` would generate, a stream of the LLM's checked text deltas."""
        answer, generator = self._ask(question, k, filters, generate)
        return answer, (generator.stream(answer) if generator else None)

    def _ask(
        self, question: str, k: int, filters: Filters | None, generate: bool | None
    ) -> tuple[Answer, Generator | None]:
        self._require_documents()
        answer = self.answerer.ask(question, k=k, filters=filters)
        generator, answer = generator_for(answer, generate, self.store.config.get("llm"), self._document_text)
        return answer, generator

    def _document_text(self, doc_id: str) -> str | None:
        doc = self.store.get_document(doc_id)
        return doc["normalized"] if doc else None

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

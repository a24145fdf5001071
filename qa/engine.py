"""One object that the front-ends (CLI, HTTP, chat, MCP) share: store, search and answers."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from index.backend import StoreBackend, StoreConfig
from index.embedder import EmbedderSpec
from index.stores import open_store, store_exists
from qa import routes
from qa.answer import Answer
from qa.errors import NoDataDirError
from qa.llm import GenerationStream, Generator, generator_for
from qa.search import Filters, Hit, Searcher

if TYPE_CHECKING:  # index.ingest (readers, chunking, the write pipeline) is imported by ingest only
    from index.ingest import IngestReport


def data_dir_exists(data_dir: Path | str) -> bool:
    """Whether ``data_dir`` holds a policyqa data directory (opening one that does not creates it).

    A re-embed that a crash interrupted between its two renames is finished first."""
    from index.dir_swap import finish_swap

    finish_swap(Path(data_dir).expanduser())
    return store_exists(StoreConfig(kind="local", data_dir=Path(data_dir).expanduser()))


class Engine:
    """policyqa over one store (a data directory by default)."""

    def __init__(
        self, data_dir: Path | str | None = None, embedder: EmbedderSpec | None = None,
        store: StoreBackend | None = None, create: bool = True,
    ) -> None:
        """Open ``data_dir`` (a local store), or use ``store`` (any backend) as given; with
        ``create=False`` raise NoDataDirError, creating nothing, where there is no data directory."""
        if store is None:
            data = Path(data_dir).expanduser() if data_dir is not None else None
            if not create and data is not None and not data_dir_exists(data):
                raise NoDataDirError(data)
            store = open_store(StoreConfig(kind="local", data_dir=data, embedder=embedder))
        self.store = store
        self.searcher = Searcher(self.store)
        self.answerer = routes.answerer(self.searcher)
        self._warming: list[threading.Thread] = []

    def warm_up(self, extraction: bool = False) -> None:
        """Start loading the embedding model (and, with ``extraction``, jieba's dictionaries that answers
        use) on background threads, so that a first query finds them loaded or loading; a failed load is
        left for that query to raise again. Nothing starts for a store without chunks (a query fails first).
        Call :meth:`wait_warm_up` before the process exits, so no load is cut off half-way."""
        if self.store.stats()["chunks"] == 0:
            return

        def load(what) -> None:
            try:
                what()
            except Exception:  # noqa: S110 - the query repeats the load and reports its error
                pass

        def model() -> None:
            self.store.embedder  # noqa: B018 - the property loads the model once, under the store's lock

        jobs = [model]
        if extraction:
            from qa.extract.tokens import warm_up

            jobs.append(warm_up)
        for job in jobs:
            thread = threading.Thread(target=load, args=(job,), name=f"policyqa-warm-{job.__name__}", daemon=True)
            thread.start()
            self._warming.append(thread)

    def wait_warm_up(self) -> None:
        """Wait for the loads :meth:`warm_up` started (at once where the query has used them already)."""
        for thread in self._warming:
            thread.join()
        self._warming.clear()

    def search(self, query: str, k: int = 10, filters: Filters | None = None, mode: str = "hybrid") -> list[Hit]:
        """Top passages for a query; NoDocumentsError when the store holds no chunks (each snapshot checks
        its own count, so the check costs no read of its own)."""
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
        answer = self.answerer.ask(question, k=k, filters=filters)
        generator, answer = generator_for(answer, generate, self.store.config.get("llm"), self._document_text)
        return answer, generator

    def _document_text(self, doc_id: str) -> str | None:
        doc = self.store.get_document(doc_id)
        return doc["normalized"] if doc else None

    def ingest_paths(self, paths: list[Path | str], **kwargs) -> IngestReport:
        """Read and ingest files and folders."""
        from index.ingest import ingest_paths

        return ingest_paths(self.store, paths, **kwargs)

    def ingest_items(self, items, **kwargs) -> IngestReport:
        """Ingest already-read articles."""
        from index.ingest import ingest_items

        return ingest_items(self.store, items, **kwargs)

    def delete(self, doc_id: str) -> bool:
        """Delete one document; False when it was not there."""
        return bool(self.store.write([], delete=[doc_id]).deleted)

    def close(self) -> None:
        """Release this thread's database connection."""
        self.store.close()

"""The store interface: everything qa/ and api/ may ask of a storage backend.

A backend (the embedded segment store in one data directory, Milvus on a cluster) implements
:class:`StoreBackend` and, for reads, :class:`ReadView`. Values cross this seam, never connections:
qa/ and api/ see chunk rows, documents, score arrays and term statistics, and import neither sqlite3
nor a backend's client library. A second backend implements these two protocols and touches nothing
above them; :func:`index.stores.open_store` picks one from a :class:`StoreConfig`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np


class StoreError(Exception):
    """A problem with the store (data directory, cluster, configuration), with a message for the user."""


class WriterBusyError(StoreError):
    """Another writer held the write lock for longer than the bounded wait."""


class StoreUnavailableError(StoreError):
    """The configured store cannot be used as asked: unreachable, credentials refused, TLS failure, or
    built with another embedder or dimension. Its message names the location (never a token) and the
    reason; the CLI exits with :data:`EXIT_STORE_UNAVAILABLE` and touches nothing stored."""


EXIT_STORE_UNAVAILABLE = 4


@dataclass(frozen=True)
class Filter:
    """Restrictions on the chunks searched, as values: inclusive ISO date bounds and a source substring.

    ``since``/``until`` are already padded to full dates ("2024" -> "2024-01-01" / "2024-12-99") by the
    caller, so a backend compares them with stored ISO dates as strings.
    """

    since: str | None = None
    until: str | None = None
    source: str | None = None

    @property
    def empty(self) -> bool:
        """True when nothing is restricted."""
        return not (self.since or self.until or self.source)


NO_FILTER = Filter()


@dataclass
class ChunkRow:
    """A chunk joined with its document's citation fields; ``start``/``end`` index the normalized document."""

    id: int  # the backend's int64 key of the chunk (what dense/lexical candidates return)
    chunk_id: str
    doc_id: str
    start: int
    end: int
    text: str
    dedup_key: str
    title: str
    date: str | None
    source: str | None
    url: str | None


@dataclass
class WriteResult:
    """What one write did, per document id."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (doc_id, id it duplicates)
    deleted: list[str] = field(default_factory=list)
    conflicts: list[tuple[str, str, str]] = field(default_factory=list)  # (doc_id, stored path, new path)

    def merge(self, other: WriteResult) -> None:
        """Add another result's lists to this one."""
        for name in ("added", "updated", "unchanged", "duplicates", "deleted", "conflicts"):
            getattr(self, name).extend(getattr(other, name))


class TermStats(Mapping[str, int]):
    """Chunk frequencies of lexical tokens in one snapshot, looked up on demand (never the whole vocabulary).

    ``stats[token]`` is the number of chunks holding ``token`` (0 when none); ``n_chunks`` the number of
    chunks that frequencies are counted over.
    """

    n_chunks: int

    def __getitem__(self, token: str) -> int:  # pragma: no cover - protocol
        raise NotImplementedError

    def __iter__(self) -> Iterator[str]:  # pragma: no cover - vocabularies are not enumerated
        raise TypeError("term statistics are looked up by token, not enumerated")

    def __len__(self) -> int:  # pragma: no cover
        raise TypeError("term statistics are looked up by token, not enumerated")

    def prefetch(self, tokens: Iterable[str]) -> dict[str, int]:
        """Frequencies of several tokens at once (0 for absent ones); a backend may fetch them together."""
        return {t: self[t] for t in tokens}

    def get(self, token: str, default: int | None = 0) -> int | None:  # type: ignore[override]
        """Frequency of ``token``, ``default`` when no chunk holds it."""
        n = self[token]
        return n if n else default

    def __contains__(self, token: object) -> bool:
        return isinstance(token, str) and self[token] > 0


class ReadView(Protocol):
    """One consistent snapshot of a store: every method answers from the same committed state."""

    generation: int  # what was committed last, as the backend counts it
    n_chunks: int  # chunks searchable in this snapshot
    terms: TermStats  # chunk frequencies for idf, the rare-term signal and the not-found rule
    bridge: Any  # index.pinyin_bridge.PinyinBridge over this snapshot's vocabulary

    def dense(self, query: np.ndarray, k: int, where: Filter = NO_FILTER) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (scores, chunk keys) by inner product with one query vector, filters applied first."""
        ...

    def lexical(self, tokens: list[str], k: int, where: Filter = NO_FILTER) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (BM25 scores, chunk keys) with a positive score, scoring only the tokens' postings."""
        ...

    def term_candidates(
        self, tokens: list[str], budget: int, where: Filter = NO_FILTER
    ) -> tuple[np.ndarray, bool]:
        """Keys of chunks holding any of ``tokens`` (rarest tokens first), at most ``budget`` of them,
        and whether the budget cut the list short."""
        ...

    def chunks(self, keys: Iterable[int]) -> dict[int, ChunkRow]:
        """Chunk rows by key, with their documents' citation fields; unknown keys are left out."""
        ...

    def offsets(self, doc_ids: Iterable[str]) -> dict[str, np.ndarray]:
        """Each document's map from normalized to original character positions."""
        ...

    def document(self, doc_id: str) -> dict | None:
        """One document: doc_id, title, date, source, url, path, original, normalized, body_start, raw,
        added_at, updated_at; None when absent."""
        ...


@dataclass
class StoredDocument:
    """One stored document as values a store's ``write`` takes back, for copying between stores.

    ``document`` is the prepared document (a :class:`corpus.prepare.Document`: the same doc id, texts,
    offset map, content hash, chunk ids, spans and positions as stored, ``added_at``/``updated_at``
    kept) and ``vectors`` its chunk vectors, float32, one row per chunk in ``document.chunks`` order,
    exactly as stored: pass ``[d.document]`` and ``[d.vectors]`` to another store's ``write`` and no
    model is loaded.
    """

    document: Any
    vectors: np.ndarray


class StoreBackend(Protocol):
    """A policyqa store: writes in commits, reads through snapshots."""

    config: dict  # what the store was created with: embedder spec, backend settings
    spec: Any  # index.embedder.EmbedderSpec of the stored vectors
    location: str  # where it lives, for messages ("/home/u/.local/share/policyqa", "http://host:19530")
    data_dir: Path | None  # the local directory of user files (aliases.txt, config, model cache); None if none

    @property
    def embedder(self) -> Any:
        """The embedder (loaded once per process, under a lock)."""
        ...

    @property
    def model_loaded(self) -> bool:
        """Whether the embedder is in memory in this process."""
        ...

    def use_embedder(self, embedder: Any) -> None:
        """Use this embedder instance instead of building one."""
        ...

    def plan(self, docs: Iterable[Any], replace: bool = False) -> tuple[list[Any], WriteResult]:
        """Split prepared documents into those that need writing and those unchanged, duplicates or
        conflicting with a stored document of the same id from another source file (unless
        ``replace``: then it is written over the stored one)."""
        ...

    def embed(self, docs: list[Any], show_progress: bool = False) -> list[np.ndarray]:
        """Embeddings of every chunk of each document."""
        ...

    def write(
        self,
        docs: list[Any],
        embeddings: list[np.ndarray] | None = None,
        delete: Iterable[str] = (),
        lock_timeout: float | None = None,
        replace: bool = False,
    ) -> WriteResult:
        """Commit documents (upserts by doc_id) and deletions as one unit; ``replace`` lets a document
        from another source file replace a stored one of the same id."""
        ...

    def read(self) -> AbstractContextManager[ReadView]:
        """``with store.read() as view:`` one consistent snapshot."""
        ...

    def stats(self) -> dict:
        """Counts and state: location, documents, chunks, generation, embedder."""
        ...

    def list_documents(self, limit: int | None = None, offset: int = 0) -> list[dict]:
        """Documents' metadata (doc_id, title, date, source, url, path, chars, chunks), newest first."""
        ...

    def get_document(self, doc_id: str) -> dict | None:
        """One document (see :meth:`ReadView.document`), or None."""
        ...

    def document_ids(self) -> list[str]:
        """Every stored document id, sorted (what :meth:`export` takes, in batches)."""
        ...

    def export(self, doc_ids: Iterable[str]) -> list[StoredDocument]:
        """The stored documents among ``doc_ids`` with their chunk vectors, in the order given; ids not
        stored are left out. Reads one consistent state of each document; loads no model."""
        ...

    def close(self) -> None:
        """Release this thread's resources."""
        ...


@dataclass(frozen=True)
class StoreConfig:
    """Which store to open: ``kind`` "local" (a data directory) or "milvus" (a URI), as values only."""

    kind: str = "local"
    data_dir: Path | None = None  # local store; also where a Milvus store keeps its config and model cache
    milvus_uri: str | None = None
    milvus_token: str | None = field(default=None, repr=False)  # never printed
    milvus_db: str | None = None
    milvus_prefix: str = "policyqa"
    embedder: Any = None  # index.embedder.EmbedderSpec to create a new store with, else the stored one
    dim: int | None = None  # vector dimension of a new store, when known (creating it then loads no model)
    create: bool = True  # False: a store that does not exist yet is an error, not created

"""MilvusStore: the policyqa store interface (index.backend.StoreBackend) over Milvus collections.

Writes. Every write call gets a version, ``<time_ns:020d><random>`` (ordered by wall clock, unique).
A document version is written as chunk rows, posting rows and document parts, all carrying the version
and with primary keys derived from (id, version); then part 0 of the document is inserted: that row is
the commit marker. The committed version of a document is the largest version among its part-0 rows,
and readers only see chunks of that version. After the marker, the writer re-reads the markers: when
its version is the largest it deletes every older version's rows, otherwise (a later writer overtook
it) it deletes its own. Under Strong consistency the rows left at the end are those of the latest
version, whatever the interleaving: last writer wins, never duplicates. A write killed half-way leaves
rows of a version with no marker: invisible to readers, removed by the next write of the document or
by ``repair()``; re-running the ingest therefore never duplicates a chunk.

Term statistics. After settling, a write adds to each token's ``df`` in the terms collection the
chunks its winning versions hold and subtracts those of the versions they replaced or deleted (the
committed version just before, its chunk texts tokenized again; from its postings where the corpus has
them). Exact for one writer at a time (each store
serializes its writes under a lock). Milvus has no transactions, so two *processes* writing documents
that share tokens at the same moment can lose one's update (read-add-upsert), and a writer killed
between its commit marker and its statistics leaves them off; such a writer leaves a ``df_pending``
meta row, and ``repair()`` recounts every token exactly from the committed versions.

Postings. Corpora with sparse vectors (milvus-lite, Milvus >= 2.4) write no posting rows: the sparse
field serves BM25 and candidates by term, and posting rows (about 190 per chunk) were most of a bulk
ingest's time. Servers without sparse vectors (Milvus 2.3) keep one posting row per (token, chunk).
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

import numpy as np

from corpus.prepare import Document
from index.backend import StoreConfig, StoredDocument, StoreError, StoreUnavailableError, WriteResult
from index.chunk_vectors import embed_documents, embed_text, embeddings_for
from index.embedder import Embedder, EmbedderSpec, create_embedder
from index.milvus import rows as R
from index.milvus.columns import ColumnWriter
from index.milvus.connection import CALL_TIMEOUT, Target, connect, describe, parse_uri
from index.milvus.schema import (
    CREATE_TIMEOUT,
    MAX_TOKEN_BYTES,
    SCHEMA_VERSION,
    Names,
    create_collections,
    ensure_loaded,
    server_has_sparse,
    vector_dim,
)
from index.pinyin_bridge import romanize
from index.tokenizer import tokenize

INSERT_ROWS = 500  # chunk rows per insert request
INSERT_POSTINGS = 5000  # posting rows per insert request
FLUSH_AFTER = 1000  # chunk rows written by one process between flushes
FLUSH_WRITE = 256  # a write of this many chunk rows flushes at its end (the last batch of a bulk ingest)
INSERT_TERMS = 5000  # terms rows per insert or upsert request
TERMS_PER_QUERY = 1000  # primary keys per terms lookup of a query's tokens
TERMS_PER_WRITE_QUERY = 10000  # ... of a write's changed tokens (each Strong read waits for a time tick)
QUERY_WINDOW = 16384  # Milvus' largest offset + limit
DEFAULT_AVGDL = 240.0  # tokens per chunk; only used until the first batch sets the reference


ReadPoint = Mapping[str, object]  # query keyword arguments from MilvusStore.read_point
STRONG: ReadPoint = MappingProxyType({})  # no arguments: the collections' own level, Strong


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def new_version() -> str:
    """A write version: nanosecond wall-clock time, then randomness so two writers never tie."""
    return f"{time.time_ns():020d}{secrets.token_hex(4)}"


def dedup_key(text: str) -> str:
    """Key under which near-identical chunks collapse (the embedded default's rule)."""
    from index.store import dedup_key as _dedup_key

    return _dedup_key(text)


class MilvusStore:
    """A policyqa corpus in Milvus collections named ``{prefix}_*``."""

    def __init__(self, config: StoreConfig) -> None:
        self.target: Target = parse_uri(config.milvus_uri or "")
        self.location = self.target.shown
        self.data_dir = Path(config.data_dir) if config.data_dir is not None else None
        self._token = config.milvus_token
        self.names = Names(config.milvus_prefix or "policyqa")
        self.client = connect(self.target, config.milvus_token, config.milvus_db)
        self.columns = ColumnWriter(self.client)
        self._write_lock = threading.Lock()
        self._embedder: Embedder | None = None
        self._embedder_lock = threading.Lock()
        self._romanized: dict[str, str | None] = {}
        self._unflushed = 0  # chunk rows written by this process since its last flush
        self._timestamps = self.target.network  # whether read_point asks the server (see there)
        with self.calls("open"):
            self.sparse = server_has_sparse(self.client)
            self.config = self._open_meta(config.embedder, config.dim, config.create)
        self.spec = EmbedderSpec(**self.config["embedder"])
        self.avgdl = float(self.config.get("avgdl") or DEFAULT_AVGDL)

    # ----- errors ------------------------------------------------------------------------------
    @contextmanager
    def calls(self, what: str):
        """Turn client errors inside the block into one-line StoreUnavailableErrors."""
        try:
            yield
        except StoreError:
            raise
        except Exception as e:
            if type(e).__module__.split(".")[0] not in ("pymilvus", "grpc", "milvus_lite"):
                raise
            raise StoreUnavailableError(
                f"{self.location}: {what} failed: {describe(e, self.target, self._token)}"
            ) from None

    # ----- configuration -----------------------------------------------------------------------
    def _load(self) -> None:
        """Load every existing collection into memory (a new process, or a restarted server, finds them
        released)."""
        for name in self.names.all():
            if self.client.has_collection(name):
                ensure_loaded(self.client, name, CALL_TIMEOUT)

    def _meta(self, at: ReadPoint = STRONG) -> dict[str, str]:
        if not self.client.has_collection(self.names.meta):
            return {}
        rows = self.client.query(self.names.meta, filter="id >= 0", output_fields=["key", "value"], limit=1000,
                                 **at)
        return {r["key"]: r["value"] for r in rows}

    def _set_meta(self, values: dict[str, str]) -> None:
        self.client.upsert(
            self.names.meta, [{"id": R.key("meta", k), "key": k, "value": v, "_v": [0.0, 0.0]} for k, v in values.items()]
        )

    def _open_meta(self, requested: EmbedderSpec | None, dim: int | None = None, create: bool = True) -> dict:
        self._load()
        meta: dict[str, str] = {}
        # Another process may have created the meta collection since _load looked: one existence check
        # decides both the load and the read (with two, it could appear between them, unloaded).
        if self.client.has_collection(self.names.meta):
            ensure_loaded(self.client, self.names.meta, CREATE_TIMEOUT)
            meta = self._meta()
        if "embedder" in meta:
            if meta.get("schema", "1") != SCHEMA_VERSION:
                raise StoreUnavailableError(
                    f"{self.location}: collections {self.names.prefix}_* have schema {meta.get('schema', '1')} "
                    f"(term statistics counted per query); this version reads schema {SCHEMA_VERSION}: "
                    "ingest into another --milvus-prefix"
                )
            stored = EmbedderSpec(**json.loads(meta["embedder"]))
            if requested is not None and stored != requested:
                raise StoreUnavailableError(
                    f"{self.location}: collections {self.names.prefix}_* were built with embedder "
                    f"{stored.as_dict()}, not {requested.as_dict()}; use another --milvus-prefix"
                )
            if dim is not None and int(meta["dim"]) != dim:
                raise StoreUnavailableError(
                    f"{self.location}: collections {self.names.prefix}_* hold {meta['dim']}-d vectors, "
                    f"not {dim}-d; use another --milvus-prefix"
                )
            dim = int(meta["dim"])
            actual = vector_dim(self.client, self.names)
            if actual is not None and actual != dim:
                raise StoreUnavailableError(
                    f"{self.location}: {self.names.chunks} holds {actual}-d vectors, its meta says {dim}"
                )
            if meta.get("lexical") == "sparse" and not self.sparse:
                raise StoreUnavailableError(
                    f"{self.location}: {self.names.prefix}_* was built with sparse vectors; this server has none"
                )
            self.sparse = meta.get("lexical", "sparse") == "sparse"
            # Corpora written before postings became optional (no "postings" key) keep writing them.
            self.postings = meta.get("postings", "1") == "1"
            create_collections(self.client, self.names, dim, self.sparse, exact=not self.target.network)  # a crash mid-creation
            return {"embedder": stored.as_dict(), "dim": dim, "lexical": meta.get("lexical"),
                    "avgdl": meta.get("avgdl"), "store": "milvus", "uri": self.location,
                    "prefix": self.names.prefix}
        if not create:
            raise StoreError(f"{self.location}: no policyqa corpus {self.names.prefix}_* there (nothing was created)")
        spec = requested or EmbedderSpec()
        if dim is None:
            dim = int(create_embedder(spec).dim) if spec.backend == "hash" else self._model_dim(spec)
        lexical = "sparse" if self.sparse else "postings"
        self.postings = not self.sparse
        create_collections(self.client, self.names, dim, self.sparse, exact=not self.target.network)
        self._set_meta({"embedder": json.dumps(spec.as_dict()), "dim": str(dim), "lexical": lexical,
                        "schema": SCHEMA_VERSION, "postings": "1" if self.postings else "0"})
        return {"embedder": spec.as_dict(), "dim": dim, "lexical": lexical, "avgdl": None, "store": "milvus",
                "uri": self.location, "prefix": self.names.prefix}

    def _model_dim(self, spec: EmbedderSpec) -> int:
        self._embedder = create_embedder(spec)
        return int(self._embedder.dim)

    # ----- embedder ----------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        """The embedder, loaded once per process under a lock."""
        if self._embedder is None:
            with self._embedder_lock:
                if self._embedder is None:
                    self._embedder = create_embedder(self.spec)
        return self._embedder

    @property
    def model_loaded(self) -> bool:
        return self._embedder is not None

    def use_embedder(self, embedder: Embedder) -> None:
        """Use this embedder instance instead of building one."""
        self._embedder = embedder

    def embed(self, docs: list[Document], show_progress: bool = False) -> list[np.ndarray]:
        """Embeddings of every chunk of each document (title kept with each chunk)."""
        return embed_documents(lambda: self.embedder, docs, lambda: self.config["dim"], show_progress)

    # ----- low-level reads -----------------------------------------------------------------------
    def read_point(self) -> ReadPoint:
        """Query arguments under which reads see every write acknowledged before this call.

        Under Strong consistency each read waits for the server's next time tick (0.3-0.6 s on the 2.3
        server), so a search of six reads waited six times. Instead a read point takes one timestamp from
        the server's timestamp oracle (later than every acknowledged write's) and passes it as the
        guarantee of every read that shares the point: the first waits for the tick, the others find it
        passed. milvus-lite has no such call (its in-process server logs a traceback for each attempt) and
        reads at Strong, which costs no wait there; so does a server that refused the call once (same
        guarantee, a wait per read; an unreachable server fails at the read that follows).
        """
        if not self._timestamps:
            return STRONG
        try:
            ts = self.client._get_connection().alloc_timestamp(timeout=CALL_TIMEOUT,
                                                               context=self.client._generate_call_context())
        except Exception as e:  # noqa: BLE001 - Strong reads give the same guarantee; the next read reports errors
            if "unimplemented" in str(e).lower() or "not implemented" in str(e).lower():
                self._timestamps = False
            return STRONG
        if not ts:
            self._timestamps = False
            return STRONG
        return {"consistency_level": "Customized", "guarantee_timestamp": int(ts)}

    def query_all(self, collection: str, expr: str, fields: list[str], at: ReadPoint = STRONG) -> list[dict]:
        """Every row matching ``expr``: one query when they fit Milvus' 16,384-row window, else one per
        slice of the primary-key range (keys are uniform hashes, so slices hold similar numbers)."""
        n = self.count(collection, expr, at)
        if n == 0:
            return []
        slices = max(1, -(-n * 2 // QUERY_WINDOW))
        if slices == 1:
            return self.client.query(collection, filter=expr, output_fields=fields, limit=QUERY_WINDOW,
                                     timeout=CALL_TIMEOUT, **at)
        out: list[dict] = []
        edges = [(2**63 * i) // slices for i in range(slices)] + [None]
        for lo, hi in zip(edges, edges[1:], strict=False):
            # Keys lie in [0, 2^63); the last slice has no upper bound, since a server parses the literal
            # 2^63 as INT64 and refuses it (Milvus 2.3: "value out of range"; milvus-lite took it).
            part = R.both(expr, f"id >= {lo}" if hi is None else f"id >= {lo} and id < {hi}")
            rows = self.client.query(collection, filter=part, output_fields=fields, limit=QUERY_WINDOW,
                                     timeout=CALL_TIMEOUT, **at)
            if len(rows) >= QUERY_WINDOW:
                raise StoreError(f"{self.location}: {collection}: a key slice overflowed; retry")
            out.extend(rows)
        return out

    def heads(self, doc_ids: Iterable[str], fields: tuple[str, ...] = (), at: ReadPoint = STRONG) -> dict[str, dict]:
        """The committed head (part 0 of the largest version) of each document that has one."""
        ids = list(dict.fromkeys(doc_ids))
        out: dict[str, dict] = {}
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            rows = self.query_all(self.names.documents, R.both(R.in_list("doc_id", part), "part == 0"),
                                  ["doc_id", "version", *fields], at)
            for r in rows:
                cur = out.get(r["doc_id"])
                if cur is None or r["version"] > cur["version"]:
                    out[r["doc_id"]] = r
        return out

    def count(self, collection: str, expr: str = "", at: ReadPoint = STRONG) -> int:
        """``count(*)`` of the rows matching ``expr``."""
        rows = self.client.query(collection, filter=expr, output_fields=["count(*)"], timeout=CALL_TIMEOUT,
                                 **at)
        return int(rows[0]["count(*)"]) if rows else 0

    def term_frequencies(self, tokens: list[str], at: ReadPoint = STRONG) -> dict[str, int]:
        """Stored chunk frequency of each token (0 when absent)."""
        out = dict.fromkeys(tokens, 0)
        out.update(self._stored_terms(tokens, at=at))
        return out

    def _stored_terms(self, tokens: list[str], own_writes: bool = False, at: ReadPoint = STRONG) -> dict[str, int]:
        """Chunk frequency of the tokens that have a terms row: primary-key lookups.

        ``own_writes``: a writer reading the statistics it is about to change. Its terms rows only need
        this process' earlier writes (other processes' concurrent updates are not serialized anyway, see
        the module docstring), so it reads at Session consistency, in larger requests: a Strong read
        waits for the server's next time tick (0.3-0.6 s on the 2.3 server), a Session read only when
        this process wrote since its last read.
        """
        out: dict[str, int] = {}
        wanted = set(tokens)
        step, level = (TERMS_PER_WRITE_QUERY, {"consistency_level": "Session"}) if own_writes else (TERMS_PER_QUERY, at)
        for i in range(0, len(tokens), step):
            part = [t for t in tokens[i : i + step] if _storable(t)]
            if not part:
                continue
            rows = self.client.query(self.names.terms, filter=R.in_list("id", [_term_key(t) for t in part]),
                                     output_fields=["token", "df"], limit=len(part), timeout=CALL_TIMEOUT, **level)
            out.update((r["token"], int(r["df"])) for r in rows if r["token"] in wanted)
        return out

    # ----- StoreBackend reads --------------------------------------------------------------------
    def read(self):
        """``with store.read() as view:`` a view answering from the committed rows."""
        from index.milvus.view import MilvusReadView

        @contextmanager
        def _view():
            with self.calls("read"):
                yield MilvusReadView(self)

        return _view()

    def stats(self) -> dict:
        """Counts and state: location, documents, chunks, generation, embedder."""
        with self.calls("stats"):  # counts, not scans: every search asks (a writer mid-commit may add one)
            at = self.read_point()
            docs = self.count(self.names.documents, "part == 0", at)
            chunks = self.count(self.names.chunks, at=at)
            generation = int(self._meta(at).get("last_version", "0")[:20] or 0)
        return {"location": self.location, "store": "milvus", "prefix": self.names.prefix, "documents": docs,
                "chunks": chunks, "generation": generation, "embedder": self.spec.as_dict(),
                "lexical": self.config.get("lexical")}

    def heads_all(self) -> dict[str, dict]:
        fields = ["doc_id", "version", "title", "date", "source", "url", "path", "chars", "n_chunks",
                  "content_hash", "added_at", "updated_at"]
        out: dict[str, dict] = {}
        for r in self.query_all(self.names.documents, "part == 0", fields):
            cur = out.get(r["doc_id"])
            if cur is None or r["version"] > cur["version"]:
                out[r["doc_id"]] = r
        return out

    def list_documents(self, limit: int | None = None, offset: int = 0) -> list[dict]:
        """Documents' metadata, newest date first."""
        with self.calls("list documents"):
            heads = list(self.heads_all().values())
        heads.sort(key=lambda h: h["doc_id"])
        heads.sort(key=lambda h: h["date"] or "", reverse=True)
        sel = heads[offset : None if limit is None else offset + limit]
        return [{"doc_id": h["doc_id"], "title": h["title"], "date": h["date"] or None,
                 "source": h["source"] or None, "url": h["url"] or None, "path": h["path"] or None,
                 "chars": h["chars"], "chunks": h["n_chunks"]} for h in sel]

    def get_document(self, doc_id: str) -> dict | None:
        """One document, or None."""
        with self.calls("read document"):
            doc = self.documents([doc_id]).get(doc_id)
        return R.public_document(doc) if doc else None

    def documents(self, doc_ids: Iterable[str], at: ReadPoint | None = None) -> dict[str, dict]:
        """Committed documents (the stored dict: metadata, original, normalized, offsets, raw), read at
        ``at`` (a read point of its own when None)."""
        at = self.read_point() if at is None else at
        heads = self.heads(doc_ids, at=at)
        out: dict[str, dict] = {}
        for doc_id, head in heads.items():
            rows = self.query_all(
                self.names.documents,
                R.both(f"doc_id == {R.lit(doc_id)}", f"version == {R.lit(head['version'])}"),
                ["part", "n_parts", "data"], at,
            )
            rows.sort(key=lambda r: r["part"])
            if not rows or len(rows) != rows[0]["n_parts"]:
                continue  # a version being deleted under us
            out[doc_id] = R.decode_document([r["data"] for r in rows])
        return out

    def document_ids(self) -> list[str]:
        """Every committed document id, sorted."""
        with self.calls("list documents"):
            return sorted(self.heads_all())

    def export(self, doc_ids: Iterable[str]) -> list[StoredDocument]:
        """Committed documents among ``doc_ids`` with their chunk vectors (see index.milvus.export)."""
        from index.milvus.export import export_documents

        with self.calls("export"):
            return export_documents(self, list(doc_ids))

    def close(self) -> None:
        """Nothing is held per thread (see :meth:`shutdown`)."""

    def shutdown(self) -> None:
        """Close the client (releases a milvus-lite file for another process); the store is unusable after."""
        try:
            self.client.close()
        except Exception:  # already gone
            pass
        if not self.target.network:  # milvus-lite serves the file from a thread of this process
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(self.target.uri)

    # ----- writes --------------------------------------------------------------------------------
    def plan(self, docs: Iterable[Document], replace: bool = False) -> tuple[list[Document], WriteResult]:
        """Split documents into those to write and those unchanged, duplicates or path conflicts."""
        docs = list(docs)
        result = WriteResult()
        if not docs:
            return [], result
        with self.calls("plan"):
            at = self.read_point()
            heads = self.heads([d.doc_id for d in docs], ("content_hash", "title", "date", "source", "url", "path"), at)
            hashes = list({d.content_hash for d in docs})
            twins: dict[str, str] = {}
            for i in range(0, len(hashes), 200):
                rows = self.query_all(self.names.documents,
                                      R.both(R.in_list("content_hash", hashes[i : i + 200]), "part == 0"),
                                      ["doc_id", "content_hash"], at)
                for r in rows:
                    twins.setdefault(r["content_hash"], set()).add(r["doc_id"])
        todo: list[Document] = []
        seen: dict[str, str] = {}
        for doc in docs:
            head = heads.get(doc.doc_id)
            if head and (head["content_hash"], head["title"], head["date"] or None, head["source"] or None,
                         head["url"] or None) == (doc.content_hash, doc.title, doc.date, doc.source, doc.url):
                result.unchanged.append(doc.doc_id)
                continue
            if head and head["path"] and doc.path and head["path"] != doc.path and not replace:
                result.conflicts.append((doc.doc_id, head["path"], doc.path))
                continue
            others = sorted(t for t in twins.get(doc.content_hash, ()) if t != doc.doc_id)
            twin = others[0] if others else seen.get(doc.content_hash)
            if twin is not None and twin != doc.doc_id:
                result.duplicates.append((doc.doc_id, twin))
                continue
            seen[doc.content_hash] = doc.doc_id
            todo.append(doc)
        return todo, result

    def write(
        self,
        docs: list[Document],
        embeddings: list[np.ndarray] | None = None,
        delete: Iterable[str] = (),
        lock_timeout: float | None = None,
        replace: bool = False,
    ) -> WriteResult:
        """Upsert documents and delete others by doc_id; see the module docstring for the protocol.

        ``lock_timeout`` bounds nothing here: writers of one Milvus corpus never wait for each other.
        """
        todo, result = self.plan(docs, replace)
        if embeddings is None:
            embeddings = self.embed(todo)
        else:
            embeddings = embeddings_for(docs, embeddings, todo)
        delete = list(delete)
        if result.unchanged:
            with self._write_lock, self.calls("write"):
                self._sweep(result.unchanged)
        if not todo and not delete:
            return result
        with self._write_lock, self.calls("write"):
            delta: Counter = Counter()
            pending = f"df_pending:{new_version()}"
            self._set_meta({pending: "1"})
            if delete:
                at = self.read_point()
                existing = self.heads(delete, at=at)
                delta.subtract(self._committed_df(delete, existing, at))
                self._delete_docs(delete)
                result.deleted.extend(d for d in delete if d in existing)
            if todo:
                delta.update(self._write_versions(todo, embeddings, result))
            self._apply_df(delta)
            written = sum(len(d.chunks) for d in todo)
            self._unflushed += written
            if self._unflushed >= FLUSH_AFTER or written >= FLUSH_WRITE:
                # Seal the rows this process wrote into growing segments, so that searches use the built
                # indexes: milvus-lite rebuilds an index of its unflushed rows for every search (see
                # NOTES-milvus.md for search p50 with and without). Counted per process; a server also
                # seals growing segments by its own size and time rules.
                for name in (self.names.chunks, self.names.terms, self.names.documents):
                    self.client.flush(name, timeout=CALL_TIMEOUT)
                self._unflushed = 0
            self.client.delete(self.names.meta, ids=[R.key("meta", pending)], timeout=CALL_TIMEOUT)
            self._set_meta({"last_version": new_version()})
        return result

    def _version_collections(self) -> tuple[str, ...]:
        """The collections holding rows of a document version, the commit marker's first."""
        names = (self.names.documents, self.names.chunks)
        return (*names, self.names.postings) if self.postings else names

    def _delete_docs(self, doc_ids: list[str]) -> None:
        for i in range(0, len(doc_ids), 200):
            expr = R.in_list("doc_id", doc_ids[i : i + 200])
            for name in self._version_collections():  # marker first
                self.client.delete(name, filter=expr, timeout=CALL_TIMEOUT)

    def _write_versions(self, docs: list[Document], embeddings: list[np.ndarray], result: WriteResult) -> Counter:
        """Write and commit a new version of each document; returns the chunk-frequency change of the
        documents whose version won (see the module docstring)."""
        version = new_version()
        token_lists = [[tokenize(embed_text(d.title, c.text)) for c in d.chunks] for d in docs]
        if self.config.get("avgdl") is None:
            lengths = [len(t) for tl in token_lists for t in tl]
            self.avgdl = float(np.mean(lengths)) if lengths else DEFAULT_AVGDL
            self._set_meta({"avgdl": repr(self.avgdl)})
            self.config["avgdl"] = repr(self.avgdl)
        at = self.read_point()
        existing = self.heads([d.doc_id for d in docs], ("added_at",), at)
        replaced = self._committed_df_by_doc([d.doc_id for d in docs if d.doc_id in existing], existing, at)
        added = {d.doc_id: Counter(t for toks in tls for t in set(toks) if _storable(t))
                 for d, tls in zip(docs, token_lists, strict=True)}
        chunk_rows: list[dict] = []
        posting_rows: list[dict] = []
        part_rows: list[dict] = []
        head_rows: list[dict] = []
        now = _now()
        for doc, vecs, tls in zip(docs, embeddings, token_lists, strict=True):
            if len(vecs) != len(doc.chunks) or (len(vecs) and vecs.shape[1] != self.config["dim"]):
                raise StoreError(f"{doc.doc_id}: {len(vecs)} vectors for {len(doc.chunks)} chunks, or wrong dimension")
            for chunk, vec, toks in zip(doc.chunks, vecs, tls, strict=True):
                pk = R.key(chunk.chunk_id, version)
                weights = R.tf_weights(toks, self.avgdl)
                row = {"id": pk, "chunk_id": chunk.chunk_id, "doc_id": doc.doc_id, "version": version,
                       "text": chunk.text, "dedup_key": dedup_key(chunk.text), "title": doc.title,
                       "date": doc.date or "", "source": doc.source or "", "url": doc.url or "",
                       "position": chunk.position, "start": chunk.start, "end": chunk.end, "length": len(toks),
                       "vector": np.asarray(vec, dtype=np.float32).tolist()}
                if self.sparse:
                    row["sparse"] = R.sparse_vector(weights) or {0: 0.0}
                chunk_rows.append(row)
                posting_rows.extend(
                    {"id": R.key(str(pk), tok), "token": tok, "chunk": pk, "doc_id": doc.doc_id,
                     "version": version, "date": doc.date or "", "source": doc.source or "",
                     "weight": float(w), "_v": [0.0, 0.0]}
                    for tok, w in (weights.items() if self.postings else ()) if _storable(tok))
            old = existing.get(doc.doc_id)
            stored = {"doc_id": doc.doc_id, "title": doc.title, "date": doc.date, "source": doc.source,
                      "url": doc.url, "path": doc.path, "source_path": getattr(doc, "source_path", None),
                      "original": doc.original, "normalized": doc.text,
                      "offsets": doc.offsets, "body_start": doc.body_start, "raw": doc.raw,
                      "content_hash": doc.content_hash,
                      "added_at": getattr(doc, "added_at", None) or (old.get("added_at", now) if old else now),
                      "updated_at": getattr(doc, "updated_at", None) or now}
            parts = R.encode_document(stored)
            for n, data in enumerate(parts):
                row = {"id": R.key(doc.doc_id, version, str(n)), "doc_id": doc.doc_id, "version": version,
                       "part": n, "n_parts": len(parts), "data": data, "_v": [0.0, 0.0],
                       "title": "", "date": "", "source": "", "url": "", "path": "", "content_hash": "",
                       "added_at": "", "updated_at": "", "chars": 0, "n_chunks": 0, "body_start": 0}
                if n == 0:
                    row.update(title=doc.title, date=doc.date or "", source=doc.source or "", url=doc.url or "",
                               path=doc.path or "", content_hash=doc.content_hash, added_at=stored["added_at"],
                               updated_at=stored["updated_at"], chars=len(doc.text), n_chunks=len(doc.chunks),
                               body_start=doc.body_start)
                    head_rows.append(row)
                else:
                    part_rows.append(row)
            (result.updated if old else result.added).append(doc.doc_id)
        self._insert(self.names.chunks, chunk_rows, INSERT_ROWS)
        if posting_rows:
            self._insert(self.names.postings, posting_rows, INSERT_POSTINGS)
        self._insert(self.names.documents, part_rows, 50)
        self._crash_point("before-commit")
        self._insert(self.names.documents, head_rows, 50)  # the commit markers
        self._crash_point("after-commit")
        won = self._settle([d.doc_id for d in docs], version)
        delta: Counter = Counter()
        for doc_id in won:
            delta.update(added[doc_id])
            delta.subtract(replaced.get(doc_id, Counter()))
        return delta

    def _insert(self, collection: str, rows: list[dict], batch: int) -> None:
        self.columns.insert(collection, rows, batch, CALL_TIMEOUT)

    def _settle(self, doc_ids: list[str], version: str) -> list[str]:
        """Keep only the newest committed version of each document (see the module docstring); returns
        the documents whose newest version is ``version``."""
        heads = self.heads(doc_ids, at=self.read_point())  # after this writer's markers
        won = [d for d in doc_ids if heads.get(d, {}).get("version", "") <= version]
        lost = [d for d in doc_ids if d not in won]
        for ids, cond in ((won, f"version < {R.lit(version)}"), (lost, f"version == {R.lit(version)}")):
            for i in range(0, len(ids), 200):
                expr = R.both(R.in_list("doc_id", ids[i : i + 200]), cond)
                for name in self._version_collections():
                    self.client.delete(name, filter=expr, timeout=CALL_TIMEOUT)
        return won

    def _sweep(self, doc_ids: list[str]) -> None:
        """Remove other versions' rows of committed documents (a writer killed before it settled)."""
        for i in range(0, len(doc_ids), 200):
            part = doc_ids[i : i + 200]
            heads = self.heads(part)
            rows = self.query_all(self.names.chunks, R.in_list("doc_id", part), ["doc_id", "version"])
            for doc_id in {r["doc_id"] for r in rows if r["version"] != heads.get(r["doc_id"], {}).get("version")}:
                if doc_id in heads:
                    self._settle([doc_id], heads[doc_id]["version"])

    def _committed_df_by_doc(self, doc_ids: list[str], heads: dict[str, dict], at: ReadPoint = STRONG) -> dict[str, Counter]:
        """Per document, the chunks of its committed version holding each token: from its postings, or
        (corpora without postings) its chunk rows' title and text tokenized again, as the write did."""
        out: dict[str, Counter] = {}
        for i in range(0, len(doc_ids), 200):
            expr = R.in_list("doc_id", doc_ids[i : i + 200])
            for r in self._committed_tokens(expr, heads, at):
                out.setdefault(r[0], Counter())[r[1]] += 1
        return out

    def _committed_tokens(self, expr: str, heads: dict[str, dict], at: ReadPoint = STRONG):
        """``(doc_id, token)`` once per committed chunk (among rows matching ``expr``) holding the token."""
        if self.postings:
            for r in self.query_all(self.names.postings, expr, ["doc_id", "version", "token"], at):
                if heads.get(r["doc_id"], {}).get("version") == r["version"]:
                    yield r["doc_id"], r["token"]
            return
        for r in self.query_all(self.names.chunks, expr, ["doc_id", "version", "title", "text"], at):
            if heads.get(r["doc_id"], {}).get("version") == r["version"]:
                for tok in set(tokenize(embed_text(r["title"], r["text"]))):
                    if _storable(tok):
                        yield r["doc_id"], tok

    def _committed_df(self, doc_ids: list[str], heads: dict[str, dict], at: ReadPoint = STRONG) -> Counter:
        total: Counter = Counter()
        for c in self._committed_df_by_doc([d for d in doc_ids if d in heads], heads, at).values():
            total.update(c)
        return total

    def _apply_df(self, delta: Counter, absolute: bool = False) -> None:
        """Add ``delta`` to the tokens' stored chunk frequencies (set them with ``absolute``)."""
        changes = [t for t, d in delta.items() if (d or absolute) and _storable(t)]
        stored = {} if absolute else self._stored_terms(changes, own_writes=True)
        new_rows, changed_rows = [], []
        for tok in changes:
            if tok not in self._romanized:
                key = romanize(tok) or ""
                self._romanized[tok] = key if len(key.encode("utf-8")) <= 128 else ""
            row = {"id": _term_key(tok), "token": tok, "key": self._romanized[tok],
                   "df": max(0, stored.get(tok, 0) + int(delta[tok])), "_v": [0.0, 0.0]}
            (changed_rows if absolute or tok in stored else new_rows).append(row)
        # Tokens without a row are inserted (half an upsert's cost: no delete); the others upserted.
        self._insert(self.names.terms, new_rows, INSERT_TERMS)
        self.columns.upsert(self.names.terms, changed_rows, INSERT_TERMS, CALL_TIMEOUT)

    def recount_terms(self) -> None:
        """Set every token's chunk frequency from the committed versions' postings or chunk texts (exact)."""
        heads = self.heads_all()
        counts: Counter = Counter(tok for _doc, tok in self._committed_tokens("id >= 0", heads))
        for r in self.query_all(self.names.terms, "df > 0", ["token"]):
            counts.setdefault(r["token"], 0)
        self._apply_df(counts, absolute=True)
        stale = [k for k in self._meta() if k.startswith("df_pending:")]
        if stale:
            self.client.delete(self.names.meta, ids=[R.key("meta", k) for k in stale], timeout=CALL_TIMEOUT)

    def repair(self) -> int:
        """Remove rows of versions that are not the committed one (a killed writer's leftovers) and
        recount the term statistics; returns how many documents had leftovers."""
        with self._write_lock, self.calls("repair"):
            rows = self.query_all(self.names.chunks, "id >= 0", ["doc_id", "version"])
            heads = self.heads({r["doc_id"] for r in rows})
            stale = {r["doc_id"] for r in rows if heads.get(r["doc_id"], {}).get("version") != r["version"]}
            for doc_id in stale:
                head = heads.get(doc_id)
                expr = f"doc_id == {R.lit(doc_id)}"
                if head:
                    expr = R.both(expr, f"version != {R.lit(head['version'])}")
                for name in self._version_collections():
                    self.client.delete(name, filter=expr, timeout=CALL_TIMEOUT)
            self.recount_terms()
        return len(stale)

    @staticmethod
    def _crash_point(name: str) -> None:
        """Tests kill a writer here ($POLICYQA_MILVUS_CRASH_AT=name)."""
        if os.environ.get("POLICYQA_MILVUS_CRASH_AT") == name:
            os._exit(137)

    def drop(self) -> None:
        """Drop every collection of this prefix (tests and ``migrate --to local`` cleanup only)."""
        with self.calls("drop"):
            for name in self.names.all():
                if self.client.has_collection(name):
                    self.client.drop_collection(name)
            self.columns.forget()


def _storable(token: str) -> bool:
    """Whether a token fits the token fields (longer ones are neither posted nor counted)."""
    return len(token.encode("utf-8")) < MAX_TOKEN_BYTES


def _term_key(token: str) -> int:
    return R.key("term", token)

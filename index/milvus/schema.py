"""The collections of one policyqa corpus in Milvus, their fields and indexes.

``{prefix}_chunks``     one row per chunk version: vector, BM25 term weights (sparse), text, span,
                        citation fields; ``doc_id``/``date``/``source`` are the filterable scalars.
``{prefix}_documents``  one row per document part: part 0 holds the metadata (the commit marker of a
                        version); every part holds a slice of the zlib+base64 JSON of the whole document
                        (original, normalized, offsets, raw), split where VARCHAR's 65,535 bytes need it.
``{prefix}_postings``   one row per (token, chunk), written only on servers without sparse vectors
                        (Milvus < 2.4, and corpora written before postings became optional): BM25
                        scoring there, candidates by term, the exact recount of term statistics.
                        Elsewhere the chunk rows' sparse vectors and texts serve all three.
``{prefix}_terms``      one row per token, keyed by a hash of it: its chunk frequency ``df`` (over
                        committed chunks, maintained by every write) and its toneless pinyin ``key``; a
                        query reads all its tokens' statistics with one primary-key ``id in [...]``.
``{prefix}_meta``       embedder spec, dimension, lexical mode, BM25 reference length, last version.

Milvus requires a vector field in every collection, so the three auxiliary ones carry a 2-d zero
vector (``_v``) with a FLAT index that no query uses.

Scalar indexes on the fields that filters and lookups use (``doc_id``, ``part``, ``content_hash``,
``date``, ``source``, ``token``, ``key``): INVERTED on milvus-lite and Milvus >= 2.4; Milvus 2.3 has no
INVERTED index and takes Trie (VARCHAR) and STL_SORT (INT64) instead (see :func:`scalar_index`).
milvus-lite 3.2 implements INVERTED only (no Trie, STL_SORT or BITMAP).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

# Dense index: HNSW, inner product over L2-normalized vectors (= cosine). M=16 links per node and
# efConstruction=200 are Milvus' recommended defaults for 10^4..10^7 vectors; the search width ef is
# max(EF_SEARCH, k), which keeps recall@100 near 1 at the sizes measured (see NOTES-milvus.md).
# milvus-lite (a file, for development and tests) gets FLAT, exact like the local store's small segments:
# its HNSW never returned 6 of the 2,090 DuReader-robust dev chunks, not even to a search for their own
# vector (the same 6 with M 16 or 32), and FLAT returned all of them.
HNSW_PARAMS = {"M": 16, "efConstruction": 200}
EF_SEARCH = 256
MAX_TEXT = 16384  # bytes: chunks are at most 450 characters
MAX_TITLE = 8192
MAX_ID = 1024
PART_CHARS = 60000  # document JSON slice per row (ASCII base64), under VARCHAR's 65,535 bytes
MAX_TOKEN_BYTES = 256
SCHEMA_VERSION = "2"  # 2: term statistics kept in the terms collection (1 counted postings per query)


@dataclass(frozen=True)
class Names:
    """Collection names under one prefix."""

    prefix: str

    @property
    def chunks(self) -> str:
        return f"{self.prefix}_chunks"

    @property
    def documents(self) -> str:
        return f"{self.prefix}_documents"

    @property
    def postings(self) -> str:
        return f"{self.prefix}_postings"

    @property
    def terms(self) -> str:
        return f"{self.prefix}_terms"

    @property
    def meta(self) -> str:
        return f"{self.prefix}_meta"

    def all(self) -> list[str]:
        return [self.meta, self.documents, self.chunks, self.postings, self.terms]


def _aux(schema, index):
    from pymilvus import DataType

    schema.add_field("_v", DataType.FLOAT_VECTOR, dim=2)
    index.add_index("_v", index_type="FLAT", metric_type="L2")


def scalar_index(client):
    """``index(params, field, dtype)``: adds the scalar index this server has for a field of that type."""
    from pymilvus import DataType

    modern = server_has_sparse(client)

    def add(ix, field: str, dtype) -> None:
        if modern:
            ix.add_index(field, index_type="INVERTED")
        else:
            ix.add_index(field, index_type="Trie" if dtype == DataType.VARCHAR else "STL_SORT")

    return add


CREATE_TIMEOUT = 60.0


def load_collection(client, name: str, timeout: float) -> None:
    """Load one collection. While the process creating it has not yet made its indexes, Milvus refuses
    the load ("no vector index"): wait for them, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.load_collection(name, timeout=timeout)
            return
        except Exception as e:
            if "index" not in str(e).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def ensure_loaded(client, name: str, timeout: float) -> None:
    """Load ``name`` unless it is loaded already. Another process may have just created it (two servers
    opening one new corpus at once), so a collection that exists is never assumed to be loaded."""
    state = str(client.get_load_state(name).get("state", ""))
    if "Loaded" not in state:
        load_collection(client, name, timeout)


def _already_exists(e: Exception) -> bool:
    return "already exist" in str(e).lower()


def create_collections(client, names: Names, dim: int, sparse: bool, exact: bool = False) -> None:
    """Create whichever collections are missing (consistency level Strong: a write is seen by the next read);
    ``exact``: the dense index is FLAT, not HNSW (milvus-lite)."""
    from pymilvus import DataType, MilvusClient

    scalar = scalar_index(client)

    def new(name: str, build) -> None:
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        index = client.prepare_index_params()
        build(schema, index, DataType)
        if not client.has_collection(name):
            try:
                client.create_collection(name, schema=schema, consistency_level="Strong")
            except Exception as e:
                if not _already_exists(e):  # another process created it between the check and here
                    raise
        if not client.list_indexes(name):
            # The collection is empty, so its indexes are built at once; pymilvus would otherwise poll each
            # index's state with a half-second sleep (15 indexes: 7.5 s for every new corpus). Two creators
            # racing here ask for the same indexes, which Milvus accepts twice.
            try:
                client.create_index(name, index, sync=False)
            except Exception as e:
                if not _already_exists(e):
                    raise
        ensure_loaded(client, name, CREATE_TIMEOUT)

    def meta(s, ix, T):
        s.add_field("key", T.VARCHAR, max_length=256)
        s.add_field("value", T.VARCHAR, max_length=8192)
        _aux(s, ix)

    def documents(s, ix, T):
        for name, size in (("doc_id", MAX_ID), ("version", 64), ("title", MAX_TITLE), ("date", 64),
                           ("source", 1024), ("url", 4096), ("path", 4096), ("content_hash", 128),
                           ("added_at", 64), ("updated_at", 64)):
            s.add_field(name, T.VARCHAR, max_length=size)
        for name in ("part", "n_parts", "chars", "n_chunks", "body_start"):
            s.add_field(name, T.INT64)
        s.add_field("data", T.VARCHAR, max_length=65535)
        for name, t in (("doc_id", T.VARCHAR), ("content_hash", T.VARCHAR), ("part", T.INT64)):
            scalar(ix, name, t)
        _aux(s, ix)

    def chunks(s, ix, T):
        for name, size in (("chunk_id", MAX_ID), ("doc_id", MAX_ID), ("version", 64), ("text", MAX_TEXT),
                           ("dedup_key", 64), ("title", MAX_TITLE), ("date", 64), ("source", 1024),
                           ("url", 4096)):
            s.add_field(name, T.VARCHAR, max_length=size)
        for name in ("position", "start", "end", "length"):
            s.add_field(name, T.INT64)
        for name in ("doc_id", "date", "source"):
            scalar(ix, name, T.VARCHAR)
        s.add_field("vector", T.FLOAT_VECTOR, dim=dim)
        if exact:
            ix.add_index("vector", index_type="FLAT", metric_type="IP")
        else:
            ix.add_index("vector", index_type="HNSW", metric_type="IP", params=HNSW_PARAMS)
        if sparse:
            s.add_field("sparse", T.SPARSE_FLOAT_VECTOR)
            ix.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")

    def postings(s, ix, T):
        for name, size in (("token", MAX_TOKEN_BYTES), ("doc_id", MAX_ID), ("version", 64), ("date", 64),
                           ("source", 1024)):
            s.add_field(name, T.VARCHAR, max_length=size)
        s.add_field("chunk", T.INT64)
        s.add_field("weight", T.FLOAT)
        for name in ("token", "doc_id"):
            scalar(ix, name, T.VARCHAR)
        _aux(s, ix)

    def terms(s, ix, T):
        s.add_field("token", T.VARCHAR, max_length=MAX_TOKEN_BYTES)
        s.add_field("key", T.VARCHAR, max_length=128)
        s.add_field("df", T.INT64)
        scalar(ix, "key", T.VARCHAR)
        _aux(s, ix)

    for name, build in ((names.meta, meta), (names.documents, documents), (names.chunks, chunks),
                        (names.postings, postings), (names.terms, terms)):
        new(name, build)


def vector_dim(client, names: Names) -> int | None:
    """The dimension of the chunks collection's vector field, None when there is no such collection."""
    if not client.has_collection(names.chunks):
        return None
    for f in client.describe_collection(names.chunks).get("fields", []):
        if f.get("name") == "vector":
            return int(f.get("params", {}).get("dim", 0))
    return None


def server_has_sparse(client) -> bool:
    """Whether the server holds SPARSE_FLOAT_VECTOR fields (Milvus >= 2.4, milvus-lite)."""
    version = str(client.get_server_version())
    if version.startswith("milvus_lite"):
        return True
    digits = version.lstrip("v").split("-")[0].split(".")
    try:
        major, minor = int(digits[0]), int(digits[1])
    except (ValueError, IndexError):
        return True
    return (major, minor) >= (2, 4)

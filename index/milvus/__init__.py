"""The Milvus backend: every policyqa process a stateless client of one Milvus (a cluster, a standalone
server, or a milvus-lite file for development), implementing :class:`index.backend.StoreBackend`.

Lexical side. BM25 over exactly the embedded default's tokens (``index.tokenizer.tokenize``: jieba search
mode plus Han bigrams), not Milvus' own BM25 function: that one tokenizes with its own analyzer (other
words, no bigrams), so scores, the rare-term signal and the not-found rule would read other tokens, and
it exposes no document frequencies, which those rules need. Instead each chunk row carries a
client-side SPARSE_FLOAT_VECTOR of document-side BM25 weights, ``tf / (tf + k1 (1 - b + b dl/avgdl))``
keyed by a 32-bit hash of the token; a query vector carries ``idf(t) * count`` with idf computed at query
time from the chunk frequencies that every write keeps in the terms collection (read with one
primary-key lookup for all of a query's tokens), so idf never goes stale as the corpus grows; inner product = BM25 (Lucene variant, k1 = 1.2, b = 0.75, as bm25s).
``avgdl`` is the reference length fixed by the first batch written (chunks are 300-450 characters, so the
corpus average moves little; a migration re-weights). Servers without sparse vectors (Milvus 2.3) score
BM25 from the postings rows instead: same numbers, slower on large corpora.

Everything a query or a citation needs lives in Milvus (collections in :mod:`index.milvus.schema`), so
two processes on one Milvus answer the same. Writes: see :mod:`index.milvus.store` (versions, commit
markers, last writer wins). pymilvus is imported only inside this package.
"""

from __future__ import annotations

from index.backend import StoreConfig


def open_milvus_store(config: StoreConfig):
    """Open (creating when absent) the corpus ``config.milvus_prefix`` at ``config.milvus_uri``.

    Raises :class:`index.backend.StoreUnavailableError` with one line naming the URI and the reason.
    """
    from index.milvus.store import MilvusStore

    return MilvusStore(config)

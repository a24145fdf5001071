"""An in-memory store backend: the seam between qa/ and storage, implemented with plain Python.

It keeps documents and chunks in dicts, scores BM25 (Lucene variant, k1=1.2, b=0.75) and inner
products by brute force, and knows nothing of SQLite, segments or FAISS. The qa tests run on it as
well as on the local store, so anything qa/ needs must go through index.backend.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from corpus.models import Chunk
from corpus.prepare import Document
from index.backend import NO_FILTER, ChunkRow, Filter, StoredDocument, TermStats, WriteResult
from index.embedder import EmbedderSpec, create_embedder
from index.pinyin_bridge import PinyinBridge, romanize
from index.tokenizer import tokenize


def _dedup_key(text: str) -> str:
    core = re.sub(r"[\W_]+", "", text.lower())
    return hashlib.sha1(core.encode("utf-8")).hexdigest()[:16]


class _Terms(TermStats):
    def __init__(self, df: Counter, n: int) -> None:
        self._df, self.n_chunks = df, n

    def __getitem__(self, token: str) -> int:
        return self._df.get(token, 0)


class MemoryView:
    """A frozen copy of the store's state."""

    def __init__(self, store: MemoryStore) -> None:
        self._docs = dict(store.docs)
        self._chunks = dict(store.chunks)
        self.generation = store.generation
        self.n_chunks = len(self._chunks)
        df: Counter = Counter()
        for c in self._chunks.values():
            df.update(set(c["tokens"]))
        self.terms = _Terms(df, self.n_chunks)
        self.bridge = PinyinBridge([(romanize(t), t, n) for t, n in df.items() if romanize(t)])

    def _allowed(self, where: Filter) -> list[int]:
        out = []
        for key, c in self._chunks.items():
            d = self._docs[c["doc_id"]]
            if where.since and not (d["date"] and d["date"] >= where.since):
                continue
            if where.until and not (d["date"] and d["date"] <= where.until):
                continue
            if where.source and where.source.lower() not in (d["source"] or "").lower():
                continue
            out.append(key)
        return out

    def dense(self, query: np.ndarray, k: int, where: Filter = NO_FILTER):
        keys = self._allowed(where)
        if not keys:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        scores = np.stack([self._chunks[i]["vector"] for i in keys]) @ np.asarray(query, np.float32)
        order = np.argsort(-scores, kind="stable")[:k]
        return scores[order].astype(np.float32), np.asarray(keys, np.int64)[order]

    def lexical(self, tokens: list[str], k: int, where: Filter = NO_FILTER):
        n = self.n_chunks
        avg = sum(max(1, len(c["tokens"])) for c in self._chunks.values()) / max(1, n)
        scored = []
        for key in self._allowed(where):
            toks = self._chunks[key]["tokens"]
            tf = Counter(toks)
            length = max(1, len(toks))
            s = 0.0
            for t in tokens:
                df = self.terms[t]
                if df and tf[t]:
                    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                    s += idf * tf[t] / (tf[t] + 1.2 * (0.25 + 0.75 * length / avg))
            if s > 0:
                scored.append((s, key))
        scored.sort(key=lambda x: (-x[0], x[1]))
        scored = scored[:k]
        return np.asarray([s for s, _ in scored], np.float32), np.asarray([i for _, i in scored], np.int64)

    def term_candidates(self, tokens: list[str], budget: int, where: Filter = NO_FILTER):
        allowed = set(self._allowed(where))
        out: list[int] = []
        for t in sorted(dict.fromkeys(tokens), key=lambda t: (self.terms[t], t)):
            for key in sorted(allowed):
                if t in self._chunks[key]["tokens"] and key not in out:
                    if len(out) == budget:
                        return np.asarray(out, np.int64), True
                    out.append(key)
        return np.asarray(out, np.int64), False

    def chunks(self, keys: Iterable[int]) -> dict[int, ChunkRow]:
        out = {}
        for key in keys:
            c = self._chunks.get(int(key))
            if c is None:
                continue
            d = self._docs[c["doc_id"]]
            out[int(key)] = ChunkRow(int(key), c["chunk_id"], c["doc_id"], c["start"], c["end"], c["text"],
                                     c["dedup_key"], d["title"], d["date"], d["source"], d["url"])
        return out

    def offsets(self, doc_ids: Iterable[str]) -> dict[str, np.ndarray]:
        return {i: self._docs[i]["offsets"] for i in doc_ids if i in self._docs}

    def document(self, doc_id: str) -> dict | None:
        d = self._docs.get(doc_id)
        return {k: v for k, v in d.items() if k not in ("offsets", "content_hash", "source_path")} if d else None


class MemoryStore:
    """A StoreBackend holding everything in this process's memory."""

    def __init__(self, spec: EmbedderSpec) -> None:
        self.spec = spec
        self.config = {"embedder": spec.as_dict()}
        self.location = "memory"
        self.data_dir = None
        self._embedder = None
        self.docs: dict[str, dict] = {}
        self.chunks: dict[int, dict] = {}
        self.generation = 0
        self._next = 1

    @property
    def embedder(self):
        if self._embedder is None:
            self._embedder = create_embedder(self.spec)
        return self._embedder

    @property
    def model_loaded(self) -> bool:
        return self._embedder is not None

    def use_embedder(self, embedder) -> None:
        self._embedder = embedder

    def plan(self, docs, replace: bool = False):
        result, todo = WriteResult(), []
        for doc in docs:
            old = self.docs.get(doc.doc_id)
            if old and (old["content_hash"], old["title"], old["date"], old["source"], old["url"]) == (
                doc.content_hash, doc.title, doc.date, doc.source, doc.url
            ):
                result.unchanged.append(doc.doc_id)
                continue
            twin = next((i for i, d in self.docs.items() if d["content_hash"] == doc.content_hash and i != doc.doc_id),
                        None)
            if twin:
                result.duplicates.append((doc.doc_id, twin))
                continue
            todo.append(doc)
        return todo, result

    def embed(self, docs, show_progress: bool = False):
        return [self.embedder.encode_passages([f"{d.title}\n{c.text}" if d.title else c.text for c in d.chunks])
                for d in docs]

    def write(self, docs, embeddings=None, delete=(), lock_timeout=None, replace=False) -> WriteResult:
        todo, result = self.plan(docs, replace)
        vectors = self.embed(todo) if embeddings is None else [
            e for d, e in zip(docs, embeddings, strict=True) if d in todo]
        for doc_id in delete:
            if self.docs.pop(doc_id, None) is not None:
                result.deleted.append(doc_id)
                self._drop_chunks(doc_id)
        for doc, vecs in zip(todo, vectors, strict=True):
            (result.updated if doc.doc_id in self.docs else result.added).append(doc.doc_id)
            self._drop_chunks(doc.doc_id)
            self.docs[doc.doc_id] = {
                "doc_id": doc.doc_id, "title": doc.title, "date": doc.date, "source": doc.source, "url": doc.url,
                "path": doc.path, "original": doc.original, "normalized": doc.text, "body_start": doc.body_start,
                "raw": doc.raw, "added_at": doc.added_at or "", "updated_at": doc.updated_at or "",
                "content_hash": doc.content_hash, "source_path": doc.source_path,
                "offsets": np.asarray(doc.offsets, np.int64),
            }
            for chunk, vec in zip(doc.chunks, vecs, strict=True):
                self.chunks[self._next] = {
                    "chunk_id": chunk.chunk_id, "doc_id": doc.doc_id, "position": chunk.position,
                    "start": chunk.start, "end": chunk.end,
                    "text": chunk.text, "dedup_key": _dedup_key(chunk.text), "vector": np.asarray(vec, np.float32),
                    "tokens": tokenize(f"{doc.title}\n{chunk.text}" if doc.title else chunk.text),
                }
                self._next += 1
        if todo or result.deleted:
            self.generation += 1
        return result

    def _drop_chunks(self, doc_id: str) -> None:
        for key in [k for k, c in self.chunks.items() if c["doc_id"] == doc_id]:
            del self.chunks[key]

    @contextlib.contextmanager
    def read(self) -> Iterator[MemoryView]:
        yield MemoryView(self)

    def stats(self) -> dict:
        return {"location": self.location, "documents": len(self.docs), "chunks": len(self.chunks),
                "generation": self.generation, "embedder": json.loads(json.dumps(self.spec.as_dict()))}

    def list_documents(self, limit=None, offset=0) -> list[dict]:
        docs = sorted(self.docs.values(), key=lambda d: (d["date"] or "", d["doc_id"]), reverse=True)
        return [{"doc_id": d["doc_id"], "title": d["title"], "date": d["date"], "source": d["source"],
                 "url": d["url"], "path": d["path"], "chars": len(d["normalized"]),
                 "chunks": sum(c["doc_id"] == d["doc_id"] for c in self.chunks.values())}
                for d in docs[offset: None if limit is None else offset + limit]]

    def get_document(self, doc_id: str) -> dict | None:
        return MemoryView(self).document(doc_id)

    def document_ids(self) -> list[str]:
        return sorted(self.docs)

    def export(self, doc_ids) -> list[StoredDocument]:
        out = []
        for doc_id in dict.fromkeys(doc_ids):
            d = self.docs.get(doc_id)
            if d is None:
                continue
            mine = sorted((c for c in self.chunks.values() if c["doc_id"] == doc_id), key=lambda c: c["position"])
            doc = Document(
                doc_id=doc_id, title=d["title"], date=d["date"], source=d["source"], url=d["url"],
                original=d["original"], text=d["normalized"], offsets=d["offsets"].copy(),
                body_start=d["body_start"], content_hash=d["content_hash"],
                chunks=[Chunk(c["chunk_id"], doc_id, c["position"], c["start"], c["end"], c["text"]) for c in mine],
                raw=d["raw"], path=d["path"], source_path=d["source_path"], added_at=d["added_at"] or None,
                updated_at=d["updated_at"] or None,
            )
            out.append(StoredDocument(doc, np.stack([c["vector"] for c in mine]) if mine else np.zeros((0, 0))))
        return out

    def close(self) -> None:
        pass


def make_engine(kind: str, data_dir: Path, spec=None, embedder=None):
    """An Engine over the local store in ``data_dir`` ("local") or the in-memory backend ("memory")."""
    from qa.engine import Engine

    if kind == "local":
        engine = Engine(data_dir, spec)
    else:
        engine = Engine(store=MemoryStore(spec or EmbedderSpec()))
    if embedder is not None:
        engine.store.use_embedder(embedder)
    return engine

"""What a store embeds for each chunk, shared by every backend so their vectors agree."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def embed_text(title: str, text: str) -> str:
    """What is embedded (and tokenized) for a chunk: its document's title kept with the chunk's text."""
    return f"{title}\n{text}" if title else text


def embed_documents(
    embedder: Callable[[], Any], docs: list[Any], dim: Callable[[], int], show_progress: bool = False
) -> list[np.ndarray]:
    """Embeddings of every chunk of each document, one (chunks x dim) array per document.

    ``embedder`` and ``dim`` are called only when there is something to embed (or an empty array to
    shape), so a write that only deletes never loads a model."""
    texts = [embed_text(d.title, c.text) for d in docs for c in d.chunks]
    vecs = embedder().encode_passages(texts, show_progress=show_progress) if texts else None
    out, i = [], 0
    for d in docs:
        n = len(d.chunks)
        out.append(vecs[i : i + n] if vecs is not None else np.zeros((0, dim()), np.float32))
        i += n
    return out


def embeddings_for(docs: list[Any], embeddings: list[np.ndarray], todo: list[Any]) -> list[np.ndarray]:
    """The given embeddings (one array per doc of ``docs``) of the documents in ``todo``, in its order."""
    by_id = {d.doc_id: e for d, e in zip(docs, embeddings, strict=True)}
    return [by_id[d.doc_id] for d in todo]

"""Text embedders: a small interface and a factory per backend.

``sentence-transformers`` is the default backend (multilingual-e5-small, built offline on first use);
``hash`` is a deterministic character n-gram embedder with no model at all, for tests and for machines
where loading a model is not wanted. Both return L2-normalized float32 rows.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    """Turns queries and passages into vectors of one dimension."""

    name: str
    dim: int

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...

    def encode_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray: ...


@dataclass(frozen=True)
class EmbedderSpec:
    """Which embedder a data directory uses: a backend and a model (name or directory)."""

    backend: str = "sentence-transformers"
    model: str = "multilingual-e5-small"

    def as_dict(self) -> dict[str, str]:
        return {"backend": self.backend, "model": self.model}


def cpu_supports_bf16() -> bool:
    """True where the CPU has native bf16 matrix instructions (AVX512-BF16 or AMX)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class SentenceTransformerEmbedder:
    """A sentence-transformers model with e5-style prompts ("query: " / "passage: ")."""

    def __init__(self, model_dir: str, name: str, batch_size: int = 32) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(model_dir, device="cpu", local_files_only=True)
        if cpu_supports_bf16() and os.environ.get("POLICYQA_BF16", "1") != "0":
            self.model = self.model.to(torch.bfloat16)
        self.model.max_seq_length = min(self.model.max_seq_length or 512, 512)
        self.name = name
        self.dim = int(self.model.get_embedding_dimension())
        self.batch_size = batch_size
        prompts = self.model.prompts or {}
        self._query_prompt = "query" if "query" in prompts else None
        self._passage_prompt = next((p for p in ("passage", "document") if p in prompts), None)

    def _encode(self, texts: list[str], prompt_name: str | None, show_progress: bool) -> np.ndarray:
        vecs = self.model.encode(
            texts,
            prompt_name=prompt_name,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed search queries."""
        return self._encode(texts, self._query_prompt, False)

    def encode_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        """Embed passages to be searched."""
        return self._encode(texts, self._passage_prompt, show_progress)


class HashingEmbedder:
    """Character uni- and bi-gram feature hashing: no model, deterministic, weak but honest."""

    def __init__(self, dim: int = 256) -> None:
        self.name = f"hash-{dim}"
        self.dim = dim

    def _one(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        grams = list(text) + [text[i : i + 2] for i in range(len(text) - 1)]
        for g in grams:
            if g.isspace():
                continue
            h = int.from_bytes(hashlib.blake2b(g.encode("utf-8"), digest_size=8).digest(), "little")
            v[h % self.dim] += 1.0 if (h >> 63) == 0 else -1.0
        n = float(np.linalg.norm(v))
        return v / n if n else v

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed search queries."""
        return np.stack([self._one(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def encode_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        """Embed passages to be searched."""
        return self.encode_queries(texts)


def _sentence_transformers(spec: EmbedderSpec) -> Embedder:
    from index.model_build import DEFAULT_MODEL_NAME, ensure_default_model

    if spec.model == DEFAULT_MODEL_NAME:
        return SentenceTransformerEmbedder(str(ensure_default_model()), spec.model)
    if not os.path.isdir(spec.model):
        raise ValueError(
            f"embedder model {spec.model!r} is neither {DEFAULT_MODEL_NAME!r} nor a "
            "sentence-transformers model directory (models are never downloaded)"
        )
    return SentenceTransformerEmbedder(spec.model, spec.model)


def _hashing(spec: EmbedderSpec) -> Embedder:
    return HashingEmbedder(int(spec.model) if spec.model.isdigit() else 256)


BACKENDS = {"sentence-transformers": _sentence_transformers, "hash": _hashing}


def create_embedder(spec: EmbedderSpec) -> Embedder:
    """Build the embedder a spec names; raises ValueError for an unknown backend."""
    try:
        factory = BACKENDS[spec.backend]
    except KeyError:
        raise ValueError(f"unknown embedder backend {spec.backend!r}; known: {sorted(BACKENDS)}") from None
    return factory(spec)

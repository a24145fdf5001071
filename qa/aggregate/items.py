"""From attributed mentions to items: one per canonical name, every mention kept, status and dates."""

from __future__ import annotations

from dataclasses import dataclass, field

from qa.aggregate.attribute import RawMention
from qa.aggregate.canonical import Canonicalizer
from qa.aggregate.status import COUNTED, PLANNED, WITHDRAWN, stronger
from qa.extract.names import FIRM_SUFFIX_RE


@dataclass
class Mention:
    """One passage sentence naming an item; ``start``/``end`` index its document's normalized text."""

    surface: str
    doc_id: str
    date: str | None
    start: int
    end: int
    status: str
    sentence: tuple[int, int]
    passage: object  # qa.aggregate.gather.Passage the sentence was read in
    citation: int = 0


@dataclass
class AggregateItem:
    """An item with all its mentions, sorted by date."""

    name: str  # shown name (the alias file's, else the most frequent form)
    text: str  # the surface form shown (the full legal name when one is used, else the most frequent)
    status: str
    mentions: list[Mention] = field(default_factory=list)

    @property
    def first_date(self) -> str | None:
        return min((m.date for m in self.mentions if m.date), default=None)

    @property
    def last_date(self) -> str | None:
        return max((m.date for m in self.mentions if m.date), default=None)

    @property
    def doc_ids(self) -> list[str]:
        return list(dict.fromkeys(m.doc_id for m in self.mentions))

    @property
    def counted(self) -> bool:
        """Whether it counts among the items that landed (planned and withdrawn never do)."""
        return self.status in COUNTED


def _date_key(date: str | None) -> str:
    return date or "9999-99-99"


def _status(ms: list[Mention]) -> str:
    """Withdrawn when the latest mention says so; else the furthest any mention got (planned < signed <
    landed < operating): a firm that planned, then landed, has landed; one that produces and expands operates."""
    latest = _date_key(ms[-1].date)
    last = [m.status for m in ms if _date_key(m.date) == latest]
    if WITHDRAWN in last:
        return WITHDRAWN
    status = PLANNED
    for m in ms:
        if m.status != WITHDRAWN:
            status = stronger(status, m.status)
    return status


def build_items(found: list[tuple[RawMention, object]], canon: Canonicalizer) -> list[AggregateItem]:
    """Items from (mention, passage) pairs: duplicates from overlapping chunks dropped, names merged,
    status from the latest mention (the stronger one on the same date), sorted by first date."""
    seen: set[tuple[str, int, int]] = set()
    mentions: list[Mention] = []
    for raw, passage in found:
        key = (passage.doc_id, raw.start, raw.end)
        if key in seen:
            continue
        seen.add(key)
        mentions.append(Mention(raw.surface, passage.doc_id, passage.date, raw.start, raw.end, raw.status,
                                raw.sentence, passage))
    group_of = canon.groups(m.surface for m in mentions)
    groups: dict[str, list[Mention]] = {}
    for m in mentions:
        groups.setdefault(group_of[m.surface], []).append(m)
    items = []
    for ms in groups.values():
        ms.sort(key=lambda m: (_date_key(m.date), m.doc_id, m.start))
        status = _status(ms)
        surfaces = [m.surface for m in ms]
        legal = [n for n in surfaces if FIRM_SUFFIX_RE.search(n)]
        text = max(legal, key=len) if legal else max(set(surfaces), key=lambda n: (surfaces.count(n), len(n)))
        shown = canon.shown_name([text, *surfaces]) if canon.alias_of else text
        items.append(AggregateItem(shown, text, status, ms))
    items.sort(key=lambda it: (_date_key(it.first_date), min((_date_key(m.date), m.doc_id, m.start) for m in it.mentions)))
    return items

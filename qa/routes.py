"""The answerer every front end uses: corpus-wide list questions first, then the top-k answer."""

from __future__ import annotations

from qa import aggregate
from qa.answer import Answerer
from qa.search import Searcher

ROUTES = (aggregate.route,)


def answerer(searcher: Searcher) -> Answerer:
    """An :class:`Answerer` over ``searcher`` with the usual routes (``ROUTES``)."""
    return Answerer(searcher, ROUTES)

"""POST /ask: an extractive answer whose every sentence cites a passage."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.http.deps import EngineDep, FilterFields, K, QueryText, highlight_terms

router = APIRouter(tags=["ask"])


class CitationOut(BaseModel):
    """``quote == normalized[start:end]``; ``orig_start``/``orig_end`` locate it in the text as ingested."""

    model_config = ConfigDict(extra="allow")

    n: int
    doc_id: str
    chunk_id: str
    title: str
    date: str | None
    source: str | None
    url: str | None
    quote: str
    start: int
    end: int
    orig_start: int
    orig_end: int
    score: float = Field(description="the cited passage's hybrid retrieval score for this question (see GET "
                         "/search); higher is better, comparable only within one answer")


class GeneratedOut(BaseModel):
    """How a language model rewrote the answer, or why it could not (``error``; the answer stays extractive)."""

    model: str | None
    text: str | None = Field(description="the model's answer, markers checked (the same as ``answer``)")
    invalid_markers: list[int] = Field(description="[n] markers the model wrote that cite no passage it was shown")
    used_citations: list[int]
    error: str | None


class MentionOut(BaseModel):
    """One sentence naming an item: ``citations[citation-1]`` quotes it; ``start``/``end`` index the document."""

    citation: int
    doc_id: str
    date: str | None
    start: int
    end: int
    text: str
    status: str


class ItemOut(BaseModel):
    """An answer item; corpus-wide answers add its status, dates, article count and every mention."""

    model_config = ConfigDict(extra="allow")

    text: str
    citation: int
    start: int
    end: int
    name: str | None = None
    status: str | None = Field(None, description="signed, landed, operating, planned or withdrawn")
    first_date: str | None = None
    last_date: str | None = None
    articles: int | None = None
    mentions: list[MentionOut] | None = None


class AggregateOut(BaseModel):
    """What a corpus-wide answer read and counted (planned and withdrawn items are not in ``n_items``)."""

    model_config = ConfigDict(extra="allow")

    category: str
    place: list[str]
    since: str | None
    until: str | None
    date_from_question: str | None
    scanned: int
    budget: int
    truncated: bool
    n_items: int
    n_articles: int
    n_planned: int
    n_withdrawn: int


class AnswerOut(BaseModel):
    """The answer text carries ``[n]`` markers that refer to ``citations[n-1]``."""

    model_config = ConfigDict(extra="allow")

    question: str
    answer: str
    citations: list[CitationOut]
    type: str
    found: bool
    items: list[ItemOut]
    aggregate: AggregateOut | None = Field(None, description="set for corpus-wide answers (every mention cited)")
    extractive_answer: str = Field(description="the extractive answer (``answer`` unless a model rewrote it)")
    generated: GeneratedOut | None = Field(None, description="set when a language model was asked")
    terms: list[str] = Field(description="question words and bridged names, for highlighting quotes")


class AskRequest(FilterFields):
    question: QueryText
    k: K = 5
    generate: bool | None = Field(
        None, description="rewrite the answer with the configured LLM (default: when one is configured)")


@router.post("/ask", response_model=AnswerOut, summary="Answer a question with numbered citations")
def ask(engine: EngineDep, body: AskRequest) -> dict:
    """``found`` is false when no passage matches (no LLM is asked then); 409 while nothing is indexed."""
    answer = engine.ask(body.question, k=body.k, filters=body.filters(), generate=body.generate).as_dict()
    answer["terms"] = highlight_terms(engine, body.question)
    return answer

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


class AnswerOut(BaseModel):
    """The answer text carries ``[n]`` markers that refer to ``citations[n-1]``."""

    model_config = ConfigDict(extra="allow")

    question: str
    answer: str
    citations: list[CitationOut]
    type: str
    found: bool
    items: list[dict]
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

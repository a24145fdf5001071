"""GET /health: is the model loaded, and how much is indexed."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from api.http.deps import EngineDep, model_loaded

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    model_loaded: bool
    embedder: dict
    documents: int
    chunks: int
    generation: int


@router.get("/health", response_model=Health, summary="Liveness, model state and index counts")
def health(engine: EngineDep) -> Health:
    """``model_loaded`` is false until the embedding model has been loaded (at start-up or by the first query)."""
    stats = engine.store.stats()
    return Health(
        status="ok",
        model_loaded=model_loaded(engine),
        embedder=stats["embedder"],
        documents=stats["documents"],
        chunks=stats["chunks"],
        generation=stats["generation"],
    )

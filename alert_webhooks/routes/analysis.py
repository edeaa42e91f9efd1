"""Analysis API: analyze an incident, read past analyses, manage and search the knowledge base.

Thin routes over :mod:`alert_webhooks.analysis`; the analyst is the same code path as the worker's.
The app shares its worker's analyst (and its metrics registry) by setting ``app.state.analyst``.
"""

from __future__ import annotations

import hmac
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from pydantic import BaseModel, Field

from alert_webhooks.analysis.analyst import IncidentAnalyst
from alert_webhooks.analysis.case import IncidentInput
from alert_webhooks.analysis.factory import build_analyst, open_knowledge
from alert_webhooks.analysis.knowledge import DOC_ID, KnowledgeBase, KnowledgeDocument, KnowledgeInput
from alert_webhooks.analysis.result import AnalysisResult, Category
from alert_webhooks.settings import Settings, get_settings

router = APIRouter(prefix="/api/v1", tags=["analysis"])


def _settings(request: Request) -> Settings:
    """The running service's settings (``create_app(settings)``), else the environment's."""
    service = getattr(request.app.state, "service", None)
    return getattr(service, "settings", None) or get_settings()


def get_knowledge(request: Request) -> KnowledgeBase:
    return open_knowledge(_settings(request).data_dir)


def get_analyst(request: Request) -> IncidentAnalyst:
    """The app's shared analyst (``app.state.analyst``, the worker's) if set, else one built from
    the same settings — cheap: the knowledge base and archive are opened once per data dir."""
    shared = getattr(request.app.state, "analyst", None)
    return shared if isinstance(shared, IncidentAnalyst) else build_analyst(_settings(request))


def require_api_token(request: Request) -> None:
    """Writes to the knowledge base steer every future summary, and /analyze spends LLM time:
    when ``LLM_SRE_WEBHOOK_TOKEN`` is set they need it as a bearer token (reads stay open)."""
    expected = _settings(request).webhook_token
    if expected is None:
        return
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        presented.strip().encode(), expected.get_secret_value().encode()
    ):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "missing or wrong token", headers={"WWW-Authenticate": "Bearer"}
        )


Guarded = [Depends(require_api_token)]
DocId = Annotated[str, Path(pattern=DOC_ID)]
KnowledgeDep = Annotated[KnowledgeBase, Depends(get_knowledge)]
AnalystDep = Annotated[IncidentAnalyst, Depends(get_analyst)]


class SearchQuery(BaseModel):
    query: str = Field(min_length=1, max_length=4000)
    category: Category | None = None
    limit: int = Field(5, ge=1, le=50)


class SearchHit(BaseModel):
    score: float
    document: KnowledgeDocument


def _found(doc: KnowledgeDocument | None, doc_id: str) -> KnowledgeDocument:
    if doc is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no knowledge document {doc_id!r}")
    return doc


@router.post("/analyze", dependencies=Guarded)
async def analyze(incident: IncidentInput, analyst: AnalystDep) -> AnalysisResult:
    """Analyse an incident now: deterministic, then the LLM within its deadline if it grounds."""
    return await analyst.analyse(f"api-{uuid.uuid4().hex[:16]}", incident.to_case())


@router.get("/analyze/{incident_id}")
def get_analysis(incident_id: str, analyst: AnalystDep) -> AnalysisResult:
    """The latest analysis of an incident (from the API or from an Alertmanager notification)."""
    found = analyst.archive.get(incident_id) if analyst.archive else None
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no analysis for incident {incident_id!r}")
    return found


@router.post("/knowledge", status_code=status.HTTP_201_CREATED, dependencies=Guarded)
def create_document(data: KnowledgeInput, kb: KnowledgeDep) -> KnowledgeDocument:
    """Add a document; 409 if the given id exists (use PUT to replace)."""
    if data.id and kb.get(data.id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"knowledge document {data.id!r} exists")
    return kb.put(data)


@router.get("/knowledge")
def list_documents(
    kb: KnowledgeDep,
    category: Category | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[KnowledgeDocument]:
    """List documents, optionally of one category."""
    return kb.documents(category, limit, offset)


@router.post("/knowledge/bulk-import", status_code=status.HTTP_201_CREATED, dependencies=Guarded)
def bulk_import(
    docs: Annotated[list[KnowledgeInput], Field(max_length=1000)], kb: KnowledgeDep
) -> dict[str, int]:
    """Create or replace many documents at once."""
    return {"imported": len(kb.bulk_import(docs))}


@router.get("/knowledge/{doc_id}")
def get_document(doc_id: DocId, kb: KnowledgeDep) -> KnowledgeDocument:
    """One document."""
    return _found(kb.get(doc_id), doc_id)


@router.put("/knowledge/{doc_id}", dependencies=Guarded)
def replace_document(doc_id: DocId, data: KnowledgeInput, kb: KnowledgeDep) -> KnowledgeDocument:
    """Create or replace the document at this id (the path id wins over a body id)."""
    return kb.put(data, doc_id=doc_id)


@router.delete("/knowledge/{doc_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=Guarded)
def delete_document(doc_id: DocId, kb: KnowledgeDep) -> None:
    """Remove a document."""
    if not kb.delete(doc_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no knowledge document {doc_id!r}")


@router.post("/search")
def search(body: SearchQuery, kb: KnowledgeDep) -> list[SearchHit]:
    """BM25 search over the knowledge base."""
    return [
        SearchHit(score=h.score, document=h.document)
        for h in kb.search(body.query, body.limit, body.category)
    ]


@router.get("/search/similar")
def similar(
    kb: KnowledgeDep,
    query: Annotated[str, Query(min_length=1, max_length=4000)],
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
) -> list[SearchHit]:
    """Documents most similar to free text (an error line, an alert summary)."""
    return [SearchHit(score=h.score, document=h.document) for h in kb.search(query, limit)]

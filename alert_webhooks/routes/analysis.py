"""Analysis API: analyze an incident, read past analyses, manage and search the knowledge base.

Thin routes over :mod:`alert_webhooks.analysis`; the analyst is the same code path as the worker's.
The app shares its worker's analyst (and its metrics registry) by setting ``app.state.analyst``.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from alert_webhooks.analysis.analyst import IncidentAnalyst
from alert_webhooks.analysis.case import IncidentInput
from alert_webhooks.analysis.factory import build_analyst, open_knowledge, shared_redis
from alert_webhooks.analysis.knowledge import DOC_ID, KnowledgeBase, KnowledgeDocument, KnowledgeInput
from alert_webhooks.analysis.result import AnalysisResult, Category
from alert_webhooks.masking import masked_analysis
from alert_webhooks.routes.deps import Authorized, ReadOnly, request_settings
from alert_webhooks.routes.errors import errors
from alert_webhooks.store import call
from alert_webhooks.wire import STRICT
from exporters.redact import redact_mapping

router = APIRouter(prefix="/api/v1", tags=["analysis"], responses=errors(401))


def get_knowledge(request: Request) -> KnowledgeBase:
    settings = request_settings(request)
    return open_knowledge(settings.data_dir, shared_redis(settings))


def get_analyst(request: Request) -> IncidentAnalyst:
    """The app's shared analyst (``app.state.analyst``, the worker's) if set, else one built from
    the same settings — cheap: the knowledge base and archive are opened once per data dir."""
    shared = getattr(request.app.state, "analyst", None)
    return shared if isinstance(shared, IncidentAnalyst) else build_analyst(request_settings(request))


DocId = Annotated[str, Path(pattern=DOC_ID)]
KnowledgeDep = Annotated[KnowledgeBase, Depends(get_knowledge)]
AnalystDep = Annotated[IncidentAnalyst, Depends(get_analyst)]


class SearchQuery(BaseModel):
    model_config = STRICT

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


@router.post("/analyze", dependencies=Authorized, responses=errors(403, 413))
async def analyze(incident: IncidentInput, analyst: AnalystDep) -> AnalysisResult:
    """Analyse an incident now: deterministic, then the LLM within its deadline if it grounds."""
    # Masked before the analyst (and its prompt, archive and answer) sees it, as at the webhook intake.
    clean = IncidentInput.model_validate(redact_mapping(incident.model_dump(mode="json")))
    return masked_analysis(await analyst.analyse(f"api-{uuid.uuid4().hex[:16]}", clean.to_case()))


@router.get("/analyze/{incident_id}", dependencies=Authorized, responses=errors(404))
async def get_analysis(incident_id: str, analyst: AnalystDep, request: Request) -> AnalysisResult:
    """The latest analysis of an incident (from the API or from an Alertmanager notification)."""
    # The incident's own record first: it is what the worker and the refinement scheduler update
    # (a refinement replaced, or skipped with its reason); the archive holds the API's analyses.
    store = getattr(getattr(request.app.state, "service", None), "store", None)
    incident = await call(store, store.incident, incident_id) if store else None
    found = incident.analysis if incident else None
    if found is None and analyst.archive:
        found = await run_in_threadpool(analyst.archive.get, incident_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no analysis for incident {incident_id!r}")
    return found


@router.post(
    "/knowledge",
    status_code=status.HTTP_201_CREATED,
    dependencies=Authorized,
    responses=errors(403, 409, 413),
)
def create_document(data: KnowledgeInput, kb: KnowledgeDep) -> KnowledgeDocument:
    """Add a document; 409 if the given id exists (use PUT to replace)."""
    if data.id and kb.get(data.id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"knowledge document {data.id!r} exists")
    return kb.put(data)


@router.get("/knowledge", dependencies=Authorized)
def list_documents(
    kb: KnowledgeDep,
    category: Category | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[KnowledgeDocument]:
    """List documents, optionally of one category."""
    return kb.documents(category, limit, offset)


@router.post(
    "/knowledge/bulk-import",
    status_code=status.HTTP_201_CREATED,
    dependencies=Authorized,
    responses=errors(403, 413),
)
def bulk_import(
    docs: Annotated[list[KnowledgeInput], Field(max_length=1000)], kb: KnowledgeDep
) -> dict[str, int]:
    """Create or replace many documents at once."""
    return {"imported": len(kb.bulk_import(docs))}


@router.get("/knowledge/{doc_id}", dependencies=Authorized, responses=errors(404))
def get_document(doc_id: DocId, kb: KnowledgeDep) -> KnowledgeDocument:
    """One document."""
    return _found(kb.get(doc_id), doc_id)


@router.put("/knowledge/{doc_id}", dependencies=Authorized, responses=errors(403, 413))
def replace_document(doc_id: DocId, data: KnowledgeInput, kb: KnowledgeDep) -> KnowledgeDocument:
    """Create or replace the document at this id (the path id wins over a body id)."""
    return kb.put(data, doc_id=doc_id)


@router.delete(
    "/knowledge/{doc_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=Authorized,
    responses=errors(403, 404),
)
def delete_document(doc_id: DocId, kb: KnowledgeDep) -> None:
    """Remove a document."""
    if not kb.delete(doc_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no knowledge document {doc_id!r}")


@router.post("/search", dependencies=ReadOnly, responses=errors(413))
def search(body: SearchQuery, kb: KnowledgeDep) -> list[SearchHit]:
    """BM25 search over the knowledge base."""
    return [
        SearchHit(score=h.score, document=h.document)
        for h in kb.search(body.query, body.limit, body.category)
    ]


@router.get("/search/similar", dependencies=Authorized)
def similar(
    kb: KnowledgeDep,
    query: Annotated[str, Query(min_length=1, max_length=4000)],
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
) -> list[SearchHit]:
    """Documents most similar to free text (an error line, an alert summary)."""
    return [SearchHit(score=h.score, document=h.document) for h in kb.search(query, limit)]

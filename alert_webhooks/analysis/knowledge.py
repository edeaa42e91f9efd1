"""The knowledge base: runbooks and past cases in SQLite, searched with FTS5's BM25.

SQLite's FTS5 ships BM25 ranking (``bm25()``) and a Porter stemmer, so retrieval needs no model
and no extra dependency; the whole base lives in one file under ``settings.data_dir``.

    kb = KnowledgeBase(Path("data/knowledge.db"))
    kb.seed(load_runbooks())
    for hit in kb.search("redis OOM command not allowed used_memory"):
        print(hit.document.id, hit.score)
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from alert_webhooks.analysis.result import Category, Severity
from alert_webhooks.wire import STRICT

DOC_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"  # safe in URLs, logs and Slack text


class KnowledgeInput(BaseModel):
    """What a client sends to create or replace a document (``id`` is generated when absent)."""

    model_config = STRICT

    id: str | None = Field(None, pattern=DOC_ID)
    category: Category
    title: str = Field(min_length=1, max_length=300)
    symptoms: list[str] = Field(default_factory=list)
    root_causes: list[str] = Field(default_factory=list)
    diagnosis_steps: list[str] = Field(default_factory=list)
    solutions: list[str] = Field(default_factory=list)
    prevention: list[str] = Field(default_factory=list)
    related_metrics: list[str] = Field(default_factory=list)
    severity: Severity = "warning"
    tags: list[str] = Field(default_factory=list)


class KnowledgeDocument(KnowledgeInput):
    model_config = ConfigDict(strict=False)  # what the service answers, not what it accepts

    id: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Hit:
    document: KnowledgeDocument
    score: float  # higher is better (negated FTS5 bm25)


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]+|[0-9]{3}")


def terms(text: str) -> list[str]:
    """Words of ``text`` with CamelCase and snake_case split, so ``RedisOutOfMemory`` meets "memory".

    Compound tokens are kept too (``used_memory`` and ``used``, ``memory``): exact metric names
    then score higher than their parts. Three-digit numbers survive for HTTP statuses (429, 503).
    """
    out: list[str] = []
    for raw in re.findall(r"[A-Za-z0-9_:.-]+", text):
        token = raw.strip("_:.-")
        parts = [w.lower() for piece in re.split(r"[_:.-]+", token) for w in _CAMEL.split(piece)]
        words = [p for p in parts if _WORD.fullmatch(p)]
        if len(words) > 1 and re.fullmatch(r"[a-z0-9_]+", token):
            out.append(token.lower())
        out.extend(words)
    return out


# Column order matters: bm25() weights below follow it.
_COLUMNS = ("title", "tags", "symptoms", "root_causes", "body")
COLUMN_WEIGHTS = (4.0, 4.0, 2.0, 1.0, 0.5)
_WEIGHTS = ", ".join(map(str, COLUMN_WEIGHTS))


def index_row(doc: KnowledgeDocument) -> tuple[str, ...]:
    body = [*doc.diagnosis_steps, *doc.solutions, *doc.prevention, *doc.related_metrics, doc.category]
    fields = (
        doc.title,
        " ".join(doc.tags),
        " ".join(doc.symptoms),
        " ".join(doc.root_causes),
        " ".join(body),
    )
    return tuple(" ".join(terms(f)) for f in fields)


def connect(path: Path) -> sqlite3.Connection:
    """The analyst's SQLite file (knowledge base and archive): one connection, WAL, shared across
    threads behind the caller's lock — calls are millisecond-sized."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    return db


class Documents:
    """Create, replace and seed, shared by the SQLite base here and the Redis one
    (:mod:`alert_webhooks.analysis.redis_knowledge`); a backend supplies ``_get`` and ``_write``
    and guards them with ``_lock``."""

    _lock: threading.Lock
    _clock: Callable[[], datetime]

    def _get(self, doc_id: str) -> KnowledgeDocument | None:
        raise NotImplementedError

    def _write(self, doc: KnowledgeDocument) -> None:
        raise NotImplementedError

    def get(self, doc_id: str) -> KnowledgeDocument | None:
        with self._lock:
            return self._get(doc_id)

    def put(self, data: KnowledgeInput, doc_id: str | None = None) -> KnowledgeDocument:
        """Create or replace; ``created_at`` survives a replace."""
        doc_id = doc_id or data.id or uuid.uuid4().hex[:12]
        now = self._clock()
        with self._lock:
            old = self._get(doc_id)
            doc = KnowledgeDocument(
                **{**data.model_dump(), "id": doc_id},
                created_at=old.created_at if old else now,
                updated_at=now,
            )
            self._write(doc)
        return doc

    def bulk_import(self, docs: Iterable[KnowledgeInput]) -> list[KnowledgeDocument]:
        return [self.put(d) for d in docs]

    def seed(self, docs: Iterable[KnowledgeInput]) -> int:
        """Add shipped runbooks that are not there yet; never overwrite an operator's edit."""
        added = 0
        for d in docs:
            if d.id and self.get(d.id) is None:
                self.put(d)
                added += 1
        return added


class KnowledgeBase(Documents):
    """Documents as JSON rows plus an FTS5 index kept in the same transaction."""

    def __init__(self, path: Path, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._clock = clock
        self._lock = threading.Lock()  # calls come from the event loop thread and the worker alike
        self._db = connect(path)
        self._db.execute("CREATE TABLE IF NOT EXISTS documents (id TEXT PRIMARY KEY, body TEXT NOT NULL)")
        self._db.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS documents_fts USING fts5("
            f"id UNINDEXED, {', '.join(_COLUMNS)}, tokenize='porter unicode61')"
        )

    def close(self) -> None:
        self._db.close()

    def _write(self, doc: KnowledgeDocument) -> None:
        self._db.execute("BEGIN")
        self._db.execute("INSERT OR REPLACE INTO documents VALUES (?, ?)", (doc.id, doc.model_dump_json()))
        self._db.execute("DELETE FROM documents_fts WHERE id = ?", (doc.id,))
        self._db.execute(
            f"INSERT INTO documents_fts (id, {', '.join(_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)",
            (doc.id, *index_row(doc)),
        )
        self._db.execute("COMMIT")

    def _get(self, doc_id: str) -> KnowledgeDocument | None:
        row = self._db.execute("SELECT body FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return KnowledgeDocument.model_validate_json(row[0]) if row else None

    def delete(self, doc_id: str) -> bool:
        with self._lock:
            self._db.execute("BEGIN")
            gone = self._db.execute("DELETE FROM documents WHERE id = ?", (doc_id,)).rowcount
            self._db.execute("DELETE FROM documents_fts WHERE id = ?", (doc_id,))
            self._db.execute("COMMIT")
        return gone > 0

    def documents(
        self, category: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[KnowledgeDocument]:
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM documents WHERE ? IS NULL OR json_extract(body, '$.category') = ?"
                " ORDER BY id LIMIT ? OFFSET ?",
                (category, category, limit, offset),
            ).fetchall()
        return [KnowledgeDocument.model_validate_json(r[0]) for r in rows]

    def search(self, query: str, limit: int = 5, category: str | None = None) -> list[Hit]:
        """BM25 over title, tags, symptoms, root causes and the rest; any query word may match."""
        words = list(dict.fromkeys(terms(query)))[:64]
        if not words:
            return []
        match = " OR ".join(json.dumps(w) for w in words)  # quoted: FTS5 syntax chars are inert
        with self._lock:
            rows = self._db.execute(
                f"SELECT d.body, bm25(documents_fts, 0.0, {_WEIGHTS}) AS rank FROM documents_fts"
                " JOIN documents d ON d.id = documents_fts.id WHERE documents_fts MATCH ?"
                " AND (? IS NULL OR json_extract(d.body, '$.category') = ?) ORDER BY rank LIMIT ?",
                (match, category, category, limit),
            ).fetchall()
        return [Hit(KnowledgeDocument.model_validate_json(body), -rank) for body, rank in rows]

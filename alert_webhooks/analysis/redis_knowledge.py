"""The knowledge base in Redis, so every replica on one Redis (``LLM_SRE_STORE=redis``) reads and
writes the same documents; same methods as the SQLite ``KnowledgeBase`` in ``knowledge.py``.

    kb = RedisKnowledgeBase.from_url("redis://127.0.0.1:6379/0")
    kb.seed(load_runbooks())
    kb.search("redis OOM command not allowed used_memory")

Search does not use RediSearch: Debian's redis-server ships without it, and one index that works on
every Redis is simpler to run than two. It is an inverted index of our own, bounded so a query costs
the same at 10,000 documents as at 100 (bench/knowledge_search.py measures it):

* documents are tokenised as FTS5's ``porter unicode61`` tokenizer does (split on anything but
  letters and digits, lower-cased, Porter-stemmed by ``snowballstemmer``), so both backends match
  the same words;
* ``kb:post:<term>`` is a sorted set of the documents holding the term, scored by its frequency
  weighted per field with the SQLite base's FTS5 column weights (title and tags count most), then
  by shortness: the score packs both (:func:`_posting`), so a query needs no other read per
  document than the ones it returns;
* a query reads at most :data:`POSTINGS` documents per term (those where the term weighs most) for
  at most 64 terms, and ranks the candidates with FTS5's BM25 (same constants, same idf, same
  unweighted document length). A term found in more documents than that ranks only its best ones,
  which are the ones BM25 would put first anyway.
"""

from __future__ import annotations

import functools
import math
import re
import threading
from collections import Counter

import redis
import snowballstemmer
from redis.client import Pipeline

from alert_webhooks.analysis.knowledge import (
    COLUMN_WEIGHTS,
    Documents,
    Hit,
    KnowledgeDocument,
    index_row,
    terms,
)
from alert_webhooks.analysis.redis_records import RedisRecords

K1, B = 1.2, 0.75  # FTS5's bm25() constants
POSTINGS = 300  # documents read per query term
_LENGTH_SPAN = 1_000_000  # document lengths (tokens) packed below the frequency in a posting's score
MAX_TERMS = 64  # as the SQLite base
PAGE = 50  # documents fetched at a time when a category filter skips some
_PORTER = snowballstemmer.stemmer("porter")  # the algorithm of FTS5's porter tokenizer
_SEPARATORS = re.compile(r"[\W_]+")


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """Cached: snowballstemmer is pure Python, and a knowledge base repeats its words a lot."""
    return _PORTER.stemWord(word)


def tokens(text: str) -> list[str]:
    return [_stem(t) for t in _SEPARATORS.split(text.lower()) if t]


def _posting(weight: float, length: int) -> float:
    """Frequency (a multiple of 0.5: the column weights) first, shorter documents first among
    equals — the order BM25 prefers; exact in a double for any real document."""
    return round(weight * 2) * _LENGTH_SPAN + (_LENGTH_SPAN - 1 - min(length, _LENGTH_SPAN - 1))


def _unpack(score: float) -> tuple[float, int]:
    doubled, rest = divmod(int(score), _LENGTH_SPAN)
    return doubled / 2, _LENGTH_SPAN - 1 - rest


def _weights(doc: KnowledgeDocument) -> tuple[Counter[str], int]:
    """Field-weighted frequency of each token, and the document's length in tokens (unweighted,
    as FTS5 counts it)."""
    counts: Counter[str] = Counter()
    length = 0
    for text, weight in zip(index_row(doc), COLUMN_WEIGHTS, strict=True):
        found = tokens(text)
        length += len(found)
        for token in found:
            counts[token] += weight
    return counts, length


class RedisKnowledgeBase(RedisRecords, Documents):
    PREFIX = "llm-sre:kb"

    def __init__(self, client: redis.Redis, prefix: str | None = None) -> None:
        super().__init__(client, prefix)
        self._lock = threading.Lock()  # this process's writers; other replicas are fenced by WATCH

    def _get(self, doc_id: str) -> KnowledgeDocument | None:
        raw = self._r.get(self._k(f"doc:{doc_id}"))
        return KnowledgeDocument.model_validate_json(raw) if raw else None

    def _unindex(self, pipe: Pipeline, old: KnowledgeDocument) -> None:
        weights, length = _weights(old)
        for term in weights:
            pipe.zrem(self._k(f"post:{term}"), old.id)
        pipe.incrby(self._k("total_length"), -length)
        pipe.zrem(self._k("ids"), old.id)
        pipe.zrem(self._k(f"category:{old.category}"), old.id)

    def _replace(self, doc_id: str, doc: KnowledgeDocument | None) -> bool:
        """Swap the stored document and its postings in one MULTI, retried if another replica
        wrote the same document meanwhile (WATCH); returns whether there was one before."""
        key = self._k(f"doc:{doc_id}")

        def swap(pipe: Pipeline) -> bool:
            raw = pipe.get(key)
            old = KnowledgeDocument.model_validate_json(raw) if raw else None
            pipe.multi()
            if old is not None:
                self._unindex(pipe, old)
                pipe.delete(key)
            if doc is not None:
                weights, length = _weights(doc)
                for term, weight in weights.items():
                    pipe.zadd(self._k(f"post:{term}"), {doc.id: _posting(weight, length)})
                pipe.incrby(self._k("total_length"), length)
                pipe.zadd(self._k("ids"), {doc.id: 0})  # equal scores: ZRANGE orders by id
                pipe.zadd(self._k(f"category:{doc.category}"), {doc.id: 0})
                pipe.set(key, doc.model_dump_json())
            return old is not None

        return bool(self._r.transaction(swap, key, value_from_callable=True))

    def _write(self, doc: KnowledgeDocument) -> None:
        self._replace(doc.id, doc)

    def delete(self, doc_id: str) -> bool:
        with self._lock:
            return self._replace(doc_id, None)

    def _load(self, ids: list[str]) -> list[KnowledgeDocument]:
        raws = self._r.mget([self._k(f"doc:{i}") for i in ids]) if ids else []
        return [KnowledgeDocument.model_validate_json(r) for r in raws if r]

    def documents(
        self, category: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[KnowledgeDocument]:
        index = self._k(f"category:{category}") if category else self._k("ids")
        return self._load([i.decode() for i in self._r.zrange(index, offset, offset + limit - 1)])

    def search(self, query: str, limit: int = 5, category: str | None = None) -> list[Hit]:
        """BM25 over the bounded postings of each query word; any query word may match."""
        words = list(dict.fromkeys(t for term in terms(query) for t in tokens(term)))[:MAX_TERMS]
        if not words:
            return []
        pipe = self._r.pipeline(transaction=False)
        pipe.zcard(self._k("ids"))
        pipe.get(self._k("total_length"))
        for word in words:
            pipe.zrevrange(self._k(f"post:{word}"), 0, POSTINGS - 1, withscores=True)
            pipe.zcard(self._k(f"post:{word}"))
        count, total, *found = pipe.execute()
        if not count:
            return []
        average = max(float(total or 0) / count, 1e-9)
        scores: dict[str, float] = {}
        for postings, holders in zip(found[::2], found[1::2], strict=True):
            idf = max(math.log((count - holders + 0.5) / (holders + 0.5)), 1e-6)  # as FTS5 clamps it
            for member, packed in postings:
                tf, length = _unpack(packed)
                gain = idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / average))
                scores[member.decode()] = scores.get(member.decode(), 0.0) + gain
        ranked = sorted(scores, key=lambda i: (-scores[i], i))
        hits: list[Hit] = []
        for start in range(0, len(ranked), PAGE):
            for doc in self._load(ranked[start : start + PAGE]):
                if category is None or doc.category == category:
                    hits.append(Hit(doc, scores[doc.id]))
            if len(hits) >= limit:
                break
        return hits[:limit]

"""Failure concepts: the vocabulary of common causes, so the local vectoriser can see meaning.

TF-IDF only matches words that are spelt alike; ``FATAL: too many clients already`` and
``QueuePool limit of size 5 overflow 10 reached`` share none, yet both mean "the database ran out
of connections". An embedding model knows that; a bag of words needs to be told. Each concept is
a cause family with the phrasings that real servers, drivers and runtimes use for it (PostgreSQL,
MySQL, SQLAlchemy, HikariCP, pgbouncer, Redis, Go/Java/Python/Node runtimes, nginx, CUDA …). A
matched concept adds one strong feature, so events of one cause meet even when their words do not.

This list is domain knowledge, not a model of any test set: it names causes, not messages, and an
event that matches no concept still clusters on its words and character n-grams.
"""

from __future__ import annotations

import re

CONCEPTS: dict[str, tuple[str, ...]] = {
    "db_connections_exhausted": (
        r"pool (?:is )?(?:exhausted|full|empty|depleted|starv)",
        r"too many (?:clients|connections)",
        r"queuepool limit",
        r"(?:acquir|obtain|get|checkout|check out|borrow)\w* (?:a |db |database )?"
        r"connection",
        r"connection (?:slots?|limit)",
        r"max_?connections",
        r"remaining connection slots",
        r"no (?:free|available|idle) connections?",
        r"connection pool",
        r"hikari",
        r"pool_?size",
        r"overflow \S+ reached",
        r"waiting for (?:a )?(?:free )?connection",
        r"connections? (?:are )?in use",
        r"sorry, too many",
        r"max_client_conn",
        r"pool timeout",
    ),
    "upstream_timeout": (
        r"timed? ?out",
        r"deadline exceeded",
        r"\btimeout\b",
        r"\b504\b",
        r"gateway time-?out",
        r"took too long",
        r"no response (?:within|after)",
        r"read timeout",
        r"upstream.*slow",
    ),
    "connection_refused": (
        r"connection refused",
        r"econnrefused",
        r"no route to host",
        r"connection reset",
        r"econnreset",
        r"broken pipe",
        r"\b502\b",
        r"bad gateway",
        r"host unreachable",
        r"failed to connect",
        r"could not connect",
        r"unable to connect",
        r"connect: connection",
        r"peer closed",
        r"service unavailable",
        r"\b503\b",
        r"upstream (?:prematurely )?closed",
    ),
    "memory_exhausted": (
        r"out of memory",
        r"\boom\b",
        r"oom-?kill",
        r"cannot allocate memory",
        r"memoryerror",
        r"killed process",
        r"heap space",
        r"heap out of memory",
        r"memory limit",
        r"allocation failed",
        r"enomem",
        r"exceeds? memory",
        r"used_memory",
        r"maxmemory",
    ),
    "gpu_memory": (
        r"cuda",
        r"\bvram\b",
        r"\bgpu\b",
        r"cublas",
        r"device memory",
        r"nvidia",
        r"ggml.*alloc",
    ),
    "disk_full": (
        r"no space left",
        r"enospc",
        r"disk (?:is )?full",
        r"disk quota",
        r"filesystem (?:is )?full",
        r"volume (?:is )?full",
        r"insufficient (?:disk|storage)",
        r"out of disk",
        r"write failed",
        r"could not extend file",
        r"disk usage",
    ),
    "dns_resolution": (
        r"name resolution",
        r"resolv",
        r"nxdomain",
        r"getaddrinfo",
        r"name or service not known",
        r"no such host",
        r"unknown host",
        r"lookup \S+ on",
        r"dns",
        r"eai_again",
        r"nodename nor servname",
    ),
    "tls_certificate": (
        r"certificate",
        r"\bx509\b",
        r"\bssl\b",
        r"\btls\b",
        r"handshake",
        r"cert(?:ificate)? (?:has )?expired",
        r"self[- ]signed",
        r"unknown authority",
        r"pkix",
    ),
    "rate_limited": (
        r"\b429\b",
        r"rate[- ]?limit",
        r"too many requests",
        r"throttl",
        r"quota exceeded",
        r"requests per (?:minute|second)",
        r"slow down",
        r"back ?off",
    ),
    "auth_rejected": (
        r"\b401\b",
        r"\b403\b",
        r"unauthori[sz]ed",
        r"forbidden",
        r"invalid (?:api )?(?:token|key|credentials)",
        r"permission denied",
        r"authentication failed",
        r"access denied",
        r"expired token",
        r"not authorized",
        r"signature (?:is )?invalid",
        r"jwt",
    ),
    "lock_contention": (
        r"deadlock",
        r"lock wait",
        r"could not obtain lock",
        r"serializ(?:ation|able) failure",
        r"lock timeout",
        r"locked by another",
        r"concurrent update",
        r"row lock",
        r"lock contention",
    ),
    "model_missing": (
        r"model \S* ?not found",
        r"no such model",
        r"pull (?:the )?model",
        r"unknown model",
        r"model (?:does not|doesn't) exist",
        r"failed to load model",
        r"model file",
        r"gguf",
    ),
    "context_overflow": (
        r"context (?:length|window|size)",
        r"maximum context",
        r"too many tokens",
        r"prompt (?:is )?too long",
        r"token limit",
        r"exceeds? (?:the )?(?:max(?:imum)? )?(?:context|tokens?)",
        r"num_ctx",
        r"truncat",
    ),
    "vector_store": (
        r"chroma",
        r"collection",
        r"vector (?:store|index|db)",
        r"embedding dimension",
        r"dimensionality",
        r"faiss",
        r"qdrant",
        r"index not found",
        r"hnsw",
        r"pgvector",
    ),
    "bad_payload": (
        r"json",
        r"decode",
        r"parse error",
        r"unexpected (?:token|character|end)",
        r"malformed",
        r"invalid (?:payload|body|request body|format)",
        r"schema validation",
        r"unmarshal",
        r"deseriali",
    ),
    "replication": (
        r"replica",
        r"replication",
        r"master_link",
        r"primary (?:is )?(?:down|unreachable)",
        r"failover",
        r"read-?only",
        r"standby",
        r"wal (?:sender|receiver)",
        r"lag(?:ging)? behind",
    ),
    "crash_restart": (
        r"segmentation fault",
        r"sigsegv",
        r"core dumped",
        r"panic",
        r"exited with code",
        r"restarting (?:container|pod|process|service|worker)",
        r"crashloop",
        r"back-?off restarting",
        r"fatal signal",
        r"sigkill",
        r"exit code 137",
    ),
}

# A narrower concept that matches makes its broader one redundant: "timeout acquiring a pool
# connection" is a pool problem, "CUDA out of memory" a GPU problem, not host memory.
NARROWER = {
    "db_connections_exhausted": "upstream_timeout",
    "gpu_memory": "memory_exhausted",
    "lock_contention": "upstream_timeout",
}

_COMPILED = {name: re.compile("|".join(f"(?:{p})" for p in pats), re.I) for name, pats in CONCEPTS.items()}


def concepts(text: str) -> list[str]:
    """The cause families ``text`` mentions (several may match; all are kept)."""
    found = [name for name, rx in _COMPILED.items() if rx.search(text)]
    return [name for name in found if not any(NARROWER.get(other) == name for other in found)]

# ruff: noqa: E501 - template tables read best one template per line
"""Labelled log corpora with known templates, for grouping-accuracy measurements.

``mixed`` imitates what this stack's log exporter reads: Python apps (text and JSON records),
Ollama's slog and GIN lines, Redis, nginx and uvicorn access logs, kernel OOM lines and
tracebacks. ``LOGHUB_STYLE`` imitates four loghub datasets (HDFS, OpenSSH, Apache, Zookeeper)
with templates taken from their published template lists. The ground truth is the *logging
statement*: every line one statement printed is one group, whatever its arguments (so all GIN
access lines are one template, as in GIN's source).

Seeded and generated in process; no data files. Used by ``bench/patterns.py`` and the tests.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

Gen = Callable[[random.Random], str]
_BASE = datetime(2026, 11, 26, 23, 0, tzinfo=UTC)
_WORDS = ("alpha", "beta", "gamma", "policies", "handbook", "pricing", "faq", "onboarding", "security")
_USERS = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi")
_MODELS = ("qwen2.5:7b", "llama3.1:8b", "mistral:7b", "nomic-embed-text", "gemma2:9b")
_PROCS = ("ollama", "python3", "uvicorn", "redis-server", "llama-server")
_ROUTES = ("/v1/chat", "/v1/search", "/v1/documents/{n}", "/health", "/metrics", "/api/chat")


def _when(r: random.Random) -> datetime:
    return _BASE + timedelta(seconds=r.uniform(0, 86_400))


def _hex(r: random.Random, n: int) -> str:
    return "".join(r.choice("0123456789abcdef") for _ in range(n))


def _ip(r: random.Random) -> str:
    return f"{r.choice(('10', '172', '192'))}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"


def _uuid(r: random.Random) -> str:
    h = _hex(r, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _route(r: random.Random) -> str:
    return r.choice(_ROUTES).format(n=r.randint(1, 99_999))


def _py(level: str, logger: str, msg: Gen) -> Gen:
    return lambda r: f"{_when(r):%Y-%m-%d %H:%M:%S},{r.randint(0, 999):03d} {level} {logger}: {msg(r)}"


def _json(level: str, msg: Gen, **extra: Gen) -> Gen:
    def gen(r: random.Random) -> str:
        record = {"ts": _when(r).isoformat(timespec="milliseconds"), "level": level, "logger": "rag.api",
                  "message": msg(r), "service": "rag-api", "trace_id": _hex(r, 32)}
        record.update({k: g(r) for k, g in extra.items()})
        return json.dumps(record)
    return gen


def _slog(level: str, source: str, rest: Gen) -> Gen:
    return lambda r: f"time={_when(r):%Y-%m-%dT%H:%M:%S}.{r.randint(0, 999):03d}Z level={level} source={source} {rest(r)}"


def _redis(role: str, sym: str, msg: Gen) -> Gen:
    return lambda r: f"{r.randint(1, 99)}:{role} {_when(r):%d %b %Y %H:%M:%S}.{r.randint(0, 999):03d} {sym} {msg(r)}"


def _kernel(msg: Gen) -> Gen:
    return lambda r: f"[{r.uniform(1, 99_999):12.6f}] {msg(r)}"


def _gin(r: random.Random) -> str:
    status = r.choice((200, 200, 200, 400, 404, 500))
    method, path = r.choice((("POST", "/api/chat"), ("POST", "/api/generate"), ("GET", "/api/tags"),
                             ("POST", "/api/embed"), ("GET", "/api/ps")))
    return (f"[GIN] {_when(r):%Y/%m/%d - %H:%M:%S} | {status} | {r.uniform(0.001, 30):12.6f}s | "
            f"{_ip(r):>15} | {method:<7} \"{path}\"")


def _nginx(r: random.Random) -> str:
    status = r.choice((200, 200, 200, 301, 404, 502))
    return (f'{_ip(r)} - - [{_when(r):%d/%b/%Y:%H:%M:%S} +0000] "{r.choice(("GET", "POST"))} {_route(r)} '
            f'HTTP/1.1" {status} {r.randint(0, 99_999)} "-" "{r.choice(("Prometheus/2.42.0", "curl/8.5.0", "python-httpx/0.28.1"))}"')


def _uvicorn(r: random.Random) -> str:
    status = r.choice(("200 OK", "200 OK", "201 Created", "404 Not Found", "500 Internal Server Error"))
    return f'INFO:     {_ip(r)}:{r.randint(1024, 65535)} - "{r.choice(("GET", "POST"))} {_route(r)} HTTP/1.1" {status}'


def _n(lo: int, hi: int) -> Gen:
    return lambda r: str(r.randint(lo, hi))


# (template id, relative frequency, generator)
MIXED: tuple[tuple[str, int, Gen], ...] = (
    ("py.retrieval", 60, _py("INFO", "rag.api", lambda r: f"retrieval done in {r.randint(3, 900)}ms docs={r.randint(0, 20)} top_score={r.random():.3f}")),
    ("py.chat", 50, _py("INFO", "rag.api", lambda r: f"POST {_route(r)} completed status=200 duration={r.uniform(0.1, 30):.3f}s tokens_in={r.randint(10, 8000)} tokens_out={r.randint(1, 2000)}")),
    ("py.rerank_skip", 8, _py("WARNING", "rag.retriever", lambda r: f"rerank skipped: only {r.randint(0, 2)} documents")),
    ("py.upstream_fail", 5, _py("ERROR", "rag.api", lambda r: f"upstream ollama call failed after {r.randint(1, 5)} retries: {r.choice(('ReadTimeout', 'ConnectError', 'RemoteProtocolError'))}")),
    ("py.cache_miss", 30, _py("INFO", "rag.cache", lambda r: f"cache miss key={_hex(r, 32)}")),
    ("py.cache_hit", 40, _py("INFO", "rag.cache", lambda r: f"cache hit key={_hex(r, 32)} age={r.randint(0, 3600)}s")),
    ("py.req_502", 4, _py("ERROR", "rag.api", lambda r: f"request {_uuid(r)} failed with 502 from http://ollama:11434/api/{r.choice(('chat', 'generate'))}")),
    ("py.indexed", 6, _py("INFO", "rag.ingest", lambda r: f"indexed {r.randint(1, 500)} chunks from /data/docs/{r.choice(_WORDS)}/{r.choice(_WORDS)}.pdf in {r.uniform(0.1, 9):.2f}s")),
    ("py.slow", 7, _py("WARNING", "rag.api", lambda r: f"slow request {_uuid(r)} took {r.randint(2000, 60000)}ms on route {_route(r)}")),
    ("py.httpx", 45, _py("INFO", "httpx", lambda r: f'HTTP Request: POST http://ollama:11434/api/{r.choice(("embed", "chat"))} "HTTP/1.1 200 OK"')),
    ("py.session", 10, _py("INFO", "rag.worker", lambda r: f"user {r.choice(_USERS)} started session {_uuid(r)}")),
    ("py.db_refused", 3, _py("ERROR", "rag.db", lambda r: f"connection to {_ip(r)}:{r.choice((5432, 6379, 6333))} refused")),
    ("json.llm_fail", 6, _json("error", lambda r: f"LLM call failed: model {r.choice(_MODELS)} returned HTTP {r.choice((500, 502, 503))}", route=_route, error_code=lambda r: r.choice(("E_UPSTREAM", "E_TIMEOUT")))),
    ("json.embed", 25, _json("info", lambda r: f"embedding batch of {r.randint(1, 256)} texts in {r.randint(5, 2000)}ms")),
    ("json.retrieved", 25, _json("info", lambda r: f"retrieved {r.randint(0, 20)} documents for query_id={_hex(r, 16)}")),
    ("slog.runner_started", 4, _slog("INFO", "server.go:605", lambda r: f'msg="llama runner started in {r.uniform(0.5, 40):.2f} seconds"')),
    ("slog.loaded_runners", 6, _slog("INFO", "sched.go:449", lambda r: f'msg="loaded runners" count={r.randint(0, 4)}')),
    ("slog.too_large", 2, _slog("WARN", "server.go:136", lambda r: f'msg="model request too large for system" requested="{r.uniform(4, 40):.1f} GiB" available={r.randint(10**9, 10**11)} total="{r.uniform(8, 64):.1f} GiB"')),
    ("slog.starting", 4, _slog("INFO", "server.go:378", lambda r: f'msg="starting llama server" cmd="/usr/bin/ollama runner --model /root/.ollama/models/blobs/sha256-{_hex(r, 64)} --ctx-size {r.choice((2048, 4096, 8192))} --port {r.randint(30000, 60000)}"')),
    ("gin.access", 60, _gin),
    ("redis.bgsave", 3, _redis("M", "*", lambda r: f"Background saving started by pid {r.randint(100, 99999)}")),
    ("redis.saved", 3, _redis("C", "*", lambda r: "DB saved on disk")),
    ("redis.overcommit", 1, _redis("M", "#", lambda r: "WARNING Memory overcommit must be enabled! Without it, a background save or replication may fail under low memory condition.")),
    ("redis.changes", 3, _redis("M", "*", lambda r: f"{r.randint(1, 10000)} changes in {r.choice((60, 300, 900))} seconds. Saving...")),
    ("nginx.access", 50, _nginx),
    ("uvicorn.access", 50, _uvicorn),
    ("kernel.oom_killed", 2, _kernel(lambda r: f"Out of memory: Killed process {r.randint(100, 99999)} ({r.choice(_PROCS)}) total-vm:{r.randint(10**5, 10**8)}kB, anon-rss:{r.randint(10**5, 10**8)}kB, file-rss:{r.randint(0, 10**5)}kB, shmem-rss:0kB, UID:0 pgtables:{r.randint(100, 99999)}kB oom_score_adj:0")),
    ("kernel.oom_invoked", 2, _kernel(lambda r: f"{r.choice(_PROCS)} invoked oom-killer: gfp_mask=0x{_hex(r, 6)}(GFP_KERNEL), order=0, oom_score_adj=0")),
    ("kernel.memcg", 2, _kernel(lambda r: f"oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/docker/{_hex(r, 64)},task_memcg=/docker/{_hex(r, 64)},task={r.choice(_PROCS)},pid={r.randint(100, 99999)},uid=0")),
    ("tb.head", 3, lambda r: "Traceback (most recent call last):"),
    ("tb.file", 9, lambda r: f'  File "/app/rag/{r.choice(("api", "retriever", "llm", "cache"))}.py", line {r.randint(1, 900)}, in {r.choice(("chat", "search", "complete", "_post", "get"))}'),
    ("tb.error", 3, lambda r: f"httpx.ReadTimeout: timed out after {r.randint(5, 120)}s"),
)


def _hdfs(msg: Gen) -> Gen:
    return lambda r: f"{r.randint(81109, 81111):06d} {r.randint(0, 235959):06d} {r.randint(1, 5000)} INFO {msg(r)}"


def _blk(r: random.Random) -> str:
    return f"blk_{r.choice(('', '-'))}{r.randint(10**17, 10**19)}"


def _ssh(msg: Gen) -> Gen:
    return lambda r: f"Dec {r.randint(10, 31)} {r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d} LabSZ sshd[{r.randint(1000, 30000)}]: {msg(r)}"


def _apache(level: str, msg: Gen) -> Gen:
    return lambda r: f"[{_when(r):%a %b %d %H:%M:%S %Y}] [{level}] {msg(r)}"


def _zk(level: str, where: str, msg: Gen) -> Gen:
    return lambda r: f"{_when(r):%Y-%m-%d %H:%M:%S},{r.randint(0, 999):03d} - {level}  [{where}] - {msg(r)}"


LOGHUB_STYLE: dict[str, tuple[tuple[str, int, Gen], ...]] = {
    "HDFS": (
        ("h1", 30, _hdfs(lambda r: f"dfs.DataNode$PacketResponder: PacketResponder {r.randint(0, 2)} for block {_blk(r)} terminating")),
        ("h2", 30, _hdfs(lambda r: f"dfs.DataNode$PacketResponder: Received block {_blk(r)} of size {r.randint(10**5, 10**8)} from /{_ip(r)}")),
        ("h3", 25, _hdfs(lambda r: f"dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock: blockMap updated: {_ip(r)}:50010 is added to {_blk(r)} size {r.randint(10**5, 10**8)}")),
        ("h4", 20, _hdfs(lambda r: f"dfs.DataNode$DataXceiver: Receiving block {_blk(r)} src: /{_ip(r)}:{r.randint(30000, 60000)} dest: /{_ip(r)}:50010")),
        ("h5", 10, _hdfs(lambda r: f"dfs.FSNamesystem: BLOCK* NameSystem.allocateBlock: /user/root/rand/_temporary/_task_{r.randint(10**11, 10**12)}_0001_m_{r.randint(0, 999):06d}_0/part-{r.randint(0, 999):05d}. {_blk(r)}")),
        ("h6", 5, _hdfs(lambda r: f"dfs.DataNode$DataXceiver: {_ip(r)}:50010 Served block {_blk(r)} to /{_ip(r)}")),
        ("h7", 3, _hdfs(lambda r: f"dfs.FSDataset: Deleting block {_blk(r)} file /mnt/hadoop/dfs/data/current/subdir{r.randint(0, 63)}/{_blk(r)}")),
        ("h8", 2, _hdfs(lambda r: f"dfs.DataBlockScanner: Verification succeeded for {_blk(r)}")),
    ),
    "OpenSSH": (
        ("s1", 30, _ssh(lambda r: f"Failed password for invalid user {r.choice(_USERS)} from {_ip(r)} port {r.randint(1024, 65535)} ssh2")),
        ("s2", 30, _ssh(lambda r: f"Failed password for root from {_ip(r)} port {r.randint(1024, 65535)} ssh2")),
        ("s3", 20, _ssh(lambda r: f"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={_ip(r)}  user=root")),
        ("s4", 15, _ssh(lambda r: f"Received disconnect from {_ip(r)}: 11: Bye Bye [preauth]")),
        ("s5", 12, _ssh(lambda r: f"Invalid user {r.choice(_USERS)} from {_ip(r)}")),
        ("s6", 10, _ssh(lambda r: f"input_userauth_request: invalid user {r.choice(_USERS)} [preauth]")),
        ("s7", 8, _ssh(lambda r: f"Connection closed by {_ip(r)} [preauth]")),
        ("s8", 6, _ssh(lambda r: f"reverse mapping checking getaddrinfo for {r.choice(_WORDS)}.example.net [{_ip(r)}] failed - POSSIBLE BREAK-IN ATTEMPT!")),
        ("s9", 5, _ssh(lambda r: f"PAM {r.randint(2, 5)} more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost={_ip(r)}  user=root")),
        ("s10", 4, _ssh(lambda r: f"error: Received disconnect from {_ip(r)}: 3: com.jcraft.jsch.JSchException: Auth fail [preauth]")),
    ),
    "Apache": (
        ("a1", 30, _apache("notice", lambda r: f"jk2_init() Found child {r.randint(1000, 30000)} in scoreboard slot {r.randint(0, 10)}")),
        ("a2", 30, _apache("notice", lambda r: "workerEnv.init() ok /etc/httpd/conf/workers2.properties")),
        ("a3", 20, _apache("error", lambda r: f"mod_jk child workerEnv in error state {r.randint(5, 9)}")),
        ("a4", 10, _apache("error", lambda r: f"[client {_ip(r)}] Directory index forbidden by rule: /var/www/html/")),
        ("a5", 5, _apache("error", lambda r: f"jk2_init() Can't find child {r.randint(1000, 30000)} in scoreboard")),
        ("a6", 5, _apache("error", lambda r: f"mod_jk child init {r.randint(1, 2)} -{r.randint(1, 2)}")),
    ),
    "Zookeeper": (
        ("z1", 30, _zk("INFO", "NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxnFactory@197", lambda r: f"Accepted socket connection from /{_ip(r)}:{r.randint(30000, 60000)}")),
        ("z2", 30, _zk("INFO", "NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxn@1001", lambda r: f"Closed socket connection for client /{_ip(r)}:{r.randint(30000, 60000)} which had sessionid 0x{_hex(r, 14)}")),
        ("z3", 15, _zk("WARN", f"SendWorker:{188978561024}:QuorumCnxManager$SendWorker@688", lambda r: "Send worker leaving thread")),
        ("z4", 15, _zk("INFO", "CommitProcessor:1:ZooKeeperServer@595", lambda r: f"Established session 0x{_hex(r, 14)} with negotiated timeout {r.choice((10000, 20000, 40000))} for client /{_ip(r)}:{r.randint(30000, 60000)}")),
        ("z5", 10, _zk("WARN", "RecvWorker:188978561024:QuorumCnxManager$RecvWorker@765", lambda r: "Interrupting SendWorker")),
        ("z6", 8, _zk("ERROR", "CommitProcessor:2:NIOServerCnxn@180", lambda r: "Unexpected Exception: java.nio.channels.CancelledKeyException")),
        ("z7", 5, _zk("INFO", "ProcessThread(sid:3 cport:-1)::PrepRequestProcessor@476", lambda r: f"Processed session termination for sessionid: 0x{_hex(r, 14)}")),
    ),
}


def generate(templates: tuple[tuple[str, int, Gen], ...], count: int, seed: int = 4) -> Iterator[tuple[str, str]]:
    """``count`` (template id, line) pairs drawn by relative frequency."""
    r = random.Random(seed)
    ids = [t[0] for t in templates]
    weights = [t[1] for t in templates]
    gens = {t[0]: t[2] for t in templates}
    for template_id in r.choices(ids, weights, k=count):
        yield template_id, gens[template_id](r)


def grouping_accuracy(truth: list[str], predicted: list[str]) -> float:
    """Loghub's GA: a line is right when its predicted group holds exactly its true group's lines."""
    by_truth: dict[str, set[int]] = {}
    by_pred: dict[str, set[int]] = {}
    for i, (t, p) in enumerate(zip(truth, predicted, strict=True)):
        by_truth.setdefault(t, set()).add(i)
        by_pred.setdefault(p, set()).add(i)
    correct = sum(len(lines) for lines in by_pred.values() if lines == by_truth[truth[next(iter(lines))]])
    return correct / len(truth)


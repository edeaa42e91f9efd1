"""A local stand-in for Loki's push endpoint, speaking its wire format and its refusals.

``POST /loki/api/v1/push`` takes what Loki takes:

* JSON (``Content-Type: application/json``, optionally ``Content-Encoding: gzip``)::

    {"streams": [{"stream": {"label": "value"}, "values": [["<ns>", "<line>", {<metadata>}]]}]}

* protobuf (``Content-Type: application/x-protobuf``), a snappy block-compressed
  ``logproto.PushRequest`` (``pkg/push/push.proto``: streams{labels, entries{timestamp, line,
  structuredMetadata}}), the format Promtail and Alloy send.

It answers like Loki: 204 on success; 400 ``loghttp``-style text for a malformed body; per-entry
validation like the distributor (``Max entry size '%d' bytes exceeded …`` for lines over
``max_line_size``, ``… has timestamp too old …`` before ``reject_before_ns``) and the ingester
(``entry too far behind …`` outside the unordered-writes window, or ``entry out of order`` with
``unordered_writes=False``), where the valid entries of the push are kept and the request still
answers 400; 429 with Loki's rate-limit text past ``rate_limit_bytes``; exact duplicates
(stream, timestamp, line) are accepted and dropped, as Loki does. ``GET /ready`` answers 200.

Tests also script it: queued responses (``429`` with ``Retry-After``, ``500``), a gate that holds
requests (a slow or hung Loki), and ``stop``/``start`` on the same port (Loki down, then back).
"""

from __future__ import annotations

import collections
import gzip
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import cramjam
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, timestamp_pb2

PUSH_PATH = "/loki/api/v1/push"
READY_PATH = "/ready"
Row = tuple[dict[str, str], str, str, dict[str, str]]
_PAIR = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"')


class PushRejected(ValueError):
    pass


def _push_request_class() -> type:
    """logproto.PushRequest built from its descriptor (fields and numbers as in Loki's push.proto)."""
    proto = descriptor_pb2.FileDescriptorProto(
        name="loki_push_fake.proto", package="logproto", syntax="proto3",
        dependency=["google/protobuf/timestamp.proto"])
    F = descriptor_pb2.FieldDescriptorProto
    opt, rep = F.LABEL_OPTIONAL, F.LABEL_REPEATED

    def message(name: str, *fields: tuple[str, int, int, int, str]) -> None:
        msg = proto.message_type.add(name=name)
        for fname, number, label, ftype, type_name in fields:
            added = msg.field.add(name=fname, number=number, label=label, type=ftype)
            if type_name:
                added.type_name = type_name

    message("LabelPairAdapter", ("name", 1, opt, F.TYPE_STRING, ""), ("value", 2, opt, F.TYPE_STRING, ""))
    message("EntryAdapter", ("timestamp", 1, opt, F.TYPE_MESSAGE, ".google.protobuf.Timestamp"),
            ("line", 2, opt, F.TYPE_STRING, ""),
            ("structuredMetadata", 3, rep, F.TYPE_MESSAGE, ".logproto.LabelPairAdapter"))
    message("StreamAdapter", ("labels", 1, opt, F.TYPE_STRING, ""),
            ("entries", 2, rep, F.TYPE_MESSAGE, ".logproto.EntryAdapter"),
            ("hash", 3, opt, F.TYPE_UINT64, ""))
    message("PushRequest", ("streams", 1, rep, F.TYPE_MESSAGE, ".logproto.StreamAdapter"))
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(timestamp_pb2.DESCRIPTOR.serialized_pb)
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("logproto.PushRequest"))


PushRequest = _push_request_class()


def parse_labels(text: str) -> dict[str, str]:
    """``{a="b", c="d"}`` (Prometheus label syntax, as in StreamAdapter.labels) → dict."""
    text = text.strip()
    pairs = _PAIR.findall(text)
    if not (text.startswith("{") and text.endswith("}")) or _PAIR.sub("", text[1:-1]).strip(" ,"):
        raise PushRejected(f"Error parsing labels '{text}' with error: not a label set")
    return {name: json.loads(f'"{value}"') for name, value in pairs}


def format_labels(labels: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(labels.items())) + "}"


def encode_protobuf(rows: list[Row]) -> bytes:
    """A snappy-compressed PushRequest for ``rows`` (what a protobuf client sends)."""
    request = PushRequest()
    for labels, ns, line, metadata in rows:
        stream = request.streams.add(labels=format_labels(labels))
        entry = stream.entries.add(line=line)
        entry.timestamp.seconds, entry.timestamp.nanos = divmod(int(ns), 1_000_000_000)
        for name, value in metadata.items():
            entry.structuredMetadata.add(name=name, value=value)
    return bytes(cramjam.snappy.compress_raw(request.SerializeToString()))


def decode_protobuf(body: bytes) -> list[Row]:
    try:
        request = PushRequest.FromString(bytes(cramjam.snappy.decompress_raw(body)))
    except Exception as exc:
        raise PushRejected(f"failed to parse protobuf push: {type(exc).__name__}") from None
    rows = []
    for stream in request.streams:
        labels = parse_labels(stream.labels)
        for entry in stream.entries:
            ns = str(entry.timestamp.seconds * 1_000_000_000 + entry.timestamp.nanos)
            rows.append((labels, ns, entry.line, {p.name: p.value for p in entry.structuredMetadata}))
    return rows


def validate_push(payload: Any) -> list[Row]:
    """Check a JSON push body the way Loki's decoder does; return (labels, ns, line, metadata) rows."""
    if not isinstance(payload, dict) or not isinstance(payload.get("streams"), list):
        raise PushRejected("body must be an object with a 'streams' array")
    rows = []
    for stream in payload["streams"]:
        labels = stream.get("stream") if isinstance(stream, dict) else None
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            raise PushRejected("stream labels must be an object of strings")
        if not labels:
            raise PushRejected("error at least one label pair is required per stream")
        for value in stream.get("values", []):
            if not isinstance(value, list) or len(value) not in (2, 3):
                raise PushRejected("each value is [ts, line] or [ts, line, metadata]")
            ns, line = value[0], value[1]
            if not (isinstance(ns, str) and ns.isdigit()) or not isinstance(line, str):
                raise PushRejected("timestamp must be a string of nanoseconds and line a string")
            metadata = value[2] if len(value) == 3 else {}
            if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
                raise PushRejected("structured metadata must be an object of strings")
            rows.append((labels, ns, line, metadata))
    return rows


def _ts(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S.%f +0000 UTC")


@dataclass
class Request:
    at: float
    headers: dict[str, str]
    status: int
    body: str = ""


@dataclass
class LokiReceiver:
    """Run with ``start()``; ``entries`` holds every accepted (labels, ns, line, metadata) row."""

    port: int
    entries: list[Row] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    # (status, headers) to answer before falling back to 204; rejected pushes are not stored.
    script: collections.deque[tuple[int, dict[str, str]]] = field(default_factory=collections.deque)
    gate: threading.Event = field(default_factory=threading.Event)
    max_line_size: int = 256 * 1024
    max_labels: int = 15
    reject_before_ns: int = 0
    unordered_writes: bool = True
    # Loki's default max_chunk_age is 2h; unordered writes accept entries up to half of it back.
    window_ns: int = 3600 * 1_000_000_000
    rate_limit_bytes: int = 0  # per push; 0: unlimited
    duplicates: int = 0
    _server: ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        self.gate.set()
        self._lock = threading.Lock()
        self._seen: set[tuple[str, str, str]] = set()
        self._newest: dict[str, int] = {}

    def start(self) -> LokiReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver._handle(self)

            def do_GET(self) -> None:
                ok = self.path == READY_PATH
                body = b"ready\n" if ok else b"404 page not found\n"
                self.send_response(200 if ok else 404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self.gate.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def lines(self) -> list[str]:
        with self._lock:
            return [line for _, _, line, _ in self.entries]

    def _handle(self, http: BaseHTTPRequestHandler) -> None:
        body = http.rfile.read(int(http.headers.get("Content-Length", 0)))
        self.gate.wait(30)
        status, headers, reason = self._answer(http, body)
        with self._lock:
            self.requests.append(Request(time.monotonic(), dict(http.headers.items()), status,
                                         reason.decode(errors="replace")))
        try:
            http.send_response(status)
            for name, value in headers.items():
                http.send_header(name, value)
            http.send_header("Content-Length", str(len(reason)))
            http.end_headers()
            http.wfile.write(reason)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out first, as a real client of a hung Loki does

    def _answer(self, http: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if http.path != PUSH_PATH:
            return 404, {}, b"404 page not found\n"
        with self._lock:
            scripted = self.script.popleft() if self.script else None
        if scripted is not None:
            return scripted[0], scripted[1], b"scripted failure\n"
        content_type = http.headers.get("Content-Type", "").split(";")[0]
        try:
            if content_type == "application/x-protobuf":
                rows = decode_protobuf(body)
            elif content_type == "application/json":
                if http.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                rows = validate_push(json.loads(body))
            else:
                return 415, {}, f"unsupported Content-Type {content_type!r}\n".encode()
        except (OSError, ValueError) as exc:
            return 400, {}, f"loghttp: {exc}\n".encode()
        size = sum(len(line) for _, _, line, _ in rows)
        if self.rate_limit_bytes and size > self.rate_limit_bytes:
            return 429, {}, (
                f"Ingestion rate limit exceeded for user fake (limit: {self.rate_limit_bytes} bytes/sec) "
                f"while attempting to ingest '{len(rows)}' lines totaling '{size}' bytes, reduce log volume "
                "or contact your Loki administrator to see if the limit can be increased\n").encode()
        return self._ingest(rows)

    def _ingest(self, rows: list[Row]) -> tuple[int, dict[str, str], bytes]:
        """Keep the valid entries, like the distributor and ingester; 400 names the others."""
        errors: list[str] = []
        with self._lock:
            for labels, ns, line, metadata in rows:
                stream = format_labels(labels)
                error = self._invalid(labels, stream, int(ns), line)
                if error:
                    errors.append(error)
                    continue
                key = (stream, ns, line)
                if key in self._seen:
                    self.duplicates += 1
                    continue
                self._seen.add(key)
                self._newest[stream] = max(self._newest.get(stream, 0), int(ns))
                self.entries.append((labels, ns, line, metadata))
        if errors:
            return 400, {}, (f"{len(errors)} errors like: {errors[0]}\n").encode()
        return 204, {}, b""

    def _invalid(self, labels: dict[str, str], stream: str, ns: int, line: str) -> str | None:
        if len(labels) > self.max_labels:
            return f"entry for stream '{stream}' has {len(labels)} label names; limit {self.max_labels}"
        if len(line.encode()) > self.max_line_size:
            return (f"Max entry size '{self.max_line_size}' bytes exceeded for stream '{stream}' "
                    f"while adding an entry with length '{len(line.encode())}' bytes")
        if ns < self.reject_before_ns:
            return (f"entry for stream '{stream}' has timestamp too old: {_ts(ns)}, "
                    f"oldest acceptable timestamp is: {_ts(self.reject_before_ns)}")
        newest = self._newest.get(stream)
        if newest is None or ns >= newest:
            return None
        if not self.unordered_writes and (stream, str(ns), line) not in self._seen:
            return (f"entry with timestamp {_ts(ns)} ignored, reason: 'entry out of order' "
                    f"for stream: {stream}")
        if ns < newest - self.window_ns:
            return (f"entry with timestamp {_ts(ns)} ignored, reason: 'entry too far behind, "
                    f"entry timestamp is: {_ts(ns)}, oldest acceptable timestamp is: "
                    f"{_ts(newest - self.window_ns)}', "
                    f"user 'fake', total ignored: 1 out of 1 for stream: {stream}")
        return None

"""A Docker Engine API stand-in on a unix socket, replaying responses in the documented shapes.

No Docker engine runs here, so this serves what ``dockerd`` answers (API v1.45) for the calls
docker-py makes: ``/containers/json``, ``/containers/{id}/json`` (inspect), ``/stats``
(one-shot) and ``/logs`` (multiplexed stdout/stderr frames, filtered by ``since``/``until``).
"""

from __future__ import annotations

import json
import re
import socketserver
import struct
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.exporters.local_server import LocalServer

API_ID = "a" * 64
OLLAMA_ID = "b" * 64
REDIS_ID = "c" * 64


def inspect(
    cid: str,
    name: str,
    *,
    running: bool,
    service: str | None,
    restarts: int = 0,
    exit_code: int = 0,
    oom: bool = False,
    health: str | None = None,
    memory: int = 0,
) -> dict[str, Any]:
    """``GET /containers/{id}/json`` as dockerd returns it (fields we do not read trimmed)."""
    state: dict[str, Any] = {
        "Status": "running" if running else "exited",
        "Running": running,
        "Paused": False,
        "Restarting": False,
        "OOMKilled": oom,
        "Dead": False,
        "Pid": 4242 if running else 0,
        "ExitCode": exit_code,
        "Error": "",
        "StartedAt": "2026-11-26T20:00:00.000000000Z",
        "FinishedAt": "0001-01-01T00:00:00Z",
    }
    if health:
        state["Health"] = {"Status": health, "FailingStreak": 0, "Log": []}
    labels = {"com.docker.compose.project": "llm", "com.docker.compose.service": service} if service else {}
    return {
        "Id": cid,
        "Created": "2026-11-26T19:59:58.1Z",
        "Path": "/bin/sh",
        "Args": [],
        "State": state,
        "Image": "sha256:" + "d" * 64,
        "Name": f"/{name}",
        "RestartCount": restarts,
        "Driver": "overlay2",
        "HostConfig": {"Memory": memory, "NanoCpus": 0, "RestartPolicy": {"Name": "unless-stopped"}},
        "Config": {"Hostname": cid[:12], "Tty": False, "Image": "img", "Labels": labels},
        "NetworkSettings": {"Networks": {}},
    }


def stats(cid: str, name: str) -> dict[str, Any]:
    """``GET /containers/{id}/stats?stream=0&one-shot=1`` on a cgroup v2 host."""
    return {
        "read": "2026-11-26T20:10:00.0Z",
        "preread": "0001-01-01T00:00:00Z",
        "id": cid,
        "name": f"/{name}",
        "pids_stats": {"current": 7, "limit": 4096},
        "blkio_stats": {
            "io_service_bytes_recursive": [
                {"major": 8, "minor": 0, "op": "read", "value": 4_096_000},
                {"major": 8, "minor": 0, "op": "write", "value": 1_024_000},
            ]
        },
        "cpu_stats": {
            "cpu_usage": {
                "total_usage": 12_500_000_000,
                "usage_in_kernelmode": 2_000_000_000,
                "usage_in_usermode": 10_500_000_000,
            },
            "system_cpu_usage": 9_000_000_000_000,
            "online_cpus": 2,
            "throttling_data": {"periods": 100, "throttled_periods": 3, "throttled_time": 750_000_000},
        },
        "precpu_stats": {"cpu_usage": {"total_usage": 0}, "throttling_data": {}},
        "memory_stats": {
            "usage": 300_000_000,
            "limit": 8_000_000_000,
            "stats": {"anon": 200_000_000, "file": 90_000_000, "inactive_file": 50_000_000},
        },
        "networks": {
            "eth0": {"rx_bytes": 1_000, "rx_packets": 10, "tx_bytes": 2_000, "tx_packets": 20},
            "eth1": {"rx_bytes": 500, "rx_packets": 5, "tx_bytes": 0, "tx_packets": 0},
        },
    }


def frame(stream: int, text: str) -> bytes:
    """One multiplexed log frame: [stream, 0, 0, 0, size (big endian u32)] + payload."""
    data = text.encode()
    return struct.pack(">BxxxL", stream, len(data)) + data


class FakeDocker(LocalServer):
    def __init__(self, socket_path: Path) -> None:
        self.socket_path = socket_path
        self.containers: dict[str, dict[str, Any]] = {
            API_ID: inspect(
                API_ID,
                "llm-api-1",
                running=True,
                service="api",
                restarts=2,
                health="healthy",
                memory=2_147_483_648,
            ),
            OLLAMA_ID: inspect(
                OLLAMA_ID,
                "llm-ollama-1",
                running=False,
                service="ollama",
                restarts=5,
                exit_code=137,
                oom=True,
            ),
            REDIS_ID: inspect(REDIS_ID, "redis", running=True, service=None),
        }
        # container id -> [(unix time, stream 1|2, line)]
        self.logs: dict[str, list[tuple[float, int, str]]] = {API_ID: [], REDIS_ID: []}
        self.paths: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                path = re.sub(r"^/v1\.\d+", "", url.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                outer.paths.append(path)
                status, body, ctype = outer.route(path, query)
                self._send(status, body, ctype)

            do_HEAD = do_GET

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        self.server = Server(str(socket_path), Handler)

    def route(self, path: str, query: dict[str, str]) -> tuple[int, bytes, str]:
        if path == "/_ping":
            return 200, b"OK", "text/plain"
        if path == "/version":
            return (
                200,
                json.dumps({"Version": "27.3.1", "ApiVersion": "1.45", "MinAPIVersion": "1.24"}).encode(),
                "application/json",
            )
        if path == "/containers/json":
            listing = [
                {"Id": cid, "Names": [c["Name"]], "State": c["State"]["Status"]}
                for cid, c in self.containers.items()
                if query.get("all") == "1" or c["State"]["Running"]
            ]
            return 200, json.dumps(listing).encode(), "application/json"
        match = re.fullmatch(r"/containers/(\w+)/(json|stats|logs)", path)
        if not match or match.group(1) not in self.containers:
            return 404, json.dumps({"message": "No such container"}).encode(), "application/json"
        cid, what = match.groups()
        container = self.containers[cid]
        if what == "json":
            return 200, json.dumps(container).encode(), "application/json"
        if what == "stats":
            return 200, json.dumps(stats(cid, container["Name"][1:])).encode(), "application/json"
        since, until = float(query.get("since", 0)), float(query.get("until", 1e12))
        lines = [(s, text) for t, s, text in self.logs.get(cid, []) if since <= t < until]
        lines = lines[-int(query["tail"]) :] if query.get("tail", "all") != "all" else lines
        return 200, b"".join(frame(s, text) for s, text in lines), "application/vnd.docker.multiplexed-stream"

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

"""Start and stop the real servers the stack (and its tests) run on loopback.

Prometheus, Alertmanager and Redis come from Debian packages; when a binary is missing we say
exactly which package provides it instead of failing with a bare ``FileNotFoundError``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

# binary -> Debian package that ships it
PACKAGES: dict[str, str] = {
    "prometheus": "prometheus",
    "promtool": "prometheus",
    "prometheus-alertmanager": "prometheus-alertmanager",
    "amtool": "prometheus-alertmanager",
    "redis-server": "redis-server",
}


class MissingBinary(RuntimeError):
    pass


def require(binary: str) -> str:
    """Return the path of ``binary`` or raise with the install command that provides it."""
    path = shutil.which(binary)
    if path is None:
        pkg = PACKAGES.get(binary, binary)
        raise MissingBinary(
            f"'{binary}' was not found on PATH. Install it with:\n"
            f"  sudo apt-get update && sudo apt-get install -y {pkg}"
        )
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], T], timeout: float, interval: float = 0.1, what: str = "") -> T:
    """Poll ``predicate`` until it returns something truthy, and return that.

    Exceptions count as "not yet" (a server that is still starting refuses connections); on
    timeout the ``TimeoutError`` names ``what``.
    """
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            if value := predicate():
                return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what or predicate}")
        time.sleep(interval)


def http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as resp:
        return 200 <= resp.status < 300


@dataclass
class ManagedProcess:
    """A child process with its output in a log file, stopped with SIGTERM then SIGKILL."""

    name: str
    argv: Sequence[str]
    log_path: Path
    env: dict[str, str] | None = None
    ready_url: str | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self, timeout: float = 30.0) -> ManagedProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            list(self.argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(self.env or {})},
            start_new_session=True,
        )
        log.close()
        if self.ready_url:
            try:
                wait_until(self._ready, timeout, what=f"{self.name} at {self.ready_url}")
            except TimeoutError:
                self.stop()
                raise RuntimeError(
                    f"{self.name} did not become ready; last log lines:\n{self.tail()}"
                ) from None
        return self

    def _ready(self) -> bool:
        assert self.proc is not None and self.ready_url is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")
        return http_ok(self.ready_url)

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash would: no cleanup runs in the child."""
        if self.alive():
            assert self.proc is not None
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self, grace: float = 10.0) -> None:
        if not self.alive():
            return
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.kill()


def prometheus(config: Path, data_dir: Path, port: int, log_dir: Path) -> ManagedProcess:
    return ManagedProcess(
        "prometheus",
        [
            require("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={data_dir}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--web.enable-lifecycle",
        ],
        log_dir / "prometheus.log",
        ready_url=f"http://127.0.0.1:{port}/-/ready",
    )


def alertmanager(config: Path, data_dir: Path, port: int, log_dir: Path) -> ManagedProcess:
    return ManagedProcess(
        "alertmanager",
        [
            require("prometheus-alertmanager"),
            f"--config.file={config}",
            f"--storage.path={data_dir}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",  # single node: no gossip port to collide on
        ],
        log_dir / "alertmanager.log",
        ready_url=f"http://127.0.0.1:{port}/-/ready",
    )


def redis_server(data_dir: Path, port: int, log_dir: Path) -> ManagedProcess:
    data_dir.mkdir(parents=True, exist_ok=True)
    return ManagedProcess(
        "redis",
        [
            require("redis-server"),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(data_dir),
            "--save",
            "",
            "--appendonly",
            "yes",
        ],
        log_dir / "redis.log",
    )

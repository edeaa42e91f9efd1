"""``llm-sre up``: the whole product on loopback — exporter, webhook service, real Prometheus and
real Alertmanager — with configs rendered from ``provisioning/`` and state under the data dir.

    with Stack(StackOptions(state_dir=Path("data"))) as stack:
        print(stack.urls)
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from alert_webhooks.settings import Settings
from llm_sre import processes, render
from llm_sre.processes import ManagedProcess

REPO = Path(__file__).resolve().parents[1]


@dataclass
class StackOptions:
    """Ports default to the compose ones; tests pass 0 to get free ports."""

    state_dir: Path
    host: str = "127.0.0.1"
    prometheus_port: int = 9090
    alertmanager_port: int = 9093
    webhook_port: int = 8080
    exporter_port: int = 9464
    scrape_interval: str = "15s"
    evaluation_interval: str = "15s"
    group_wait: str | None = None
    group_interval: str | None = None
    webhook_token: str | None = None
    webhook_env: dict[str, str] = field(default_factory=dict)
    # host:port of an instrumented application to scrape as job "llm-app" (the demo's traffic).
    app_target: str | None = None
    repo: Path = REPO


class Stack:
    def __init__(self, opts: StackOptions) -> None:
        self.opts = opts
        self.token = opts.webhook_token or secrets.token_urlsafe(24)
        self.ports = {
            name: getattr(opts, f"{name}_port") or processes.free_port()
            for name in ("prometheus", "alertmanager", "webhook", "exporter")
        }
        self.procs: list[ManagedProcess] = []
        # Absolute: Alertmanager resolves relative paths against its config file's folder.
        self.state_dir = opts.state_dir.resolve()
        self.config_dir = self.state_dir / "stack" / "config"
        self.log_dir = self.state_dir / "stack" / "logs"

    def url(self, name: str) -> str:
        return f"http://{self.opts.host}:{self.ports[name]}"

    @property
    def urls(self) -> dict[str, str]:
        return {name: self.url(name) for name in self.ports}

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        # Check every binary first so a missing package is reported before anything starts.
        for binary in ("prometheus", "prometheus-alertmanager"):
            processes.require(binary)
        self.write_configs()
        try:
            for proc in self._processes():
                self.procs.append(proc)
                proc.start(timeout=60)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        self.procs.clear()

    def dead(self) -> list[ManagedProcess]:
        return [p for p in self.procs if not p.alive()]

    def write_configs(self) -> None:
        """Render prometheus.yml, alertmanager.yml and the token file; `start` calls it first."""
        repo, o = self.opts.repo, self.opts
        self.config_dir.mkdir(parents=True, exist_ok=True)
        token_file = self.config_dir / "webhook_token"
        token_file.write_text(self.token)
        token_file.chmod(0o600)
        targets = {
            "llm-sre-exporter": f"{o.host}:{self.ports['exporter']}",
            "llm-sre-webhook": f"{o.host}:{self.ports['webhook']}",
            "prometheus": f"{o.host}:{self.ports['prometheus']}",
            "alertmanager": f"{o.host}:{self.ports['alertmanager']}",
        }
        if o.app_target:
            targets["llm-app"] = o.app_target
        prom = render.prometheus_config(
            _load(repo / "provisioning/prometheus/prometheus.yml"),
            targets=targets,
            rule_files=[str(repo / "rules/alerts/*.yml"), str(repo / "rules/generated/*.yml")],
            alertmanager=targets["alertmanager"],
            scrape_interval=o.scrape_interval,
            evaluation_interval=o.evaluation_interval,
        )
        am = render.alertmanager_config(
            _load(repo / "provisioning/alertmanager/alertmanager.yml"),
            webhook_url=f"{self.url('webhook')}/alertmanager",
            token_file=token_file,
            group_wait=o.group_wait,
            group_interval=o.group_interval,
        )
        _dump(self.config_dir / "prometheus.yml", prom)
        _dump(self.config_dir / "alertmanager.yml", am)

    def _processes(self) -> list[ManagedProcess]:
        o, cli = self.opts, [sys.executable, "-m", "llm_sre.cli"]
        data = str(self.state_dir)
        return [
            ManagedProcess(
                "exporter",
                [*cli, "exporter", "--host", o.host, "--port", str(self.ports["exporter"])],
                self.log_dir / "exporter.log",
                env={"LLM_SRE_DATA_DIR": data, "TRACE_DIR": str(Path(data) / "traces")},
                ready_url=f"{self.url('exporter')}/metrics",
            ),
            ManagedProcess(
                "webhook",
                [*cli, "serve", "--host", o.host, "--port", str(self.ports["webhook"])],
                self.log_dir / "webhook.log",
                env={
                    "LLM_SRE_DATA_DIR": data,
                    "LLM_SRE_WEBHOOK_TOKEN": self.token,
                    "PROMETHEUS_URL": self.url("prometheus"),
                    **o.webhook_env,
                },
                ready_url=f"{self.url('webhook')}/healthz",
            ),
            processes.prometheus(
                self.config_dir / "prometheus.yml",
                self.state_dir / "stack" / "prometheus",
                self.ports["prometheus"],
                self.log_dir,
            ),
            processes.alertmanager(
                self.config_dir / "alertmanager.yml",
                self.state_dir / "stack" / "alertmanager",
                self.ports["alertmanager"],
                self.log_dir,
            ),
        ]


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def _dump(path: Path, doc: dict) -> None:
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def _cmd_up(args: argparse.Namespace) -> int:
    opts = StackOptions(
        state_dir=Settings().data_dir,
        prometheus_port=args.prometheus_port,
        alertmanager_port=args.alertmanager_port,
        webhook_port=args.webhook_port,
        exporter_port=args.exporter_port,
    )
    try:
        stack = Stack(opts)
        stack.start()
    except (processes.MissingBinary, RuntimeError, ValueError) as exc:
        print(f"llm-sre up: {exc}", file=sys.stderr)
        return 1
    print("llm-sre stack is up (Ctrl-C stops it):")
    for name, url in stack.urls.items():
        print(f"  {name:<13} {url}")
    print(f"  logs          {stack.log_dir}")
    try:
        while not (dead := stack.dead()):
            time.sleep(1)  # supervision tick, not synchronisation: we are waiting for Ctrl-C
        for proc in dead:
            print(f"llm-sre up: {proc.name} exited; last log lines:\n{proc.tail()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping…")
        return 0
    finally:
        stack.stop()


def add_port_options(parser: argparse.ArgumentParser) -> None:
    defaults = StackOptions(state_dir=Path())
    for name in ("prometheus", "alertmanager", "webhook", "exporter"):
        parser.add_argument(
            f"--{name}-port",
            type=int,
            default=getattr(defaults, f"{name}_port"),
            help=f"loopback port for {name} (0 = any free port; default %(default)s)",
        )


def register(sub: argparse._SubParsersAction) -> None:
    up = sub.add_parser(
        "up",
        help="run exporter, webhook, Prometheus and Alertmanager on loopback",
        description="Start the llm-sre stack on loopback with configs rendered from provisioning/; "
        "state goes under $LLM_SRE_DATA_DIR (default ./data). Ctrl-C stops everything.",
    )
    add_port_options(up)
    up.set_defaults(func=_cmd_up)

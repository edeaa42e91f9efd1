"""docker-compose.yml without a Docker engine: schema, pinned images, mounts, ports, secrets, .env.

The Compose specification schema in schemas/compose-spec.json is vendored unchanged from the npm
package dclint 3.1.0 (MIT, file schemas/compose.schema.json, sha256 below), which tracks the
compose-spec project's schema (it knows `develop`, `include`, `models`, healthcheck
`start_interval`).
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import threading
import tomllib
from pathlib import Path

import httpx
import jsonschema
import pytest
import yaml

from llm_sre import compose as compose_init
from llm_sre.cli import build_parser
from llm_sre.processes import free_port, wait_until
from llm_sre.stack import REPO
from tests.provisioning.stackfiles import COMPOSE_FILE, SCHEMAS, bind_mounts, compose, schema, variables

COMPOSE_SCHEMA_SHA256 = "46b7d35f19dd93a05f8fea530291bf84d881c1791ec167ecf0e6fb94e639d496"

# Services that run to completion instead of serving.
ONE_SHOT = {"ollama-pull", "grafana-token"}
# Host paths compose may create on first start; `llm-sre compose init` creates them too.
CREATED_AT_INIT = {"./data/traces"}
# Absolute host paths are the Docker host's own (socket, /sys for cAdvisor), not repo files.


def test_vendored_schema_is_the_published_file() -> None:
    digest = hashlib.sha256((SCHEMAS / "compose-spec.json").read_bytes()).hexdigest()
    assert digest == COMPOSE_SCHEMA_SHA256


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    jsonschema.Draft7Validator(schema("compose-spec.json")).validate(compose())


def test_gpu_override_is_valid_and_only_adds_to_existing_services() -> None:
    override = yaml.safe_load((REPO / "docker-compose.gpu.yml").read_text())
    jsonschema.Draft7Validator(schema("compose-spec.json")).validate(override)
    assert set(override["services"]) <= set(compose()["services"])
    devices = override["services"]["ollama"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["capabilities"] == ["gpu"]


def test_schema_rejects_a_misspelt_key() -> None:
    broken = {"services": {"x": {"image": "busybox:1.36", "healthcheck": {"intervall": "5s"}}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema("compose-spec.json")).validate(broken)


def test_every_image_is_pinned_to_a_version() -> None:
    for name, service in compose()["services"].items():
        image = service["image"]
        if "build" in service:
            continue  # built from this repo's Dockerfile
        repository, _, tag = image.rpartition(":")
        assert repository and "/" not in tag, f"{name}: {image} has no tag"
        assert re.fullmatch(r"v?\d+\.\d+\.\d+", tag), f"{name}: {image} is not pinned to x.y.z"


def test_llm_sre_services_run_real_cli_commands() -> None:
    services = compose()["services"]
    for name, port in (("exporter", "9464"), ("logs", "9465"), ("webhook", "8080"), ("app", "8000")):
        command = services[name]["command"]
        assert command[-2:] == ["--port", port] and "0.0.0.0" in command
        args = build_parser().parse_args(command)
        assert callable(args.func), f"{name}: `llm-sre {' '.join(command)}` has no handler"


def test_grafana_token_one_shot_writes_where_the_webhook_reads() -> None:
    services = compose()["services"]
    one_shot, webhook = services["grafana-token"], services["webhook"]
    options = dict(arg.removeprefix("--").split("=", 1) for arg in one_shot["command"] if "=" in arg)
    assert callable(build_parser().parse_args(one_shot["command"]).func)
    token_file = Path(options["token-file"])
    assert webhook["environment"]["GRAFANA_TOKEN_FILE"] == str(token_file)
    assert f"grafana-token:{token_file.parent}" in one_shot["volumes"]
    assert f"grafana-token:{token_file.parent}:ro" in webhook["volumes"]
    # The image creates that directory for its user, so a fresh named volume is writable.
    assert str(token_file.parent) == "/var/lib/llm-sre/grafana"
    assert str(token_file.parent) in (REPO / "Dockerfile").read_text()
    for option, secret in (
        ("admin-password-file", "grafana_admin_password"),
        ("preset-file", "grafana_token"),
    ):
        assert options[option] == f"/run/secrets/{secret}" and secret in one_shot["secrets"]
    assert options["grafana-url"] == "http://grafana:3000"
    assert webhook["depends_on"]["grafana-token"]["condition"] == "service_completed_successfully"


def test_every_bind_mount_source_exists() -> None:
    for name, service in compose()["services"].items():
        for source, target in bind_mounts(service):
            if source.startswith("/") or source in CREATED_AT_INIT:
                continue
            assert (REPO / source).exists(), f"{name}: {source} (mounted at {target}) is missing"


def test_named_volumes_are_declared_and_used() -> None:
    declared = set(compose()["volumes"])
    used = {
        volume.split(":")[0]
        for service in compose()["services"].values()
        for volume in service.get("volumes", [])
        if not volume.startswith((".", "/"))
    }
    assert used == declared


def test_long_running_services_have_healthchecks_and_restart() -> None:
    for name, service in compose()["services"].items():
        if name in ONE_SHOT:
            assert service["restart"] == "no"
            continue
        assert service.get("restart") == "unless-stopped", name
        assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name


def test_published_ports_bind_to_loopback_only() -> None:
    for name, service in compose()["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name}: {port} is reachable from the network"


def test_dependencies_refer_to_services_with_the_conditions_they_can_meet() -> None:
    services = compose()["services"]
    for name, service in services.items():
        depends = service.get("depends_on", {})
        for target, spec in depends.items() if isinstance(depends, dict) else ((d, {}) for d in depends):
            assert target in services, f"{name} depends on unknown {target}"
            if spec.get("condition") == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target}, which has none"


def test_secrets_are_files_created_by_compose_init_and_ignored_by_git() -> None:
    declared = compose()["secrets"]
    assert {Path(spec["file"]).name for spec in declared.values()} == set(compose_init.SECRETS)
    for spec in declared.values():
        assert spec["file"].startswith("./secrets/")
    ignored = subprocess.run(["git", "check-ignore", "-q", "secrets/webhook_token"], cwd=REPO, check=False)
    assert ignored.returncode == 0, "secret files must be git-ignored"
    env_text = (REPO / ".env.example").read_text().lower()
    assert "token=" not in env_text and "password=" not in env_text


def test_env_example_lists_exactly_the_variables_compose_reads() -> None:
    used = variables(COMPOSE_FILE.read_text())
    example = dict(
        line.split("=", 1)
        for line in (REPO / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert set(example) == set(used)
    for name, default in used.items():
        assert default is not None, f"${{{name}}} has no default in docker-compose.yml"
        assert example[name] == default, f"{name}: .env.example says {example[name]!r}, compose {default!r}"


def test_dockerfile_copies_only_what_dockerignore_lets_in() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    sources = [
        word
        for line in dockerfile.splitlines()
        if line.startswith("COPY ") and "--from=" not in line and "<<" not in line
        for word in line.split()[1:-1]
    ]
    allowed = [
        line[1:].rstrip("/")
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    ]
    assert sources
    for source in sources:
        assert (REPO / source).exists(), source
        assert source.rstrip("/") in allowed, f"{source} is excluded by .dockerignore"


def test_dockerfile_copies_every_package_setuptools_builds() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    copied = set(re.findall(r"^COPY (\S+) ", (REPO / "Dockerfile").read_text(), re.M))
    copied |= {
        word
        for line in re.findall(r"^COPY (.+) \./$", (REPO / "Dockerfile").read_text(), re.M)
        for word in line.split()
    }
    packages = {
        pattern.rstrip("*") for pattern in project["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    assert packages <= copied, f"the image build misses {packages - copied}"
    assert project["project"]["readme"] in copied


def _entrypoint_script() -> str:
    text = (REPO / "Dockerfile").read_text()
    match = re.search(r"<<'SCRIPT' \S+\n(.*?)\nSCRIPT\n", text, re.S)
    assert match, "entrypoint heredoc not found in Dockerfile"
    return match.group(1)


def test_entrypoint_turns_secret_files_into_variables(tmp_path: Path) -> None:
    script = tmp_path / "entrypoint"
    script.write_text(_entrypoint_script())
    fake = tmp_path / "bin" / "llm-sre"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho "args=$*"\nenv | grep -E "^(LLM_SRE_WEBHOOK|GRAFANA|SLACK)" | sort\n')
    fake.chmod(0o755)
    token, empty = tmp_path / "token", tmp_path / "empty"
    token.write_text("s3cret-token")
    empty.write_text("")
    env = {
        "PATH": f"{fake.parent}:/usr/bin:/bin",
        "LLM_SRE_WEBHOOK_TOKEN_FILE": str(token),
        "SLACK_BOT_TOKEN_FILE": str(empty),
        "GRAFANA_TOKEN_FILE": str(tmp_path / "missing"),
    }
    result = subprocess.run(
        ["sh", str(script), "serve", "--port", "8080"], env=env, capture_output=True, text=True, check=True
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "args=serve --port 8080"
    assert "LLM_SRE_WEBHOOK_TOKEN=s3cret-token" in lines
    # Empty or missing files leave the variable unset, and no *_FILE leaks into the process.
    assert not [
        line for line in lines[1:] if line.startswith(("SLACK", "GRAFANA", "LLM_SRE_WEBHOOK_TOKEN_FILE"))
    ]


def test_webhook_secret_files_match_the_settings_it_reads() -> None:
    from alert_webhooks.settings import Settings

    env = compose()["services"]["webhook"]["environment"]
    file_vars = {name.removesuffix("_FILE") for name in env if name.endswith("_FILE")}
    aliases = {
        choice
        for field in Settings.model_fields.values()
        for choice in getattr(field.validation_alias, "choices", ())
    }
    assert file_vars and file_vars <= aliases
    assert file_vars <= set(re.findall(r"[A-Z_]+", _entrypoint_script()))


def test_compose_init_creates_missing_files_once(tmp_path: Path) -> None:
    (tmp_path / ".env.example").write_text("A=1\n")
    tokens = iter(["t1", "t2", "t3", "t4"])
    created = compose_init.init(tmp_path, token=lambda: next(tokens))
    assert (tmp_path / ".env").read_text() == "A=1\n"
    assert (tmp_path / "secrets/webhook_token").read_text() == "t1"
    assert (tmp_path / "secrets/grafana_admin_password").read_text() == "t2"
    assert (tmp_path / "secrets/slack_bot_token").read_text() == ""
    assert (tmp_path / "secrets").stat().st_mode & 0o077 == 0
    assert (tmp_path / "data/traces").is_dir()
    assert len(created) == 1 + len(compose_init.SECRETS) + 1
    (tmp_path / "secrets/slack_bot_token").write_text("xoxb-kept")
    assert compose_init.init(tmp_path, token=lambda: "never") == []
    assert (tmp_path / "secrets/slack_bot_token").read_text() == "xoxb-kept"


def test_compose_yaml_anchors_expand_into_every_llm_sre_service() -> None:
    raw = yaml.safe_load(COMPOSE_FILE.read_text())
    for name in ("exporter", "logs", "webhook"):
        service = raw["services"][name]
        assert service["build"]["context"] == "."
        assert service["environment"]["OLLAMA_HOST"] == "http://ollama:11434"


def test_docs_list_every_variable_with_its_default() -> None:
    docs = (REPO / "docs/stack.md").read_text()
    for name, default in variables(COMPOSE_FILE.read_text()).items():
        shown = f"`{default}`" if default else "(empty)"
        assert f"| `{name}` | {shown} |" in docs, f"docs/stack.md: {name} with default {shown}"


def test_demo_app_serves_llm_metrics_until_stopped() -> None:
    port, stop = free_port(), threading.Event()
    args = build_parser().parse_args(["compose", "demo-app", "--port", str(port), "--calls-per-second", "50"])
    thread = threading.Thread(target=args.func, args=(args, stop), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        wait_until(lambda: "llm_sre_llm_calls_total{" in httpx.get(url, timeout=2).text, 10, what=url)
        # Prometheus 3 fails a scrape whose Content-Type it cannot map to a format (no fallback is
        # configured); prometheus-client, which every llm-sre /metrics uses, sends the text format's.
        content_type = httpx.get(url, timeout=2).headers["content-type"]
        assert content_type.startswith("text/plain; version=0.0.4"), content_type
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=2)


def test_logs_and_webhook_share_the_data_dir_the_analysts_read() -> None:
    """The logs service writes clusters.json, security.json and secrets.json to its data dir; the
    webhook serves and analyses them from its own: one volume, mounted at both data dirs."""
    services = compose()["services"]

    def data_volume(name: str) -> str:
        env = services[name]["environment"]
        mounts = dict(reversed(v.split(":")[:2]) for v in services[name]["volumes"])
        return mounts[env["LLM_SRE_DATA_DIR"]]

    assert data_volume("logs") == data_volume("webhook")
    # The pattern state keeps its own volume, where the image lets the service write.
    logs = services["logs"]
    state = Path(logs["environment"]["LLM_SRE_LOG_STATE_DIR"]).parent
    assert f"logs-data:{state}" in logs["volumes"]
    assert str(state) in (REPO / "Dockerfile").read_text()

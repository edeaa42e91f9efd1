"""Grafana, Loki, Alloy and the cross-references between every provisioning file and docker-compose.

promtool/amtool validity of prometheus.yml and alertmanager.yml is tested in tests/test_stack_configs.py;
here each file is checked against its schema and against the others: every URL names a compose
service on a port it listens on, every path a file refers to is mounted where it looks, and every
data source UID the dashboards use is provisioned.
"""

from __future__ import annotations

import glob
import json
import re
from pathlib import Path

import jsonschema
import pytest

from llm_sre.dashboards import panels
from llm_sre.stack import REPO
from tests.provisioning import alloy
from tests.provisioning.stackfiles import compose, container_path, host_port, load_yaml, schema

DATASOURCES = "provisioning/grafana/datasources/datasources.yml"
PROVIDERS = "provisioning/grafana/dashboards/llm-sre.yml"
LOKI = "provisioning/loki/loki.yml"
ALLOY = "provisioning/alloy/config.alloy"
PROMETHEUS = "provisioning/prometheus/prometheus.yml"
ALERTMANAGER = "provisioning/alertmanager/alertmanager.yml"

# Scrape targets that are not compose services: Prometheus scraping itself. (`app:8000` is the
# compose `demo` profile's synthetic app, or the team's own app joining under that name.)
NOT_COMPOSE_TARGETS = {("localhost", 9090)}

# Alloy components the config may use -> the exports other components may reference.
ALLOY_EXPORTS = {
    "discovery.docker": {"targets"},
    "discovery.relabel": {"output", "rules"},
    "loki.source.docker": set(),
    "loki.process": {"receiver"},
    "loki.write": {"receiver"},
}
# Stream labels the collector may create: few and bounded (REFERENCE §4).
ALLOWED_STREAM_LABELS = {"service", "container", "stream", "env"}


def listening_ports(service: str) -> set[int]:
    """Container ports a compose service publishes or exposes."""
    spec = compose()["services"][service]
    ports = {int(str(p).rsplit(":", 1)[-1]) for p in spec.get("ports", [])}
    return ports | {int(p) for p in spec.get("expose", [])}


def assert_compose_url(url: str, what: str) -> None:
    host, port = host_port(url)
    assert host in compose()["services"], f"{what}: {url} names no compose service"
    assert port in listening_ports(host), f"{what}: {host} does not listen on {port}"


# --- Grafana ---------------------------------------------------------------------------------


def test_datasources_file_matches_grafana_schema() -> None:
    jsonschema.Draft7Validator(schema("grafana-datasources.schema.json")).validate(load_yaml(DATASOURCES))


def test_datasource_schema_requires_alertmanager_implementation() -> None:
    document = load_yaml(DATASOURCES)
    for source in document["datasources"]:
        source.get("jsonData", {}).pop("implementation", None)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema("grafana-datasources.schema.json")).validate(document)


def test_datasource_uids_are_the_ones_the_dashboards_use() -> None:
    sources = {s["uid"]: s for s in load_yaml(DATASOURCES)["datasources"]}
    assert sources[panels.PROMETHEUS_UID]["type"] == "prometheus"
    assert sources[panels.LOKI_UID]["type"] == "loki"
    assert sources[panels.ALERTMANAGER_UID]["type"] == "alertmanager"
    assert sources[panels.ALERTMANAGER_UID]["jsonData"]["implementation"] == "prometheus"
    assert [uid for uid, s in sources.items() if s.get("isDefault")] == [panels.PROMETHEUS_UID]
    for source in sources.values():
        assert_compose_url(source["url"], f"data source {source['uid']}")


def test_dashboards_reference_only_provisioned_datasources() -> None:
    provisioned = {s["uid"] for s in load_yaml(DATASOURCES)["datasources"]} | {"-- Grafana --"}
    for path in (REPO / "dashboards").glob("*.json"):
        board = json.loads(path.read_text())
        variables = {v["name"]: v for v in board["templating"]["list"] if v["type"] == "datasource"}
        for variable in variables.values():
            assert variable["current"]["value"] in provisioned, f"{path.name}: ${variable['name']} default"
        text = path.read_text()
        for uid in {ref["uid"] for ref in _datasource_refs(board)}:
            name = uid.removeprefix("${").removesuffix("}")
            assert uid in provisioned or name in variables, f"{path.name} uses unknown data source {uid}"
        assert '"uid": "${' in text  # panels go through the variables, not hard-coded UIDs


def _datasource_refs(node: object) -> list[dict[str, str]]:
    if isinstance(node, dict):
        found = [node["datasource"]] if isinstance(node.get("datasource"), dict) else []
        return found + [ref for value in node.values() for ref in _datasource_refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _datasource_refs(item)]
    return []


def test_dashboard_provider_points_at_the_mounted_dashboards() -> None:
    document = load_yaml(PROVIDERS)
    jsonschema.Draft7Validator(schema("grafana-dashboard-providers.schema.json")).validate(document)
    (provider,) = document["providers"]
    assert provider["options"]["path"] == container_path("grafana", "dashboards")
    assert container_path("grafana", PROVIDERS) == "/etc/grafana/provisioning/dashboards/llm-sre.yml"
    assert container_path("grafana", DATASOURCES) == "/etc/grafana/provisioning/datasources/datasources.yml"
    home = compose()["services"]["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == container_path("grafana", "dashboards/llm-sre-incidents.json")
    assert (REPO / "dashboards/llm-sre-incidents.json").is_file()


def test_grafana_rate_interval_matches_the_scrape_interval() -> None:
    prometheus = next(s for s in load_yaml(DATASOURCES)["datasources"] if s["type"] == "prometheus")
    assert prometheus["jsonData"]["timeInterval"] == load_yaml(PROMETHEUS)["global"]["scrape_interval"]


# --- Loki ------------------------------------------------------------------------------------


def test_loki_config_matches_schema_and_listens_where_compose_expects() -> None:
    config = load_yaml(LOKI)
    jsonschema.Draft7Validator(schema("loki.schema.json")).validate(config)
    assert config["server"]["http_listen_port"] in listening_ports("loki")
    assert container_path("loki", LOKI) == "/etc/loki/loki.yml"
    assert "-config.expand-env=true" in compose()["services"]["loki"]["command"]


def test_loki_schema_rejects_a_misspelt_limit() -> None:
    config = load_yaml(LOKI)
    config["limits_config"]["retention_periode"] = "24h"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema("loki.schema.json")).validate(config)


def test_loki_retention_is_enforced_and_configurable() -> None:
    config = load_yaml(LOKI)
    assert config["compactor"]["retention_enabled"] is True
    assert config["limits_config"]["retention_period"] == "${LOKI_RETENTION_PERIOD:-168h}"
    assert compose()["services"]["loki"]["environment"]["LOKI_RETENTION_PERIOD"] == "168h"


# --- Alloy -----------------------------------------------------------------------------------


def _alloy_components() -> dict[str, alloy.Block]:
    blocks = alloy.parse((REPO / ALLOY).read_text())
    components = {}
    for block in blocks:
        assert block.name in ALLOY_EXPORTS, f"unknown Alloy component {block.name}"
        assert block.label, f"{block.name} needs a label"
        key = f"{block.name}.{block.label}"
        assert key not in components, f"{key} declared twice"
        components[key] = block
    return components


def test_alloy_references_resolve_to_declared_exports() -> None:
    components = _alloy_components()
    for key, block in components.items():
        values = list(block.attributes.values()) + [
            value for inner in block.blocks for value in inner.attributes.values()
        ]
        for path in (p for value in values for p in alloy.references(value)):
            component, _, export = path.rpartition(".")
            assert component in components, f"{key}: {path} refers to an undeclared component"
            assert export in ALLOY_EXPORTS[components[component].name], f"{key}: {path} is no export"
        for target in alloy.references(block.attributes.get("forward_to", [])):
            assert target.endswith(".receiver"), f"{key}: forward_to {target} is not a receiver"


def test_alloy_pipeline_reaches_loki() -> None:
    components = _alloy_components()
    writers = [b for b in components.values() if b.name == "loki.write"]
    (endpoint,) = [inner for inner in writers[0].blocks if inner.name == "endpoint"]
    url = endpoint.attributes["url"]
    assert_compose_url(url, "loki.write")
    assert url.endswith("/loki/api/v1/push")
    # Follow forward_to from the Docker source to the writer.
    current = next(b for b in components.values() if b.name == "loki.source.docker")
    seen = set()
    while current.name != "loki.write":
        (target,) = alloy.references(current.attributes["forward_to"])
        key = target.removesuffix(".receiver")
        assert key not in seen, "forward_to loop"
        seen.add(key)
        current = components[key]


def test_alloy_creates_only_bounded_stream_labels_and_reads_declared_environment() -> None:
    components = _alloy_components()
    created = {
        rule.attributes["target_label"]
        for block in components.values()
        if block.name == "discovery.relabel"
        for rule in block.blocks
        if rule.name == "rule"
    }
    for block in components.values():
        created |= set(block.attributes.get("external_labels", {}))
    assert created <= ALLOWED_STREAM_LABELS
    environment = compose()["services"]["collector"]["environment"]
    text = (REPO / ALLOY).read_text()
    for block in components.values():
        for value in block.attributes.values():
            assert set(alloy.calls(value)) <= {"sys.env"}
    for name in ("COMPOSE_PROJECT_NAME", "LLM_SRE_ENV"):
        assert f'sys.env("{name}")' in text and name in environment
    assert container_path("collector", ALLOY) in compose()["services"]["collector"]["command"]


def test_alloy_reader_rejects_broken_syntax() -> None:
    with pytest.raises(SyntaxError):
        alloy.parse('loki.write "x" { endpoint { url = } }')


# --- Prometheus and Alertmanager against compose -----------------------------------------------


def test_prometheus_targets_are_compose_services() -> None:
    config = load_yaml(PROMETHEUS)
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            for target in static["targets"]:
                if host_port(target) not in NOT_COMPOSE_TARGETS:
                    assert_compose_url(target, f"scrape job {job['job_name']}")
    for alerting in config["alerting"]["alertmanagers"]:
        for static in alerting["static_configs"]:
            for target in static["targets"]:
                assert_compose_url(target, "alerting")


def test_prometheus_rule_and_target_files_are_mounted() -> None:
    config = load_yaml(PROMETHEUS)
    rules_mount = container_path("prometheus", "rules")
    assert container_path("prometheus", PROMETHEUS) == "/etc/prometheus/prometheus.yml"
    for pattern in config["rule_files"]:
        assert pattern.startswith(f"{rules_mount}/"), f"{pattern} is outside the mounted rules/"
        host_pattern = str(REPO / "rules" / Path(pattern).relative_to(rules_mount))
        assert glob.glob(host_pattern), f"{pattern} matches no file in rules/"
    targets_mount = container_path("prometheus", "provisioning/prometheus/targets")
    for job in config["scrape_configs"]:
        for sd in job.get("file_sd_configs", []):
            for pattern in sd["files"]:
                assert str(Path(pattern).parent) == targets_mount, f"{pattern} is not in the mounted targets/"


def test_llm_sre_scrape_jobs_name_their_containers_as_loki_does() -> None:
    """A built service's scrape target is the port its command serves, and its Prometheus ``service``
    equals the ``io.llm-sre.service`` label Alloy turns into its Loki ``service``."""
    services = compose()["services"]
    jobs = {job["job_name"]: job for job in load_yaml(PROMETHEUS)["scrape_configs"]}
    for job_name in ("llm-sre-exporter", "llm-sre-logs", "llm-sre-webhook"):
        (static,) = jobs[job_name]["static_configs"]
        host, port = host_port(static["targets"][0])
        command = services[host]["command"]
        assert "build" in services[host] and command[command.index("--port") + 1] == str(port), job_name
        assert services[host]["labels"]["io.llm-sre.service"] == static["labels"]["service"], job_name


def test_log_exporter_reads_loki_and_its_logging_services_become_exported_service() -> None:
    """The log exporter's series carry the logging service in ``service``; the job's own ``service``
    target label (honor_labels false) moves it to ``exported_service``, where the rules and the
    Incidents dashboard read it."""
    logs = compose()["services"]["logs"]
    assert "--loki" in logs["command"]
    assert_compose_url(logs["environment"]["LOKI_URL"], "logs --loki")
    assert logs["depends_on"]["loki"]["condition"] == "service_healthy"
    job = next(j for j in load_yaml(PROMETHEUS)["scrape_configs"] if j["job_name"] == "llm-sre-logs")
    assert not job.get("honor_labels", False)
    assert job["static_configs"][0]["labels"]["service"] == "llm-sre-logs"
    incidents = (REPO / "rules/alerts/incidents.yml").read_text()
    assert incidents.count('"service", "$1", "exported_service", "(.+)"') == 3
    board = json.loads((REPO / "dashboards/llm-sre-incidents.json").read_text())
    (variable,) = [v for v in board["templating"]["list"] if v["name"] == "service"]
    assert variable["query"] == "label_values(llm_sre_log_events_total, exported_service)"


def test_alertmanager_reaches_the_webhook_with_a_mounted_token() -> None:
    config = load_yaml(ALERTMANAGER)
    mounted = {s["target"] for s in compose()["services"]["alertmanager"]["secrets"]}
    hooks = [hook for receiver in config["receivers"] for hook in receiver.get("webhook_configs", [])]
    assert hooks
    for hook in hooks:
        assert_compose_url(hook["url"], "webhook receiver")
        assert hook["url"].endswith("/alertmanager")
        assert hook["http_config"]["authorization"]["credentials_file"] in mounted


def test_llm_sre_services_find_their_peers() -> None:
    services = compose()["services"]
    for name in ("exporter", "logs", "webhook"):
        for variable, value in services[name]["environment"].items():
            if variable.endswith(("_URL", "_HOST")) and value.startswith("http"):
                assert_compose_url(value, f"{name} {variable}")


def _apply_alloy_stages(line: str) -> str | None:
    """The config's stage.drop / stage.replace applied as Alloy does (None = dropped).

    stage.replace substitutes ``replace`` for each capture group of each match; Python's re and
    Alloy's RE2 agree on these expressions (no look-around or back-references).
    """
    (process,) = [b for b in _alloy_components().values() if b.name == "loki.process"]
    for stage in process.blocks:
        pattern = re.compile(stage.attributes["expression"])
        if stage.name == "stage.drop" and pattern.search(line):
            return None
        if stage.name == "stage.replace":
            marker = stage.attributes["replace"]
            line = pattern.sub(lambda m, marker=marker: m.group(0).replace(m.group(1), marker), line)
    return line


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('10.0.0.3:5 - "GET /metrics HTTP/1.1" 200', None),
        ('INFO: 127.0.0.1 - "GET /healthz HTTP/1.1" 200 OK', None),
        ('"GET /api/v1/incidents?page=2 HTTP/1.1" 200', '"GET /api/v1/incidents?page=2 HTTP/1.1" 200'),
        (
            "curl -H 'Authorization: Bearer eyJhbGciOi.abc.def' http://x",
            "curl -H 'Authorization: Bearer [REDACTED:auth]' http://x",
        ),
        ('{"Authorization": "Basic dXNlcjpwYXNz"}', '{"Authorization": "Basic [REDACTED:auth]"}'),
        ("db password=hunter2 host=db", "db password=[REDACTED:secret] host=db"),
        ('{"api_key": "sk-123"}', '{"api_key": "[REDACTED:secret]"}'),
        (
            "connecting to redis://:s3cr3t@redis:6379/0",
            "connecting to redis://:[REDACTED:url-password]@redis:6379/0",
        ),
        ("password reset requested for user 42", "password reset requested for user 42"),
        ("prompt_tokens=512 completion_tokens=40", "prompt_tokens=512 completion_tokens=40"),
    ],
)
def test_alloy_drops_probe_logs_and_masks_credentials(line: str, expected: str | None) -> None:
    assert _apply_alloy_stages(line) == expected

"""`llm-sre compose grafana-token` against a local Grafana speaking the service-account API.

The fake implements the documented endpoints the one-shot uses: basic-auth admin calls
`GET /api/serviceaccounts/search`, `POST /api/serviceaccounts`, `POST /api/serviceaccounts/:id/tokens`,
and a bearer-token `GET /api/annotations` that accepts only the tokens it issued.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from grafana_client.client import GrafanaUnauthorizedError

from llm_sre.cli import main
from llm_sre.grafana_token import ROLE, SERVICE_ACCOUNT, Grafana, ensure_token
from llm_sre.processes import free_port
from tests.fakes import FakeService

ADMIN = ("admin", "pw")


class FakeGrafanaAccounts(FakeService):
    def __init__(self) -> None:
        super().__init__()
        self.accounts: dict[int, dict[str, Any]] = {}
        self.tokens: dict[str, int] = {}  # key -> account id

    def _admin(self, headers: dict[str, str]) -> bool:
        expected = base64.b64encode(":".join(ADMIN).encode()).decode()
        return headers.get("Authorization") == f"Basic {expected}"

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict, Any]:
        parts = urlsplit(path)
        route, query = parts.path.rstrip("/"), parse_qs(parts.query)
        if method == "GET" and route == "/api/health":
            return 200, {}, {"database": "ok"}
        if method == "GET" and route == "/api/annotations":
            token = headers.get("Authorization", "").removeprefix("Bearer ")
            return (200, {}, []) if token in self.tokens else (401, {}, {"message": "Unauthorized"})
        if not self._admin(headers):
            return 401, {}, {"message": "Unauthorized"}
        if method == "GET" and route == "/api/serviceaccounts/search":
            name = query.get("query", [""])[0]
            page = int(query.get("page", ["1"])[0])
            found = [a for a in self.accounts.values() if name in a["name"]] if page == 1 else []
            return 200, {}, {"totalCount": len(found), "serviceAccounts": found, "page": page, "perPage": 100}
        if method == "POST" and route == "/api/serviceaccounts":
            new_id = len(self.accounts) + 1
            self.accounts[new_id] = {"id": new_id, "login": f"sa-{body['name']}", "tokens": 0, **body}
            return 201, {}, self.accounts[new_id]
        if method == "POST" and (match := re.fullmatch(r"/api/serviceaccounts/(\d+)/tokens", route)):
            account = int(match.group(1))
            if account not in self.accounts:
                return 404, {}, {"message": "service account not found"}
            key = f"glsa_{len(self.tokens) + 1:032d}"
            self.tokens[key] = account
            return 200, {}, {"id": len(self.tokens), "name": body["name"], "key": key}
        return 404, {}, {"message": "Not found"}


@pytest.fixture
def grafana() -> FakeGrafanaAccounts:
    with FakeGrafanaAccounts() as fake:
        yield fake  # type: ignore[misc]


def test_creates_account_and_token_then_keeps_a_working_one(
    grafana: FakeGrafanaAccounts, tmp_path: Path
) -> None:
    target = Grafana(grafana.url, *ADMIN)
    token_file = tmp_path / "token" / "grafana_token"
    assert ensure_token(target, token_file) == "created"
    (account,) = grafana.accounts.values()
    assert account["name"] == SERVICE_ACCOUNT and account["role"] == ROLE
    key = token_file.read_text()
    assert key.startswith("glsa_") and grafana.tokens[key] == account["id"]
    assert token_file.stat().st_mode & 0o077 == 0

    assert ensure_token(target, token_file) == "existing"
    assert token_file.read_text() == key and len(grafana.tokens) == 1


def test_replaces_a_token_grafana_no_longer_accepts(grafana: FakeGrafanaAccounts, tmp_path: Path) -> None:
    target = Grafana(grafana.url, *ADMIN)
    token_file = tmp_path / "grafana_token"
    ensure_token(target, token_file)
    grafana.tokens.clear()  # e.g. the Grafana volume was wiped
    assert ensure_token(target, token_file) == "created"
    assert len(grafana.accounts) == 1, "the existing service account is reused"
    assert token_file.read_text() in grafana.tokens


def test_a_preset_token_wins_without_calling_grafana(grafana: FakeGrafanaAccounts, tmp_path: Path) -> None:
    token_file = tmp_path / "grafana_token"
    assert ensure_token(Grafana(grafana.url, *ADMIN), token_file, preset="glsa_mine\n") == "preset"
    assert token_file.read_text() == "glsa_mine"
    assert grafana.requests == []


def run_cli(url: str, password: str, token_file: Path, *extra: str, wait: float = 10) -> int:
    """``llm-sre compose grafana-token`` as compose runs it, with the admin password in a file."""
    password_file = token_file.parent / "grafana_admin_password"
    password_file.parent.mkdir(parents=True, exist_ok=True)
    password_file.write_text(password)
    argv = ["compose", "grafana-token", "--grafana-url", url, "--admin-password-file", str(password_file)]
    return main([*argv, "--token-file", str(token_file), "--wait", str(wait), *extra])


def test_cli_waits_for_grafana_and_writes_the_token(grafana: FakeGrafanaAccounts, tmp_path: Path) -> None:
    empty_preset = tmp_path / "preset"
    empty_preset.write_text("")
    token_file = tmp_path / "out" / "grafana_token"
    assert run_cli(grafana.url, "pw\n", token_file, "--preset-file", str(empty_preset)) == 0
    assert token_file.read_text() in grafana.tokens


def test_wrong_admin_password_leaves_annotations_off_without_failing_the_stack(
    grafana: FakeGrafanaAccounts, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(GrafanaUnauthorizedError):
        ensure_token(Grafana(grafana.url, "admin", "wrong"), tmp_path / "grafana_token")
    token_file = tmp_path / "grafana_token"
    assert run_cli(grafana.url, "wrong", token_file, wait=5) == 0
    assert not token_file.exists()
    assert "annotations stay off" in capsys.readouterr().err


def test_unreachable_grafana_gives_up_after_the_wait(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token_file = tmp_path / "t"
    assert run_cli(f"http://127.0.0.1:{free_port()}", "pw", token_file, wait=0.5) == 0
    assert not token_file.exists()
    assert "annotations stay off" in capsys.readouterr().err

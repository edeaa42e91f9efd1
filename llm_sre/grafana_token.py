"""A Grafana service-account token for the webhook's incident annotations, made at stack start.

Grafana cannot provision service accounts from files, so without this step every new stack
needs a manual trip through the UI before annotations appear. The compose one-shot service
``grafana-token`` runs ``llm-sre compose grafana-token`` once Grafana is healthy: it keeps a token
the user supplied, keeps a previously made token while Grafana still accepts it, and otherwise
creates (or reuses) the service account ``llm-sre-webhook`` with the Editor role and a new token.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from grafana_client import GrafanaApi, TokenAuth
from grafana_client.client import GrafanaClientError

SERVICE_ACCOUNT = "llm-sre-webhook"
# Editor may create and update annotations; nothing the webhook does needs more.
ROLE = "Editor"


@dataclass(frozen=True)
class Grafana:
    """Where Grafana is and how the admin signs in (basic auth, only for this one-time setup)."""

    url: str
    admin_user: str
    admin_password: str

    def admin(self) -> GrafanaApi:
        return GrafanaApi.from_url(self.url, credential=(self.admin_user, self.admin_password), timeout=10)

    def accepts(self, token: str) -> bool:
        """True if ``token`` may read annotations (what the webhook will do with it)."""
        api = GrafanaApi.from_url(self.url, credential=TokenAuth(token), timeout=10)
        try:
            api.annotations.find_annotations(limit=1)
        except GrafanaClientError:
            return False
        return True


def ensure_token(grafana: Grafana, token_file: Path, preset: str = "") -> str:
    """Make ``token_file`` hold a working token; return where it came from.

    ``preset`` (the user's own ``secrets/grafana_token``) always wins. Returns ``"preset"``,
    ``"existing"`` or ``"created"``.
    """
    if preset.strip():
        _write(token_file, preset.strip())
        return "preset"
    if token_file.is_file() and (current := token_file.read_text().strip()) and grafana.accepts(current):
        return "existing"
    admin = grafana.admin()
    found = admin.serviceaccount.search(query=SERVICE_ACCOUNT, perpage=100, page=1)[0]["serviceAccounts"]
    account = next((a for a in found if a["name"] == SERVICE_ACCOUNT), None)
    if account is None:
        account = admin.serviceaccount.create({"name": SERVICE_ACCOUNT, "role": ROLE, "isDisabled": False})
    # Token names must be unique per account; the time tells a rotated token from its predecessor.
    token = admin.serviceaccount.create_token(
        account["id"], {"name": f"{SERVICE_ACCOUNT}-{int(time.time())}"}
    )
    _write(token_file, token["key"])
    return "created"


def _write(path: Path, token: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(token)
    path.chmod(0o600)  # read by the webhook, which runs as the same user in the same image

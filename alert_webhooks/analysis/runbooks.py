"""The shipped runbook pack: YAML files under ``alert_webhooks/runbooks/``, one per category.

Runbooks are data, not code, so operators can read, diff and extend them; they are validated
with the same model the knowledge API uses and seeded into the knowledge base at start.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from alert_webhooks.analysis.knowledge import KnowledgeInput

PACK_DIR = Path(__file__).resolve().parent.parent / "runbooks"


def load_runbooks(directory: Path = PACK_DIR) -> list[KnowledgeInput]:
    """Every runbook in ``directory``; a malformed file fails loudly rather than shipping half a pack."""
    docs: list[KnowledgeInput] = []
    for path in sorted(directory.glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text()) or []:
            docs.append(KnowledgeInput.model_validate(entry))
    return docs

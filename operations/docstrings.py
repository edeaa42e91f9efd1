"""Draft docstrings for routes that have none, with the local model; written to a file for review.

The design's rule for the assistant model holds here: it reads code and proposes, it never edits.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute

from alert_webhooks.analysis.factory import build_llm
from alert_webhooks.settings import Settings
from exporters.redact import redact

DOCSTRING_SCHEMA = {
    "type": "object", "properties": {"docstring": {"type": "string"}}, "required": ["docstring"],
}
PROMPT = ("Write a one- to three-line Python docstring for this FastAPI route handler. Say why it exists "
          "and what the caller gets, not how it works. Answer as JSON: {\"docstring\": \"...\"}.\n\n")


def undocumented_routes(app: Any) -> list[APIRoute]:
    return [r for r in app.routes if isinstance(r, APIRoute) and not (r.endpoint.__doc__ or "").strip()]


async def suggest_docstrings(app: Any, out: Path) -> int:
    """Ask the local model (the analyst's backend settings) for each missing route docstring and
    write the drafts to ``out``. Code is never edited: a person reviews and pastes."""
    routes = undocumented_routes(app)
    # Drafting is not an incident: give the model a minute, not the analyst's 5 s deadline.
    llm = build_llm(Settings().model_copy(update={"analyst_deadline_seconds": 60.0}))
    parts = [f"# Docstring suggestions ({len(routes)} routes without one)\n",
             "Drafts from the local model; review before pasting. No code was changed.\n"]
    for route in routes:
        fn = route.endpoint
        source = redact(inspect.getsource(fn))[:4000]
        where = f"{inspect.getsourcefile(fn)}:{inspect.getsourcelines(fn)[1]}"
        methods = ",".join(sorted(route.methods or ()))
        try:
            if llm is None:
                raise RuntimeError("LLM_SRE_ANALYST_BACKEND=none")
            done = await asyncio.wait_for(llm.complete(
                [{"role": "user", "content": PROMPT + source}], DOCSTRING_SCHEMA), 60)
            try:
                draft = str(json.loads(done.content)["docstring"])
            except (ValueError, KeyError, TypeError):
                draft = done.content  # unconstrained servers answer in plain text
            body = f'```python\n"""{redact(draft.strip())}"""\n```'
        except Exception as exc:  # one failed draft must not lose the others
            body = f"(no suggestion: {type(exc).__name__}: {redact(str(exc))[:200]})"
        parts.append(f"## {methods} {route.path} — `{fn.__module__}.{fn.__qualname__}` ({where})\n\n{body}\n")
    out.write_text("\n".join(parts))
    return len(routes)

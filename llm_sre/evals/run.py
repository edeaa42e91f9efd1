"""Replay cases through one analyst configuration and judge each answer as the service would.

Nothing is delivered and nothing is archived: every configuration gets its own throwaway data
directory (knowledge base seeded with the shipped runbooks) and its own metrics registry, which
is also where the per-case counts (fabricated citations) are read from.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry

from alert_webhooks.analysis.analyst import IncidentAnalyst
from alert_webhooks.analysis.factory import build_analyst
from alert_webhooks.settings import Settings
from llm_sre.evals.cases import CaseError, load

FABRICATED = "llm_sre_analyst_fabricated_citations_total"
PROBE_SECONDS = 3.0


class ModelDown(RuntimeError):
    """The model server did not answer its health probe: the run stops before the first case."""


@dataclass(frozen=True)
class Config:
    """One analyst configuration: ``backend`` none (deterministic), ollama or openai."""

    label: str
    settings: Settings

    @property
    def uses_llm(self) -> bool:
        return self.settings.analyst_backend != "none"


@dataclass(frozen=True)
class Outcome:
    case: str
    config: str
    outcome: str  # accepted | rejected | deterministic | error
    reason: str | None = None  # the fallback reason, or the case file's error
    category: str | None = None
    deterministic_category: str | None = None
    expected_category: str | None = None
    grounded_ratio: float | None = None
    fabricated: int = 0
    latency_seconds: float = 0.0
    tokens_in: int | None = None
    tokens_out: int | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def probe(config: Config) -> None:
    """A clear error in seconds when the model server is down, instead of a deadline per case."""
    s = config.settings
    if s.analyst_backend == "ollama":
        url = f"{s.ollama_host.rstrip('/')}/api/version"
    elif s.analyst_backend == "openai":
        url = f"{(s.openai_base_url or '').rstrip('/')}/models"
    else:
        return
    try:
        httpx.get(url, timeout=PROBE_SECONDS).raise_for_status()
    except httpx.HTTPError as exc:
        raise ModelDown(
            f"{config.label}: model server at {url} is not answering ({type(exc).__name__})"
        ) from exc


@contextmanager
def analyst_for(config: Config) -> Iterator[tuple[IncidentAnalyst, CollectorRegistry]]:
    with tempfile.TemporaryDirectory(prefix="llm-sre-eval-") as tmp:
        settings = config.settings.model_copy(
            update={"data_dir": Path(tmp), "prometheus_url": None, "loki_url": None}
        )
        registry = CollectorRegistry()
        analyst = build_analyst(settings, registry=registry, use_llm=config.uses_llm)
        try:
            yield analyst, registry
        finally:
            analyst.knowledge.close()
            if analyst.archive is not None:
                analyst.archive.close()


async def evaluate(
    config: Config, folders: list[Path], progress: Callable[[int, int, str], None] = lambda i, n, name: None
) -> list[Outcome]:
    """Every case in ``folders`` through ``config``; a broken case is an ``error`` outcome."""
    outcomes: list[Outcome] = []
    with analyst_for(config) as (analyst, registry):
        for i, folder in enumerate(folders):
            progress(i, len(folders), folder.name)
            try:
                case = load(folder)
            except CaseError as exc:
                outcomes.append(Outcome(folder.name, config.label, "error", str(exc)))
                continue
            before = registry.get_sample_value(FABRICATED) or 0.0
            first = await analyst.first(
                f"eval-{case.name}", case.notification, logs=case.logs, extra_metrics=case.metrics
            )
            started = time.perf_counter()
            final = await analyst.conclude(first)
            elapsed = time.perf_counter() - started
            g = final.grounding
            outcome, reason = _judged(config, g.fallback_reason)
            outcomes.append(
                Outcome(
                    case.name,
                    config.label,
                    outcome,
                    reason,
                    final.category,
                    first.category,
                    case.expected_category,
                    g.rejected_ratio if outcome == "rejected" else g.grounded_ratio,
                    int((registry.get_sample_value(FABRICATED) or 0.0) - before),
                    round(elapsed, 3),
                    g.tokens_in,
                    g.tokens_out,
                )
            )
        progress(len(folders), len(folders), "")
    return outcomes


def _judged(config: Config, fallback: str | None) -> tuple[str, str | None]:
    if not config.uses_llm:
        return "deterministic", None
    return ("accepted", None) if fallback is None else ("rejected", fallback)

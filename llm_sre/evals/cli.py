"""``llm-sre eval [--cases DIR] [--model M ...] [--no-llm] [--compare] [--shadow] [--json]``.

Replays case folders against the deterministic analyst or a model named on the command line and
prints, per case and in total: accepted or rejected (with the reason), the grounded share of the
answer's sentences, fabricated citations caught, the category against the deterministic one (and
the case's expected one), latency and tokens. ``--compare`` runs two configurations on the same
cases — the deterministic analyst and the model, or two models — and marks where they differ.
``--shadow`` runs nothing: it reads the service's store and compares what shadow mode recorded
on live incidents, primary beside shadow. Nothing is delivered or archived. See docs/analyst.md
("Evaluating a model").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from alert_webhooks.analysis.factory import with_model
from alert_webhooks.service import STORE_FILE, build_store
from alert_webhooks.settings import Settings
from llm_sre.evals.cases import SHIPPED, folders
from llm_sre.evals.run import Config, ModelDown, Outcome, evaluate, probe
from llm_sre.evals.stored import shadow_runs


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="replay incident cases against the analyst or a model; deliver nothing",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    parser.add_argument(
        "--cases",
        type=Path,
        default=SHIPPED,
        metavar="DIR",
        help="folder of case folders (<name>/case.yaml); default: the shipped set",
    )
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME",
        help="model to evaluate (repeat once with --compare for two models)",
    )
    parser.add_argument("--backend", choices=("ollama", "openai"), help="default: LLM_SRE_ANALYST_BACKEND")
    parser.add_argument("--host", help="model server: Ollama host or OpenAI-compatible base URL")
    parser.add_argument("--deadline", type=float, metavar="SECONDS", help="per-answer deadline")
    parser.add_argument("--no-llm", action="store_true", help="the deterministic analyst only")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="two configurations side by side: deterministic vs the model, or two --model",
    )
    parser.add_argument(
        "--shadow",
        action="store_true",
        help="compare the primary and shadow trials stored on live incidents (the service's store)",
    )
    parser.add_argument(
        "--limit", type=int, default=200, metavar="N", help="--shadow: the newest N incidents (default 200)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run)


def configs(args: argparse.Namespace) -> list[Config]:
    base = Settings()  # read now: the environment may differ from the process-wide cached one
    backend = args.backend or (base.analyst_backend if base.analyst_backend != "none" else "ollama")
    deterministic = Config("deterministic", base.model_copy(update={"analyst_backend": "none"}))

    def model(name: str | None) -> Config:
        settings, label = with_model(base, backend, name, args.host)
        if args.deadline:
            settings = settings.model_copy(update={"analyst_deadline_seconds": args.deadline})
        return Config(label, settings)

    if args.no_llm:
        return [deterministic]
    models = [model(n) for n in args.model] or [model(None)]
    if args.compare:
        return models[:2] if len(models) > 1 else [deterministic, models[0]]
    return models[:1]


def _progress(i: int, n: int, name: str) -> None:
    if sys.stderr.isatty() or n >= 10:
        end = "\n" if i == n else ""
        print(f"\r[{i}/{n}] {name[:50]:<50}", end=end, file=sys.stderr, flush=True)


def totals(outcomes: Sequence[Outcome]) -> dict[str, object]:
    judged = [o for o in outcomes if o.outcome in ("accepted", "rejected", "deterministic")]
    ratios = [o.grounded_ratio for o in judged if o.grounded_ratio is not None]
    labelled = [o for o in judged if o.expected_category]
    return {
        "cases": len(outcomes),
        "errors": sum(o.outcome == "error" for o in outcomes),
        "accepted": sum(o.outcome == "accepted" for o in outcomes),
        "rejected": sum(o.outcome == "rejected" for o in outcomes),
        "mean_grounded_ratio": round(sum(ratios) / len(ratios), 3) if ratios else None,
        "fabricated": sum(o.fabricated for o in outcomes),
        "category_as_deterministic": sum(o.category == o.deterministic_category for o in judged),
        "category_as_expected": f"{sum(o.category == o.expected_category for o in labelled)}/{len(labelled)}",
        "latency_seconds": round(sum(o.latency_seconds for o in judged), 3),
        "tokens_in": sum(o.tokens_in or 0 for o in judged),
        "tokens_out": sum(o.tokens_out or 0 for o in judged),
    }


COLUMNS = (
    "case",
    "config",
    "outcome",
    "reason",
    "category",
    "deterministic_category",
    "grounded_ratio",
    "fabricated",
    "latency_seconds",
    "tokens_in",
    "tokens_out",
)
HEADERS = (
    "case",
    "config",
    "outcome",
    "reason",
    "category",
    "determ.",
    "grounded",
    "fabr.",
    "latency",
    "tok in",
    "tok out",
)


def table(rows: Sequence[Sequence[object]], headers: Sequence[str]) -> str:
    cells = [[("-" if v is None else str(v)) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = lambda values: "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def differences(runs: Sequence[list[Outcome]]) -> list[str]:
    """Cases where the two configurations disagree on outcome or category."""
    if len(runs) < 2:
        return []
    return [a.case for a, b in zip(*runs, strict=True) if (a.outcome, a.category) != (b.outcome, b.category)]


def _stored(args: argparse.Namespace) -> tuple[list[str], list[list[Outcome]]] | None:
    if args.limit < 1:
        print("llm-sre eval: --limit must be at least 1", file=sys.stderr)
        return None
    settings = Settings()
    if settings.store_backend == "sqlite" and not (settings.data_dir / STORE_FILE).is_file():
        print(f"llm-sre eval: no service store at {settings.data_dir / STORE_FILE}", file=sys.stderr)
        return None
    try:
        store = build_store(settings)
    except Exception as exc:  # no store file yet, Redis away: say so, no traceback
        print(f"llm-sre eval: cannot open the service's store: {exc}", file=sys.stderr)
        return None
    try:
        return shadow_runs(store, args.limit)
    finally:
        store.close()


def run(args: argparse.Namespace) -> int:
    if args.shadow:
        stored = _stored(args)
        if stored is None:
            return 2
        return report(args, *stored)
    if not args.cases.is_dir():
        print(f"llm-sre eval: {args.cases} is not a folder of cases", file=sys.stderr)
        return 2
    cases = folders(args.cases)
    if not cases:
        print(f"llm-sre eval: no <name>/case.yaml under {args.cases}", file=sys.stderr)
        return 2
    try:
        chosen = configs(args)
        for config in chosen:
            probe(config)
    except (ModelDown, ValueError) as exc:
        print(f"llm-sre eval: {exc}", file=sys.stderr)
        return 2
    runs = [asyncio.run(evaluate(config, cases, _progress)) for config in chosen]
    return report(args, [c.label for c in chosen], runs)


def report(args: argparse.Namespace, labels: list[str], runs: list[list[Outcome]]) -> int:
    """Print the runs per case and in total, as a table or ``--json``."""
    out = {
        "configs": [
            {"config": label, "totals": totals(outcomes), "cases": [o.as_dict() for o in outcomes]}
            for label, outcomes in zip(labels, runs, strict=True)
        ],
        "differ": differences(runs),
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        rows = [[getattr(o, c) for c in COLUMNS] for outcomes in runs for o in outcomes]
        print(table(rows, HEADERS))
        print()
        keys = list(totals([]))
        print(
            table(
                [[c["config"], *(c["totals"][k] for k in keys)] for c in out["configs"]], ["config", *keys]
            )
        )
        if args.compare or args.shadow:
            print(f"\ndiffer: {', '.join(out['differ']) or 'none'}")
    return 0

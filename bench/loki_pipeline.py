"""The Loki pipeline under faults, with figures, and its cost on the app thread against today's handler.

    .venv/bin/python bench/loki_pipeline.py [--records 20000] [--down-seconds 20] [--rate 5000]

Everything runs against the fake Loki of the tests (``tests/logs/loki_receiver.py``: Loki's push
API, status codes and refusals) on loopback, in one run:

1. **overhead** - app-thread time per ``logger.info`` through the handler of commit 1a8a0b6
   (loaded from ``git show``) and through the current handler, Loki up (in its own process),
   interleaved rounds, best of each, each round shipped by ``flush`` outside the timing; ratio
   target ≤ 1.2×. Sampling is on but calm (the normal case).
2. **Loki down** for ``--down-seconds`` while the app logs ``--rate`` records/s (10 % DEBUG,
   60 % INFO, 20 % WARNING, 10 % ERROR), then back while the app keeps logging: WARNING/ERROR
   lost (target 0), order kept, time until the spill is drained, CPU and peak RSS.
3. **disk budget** - Loki down, a 2 MB spill budget: drops by level, and whether any level was
   kept after a more important one was first refused (target: never).
4. **kill -9** - a child logging at ``--rate`` with Loki down is killed; records lost against
   what the memory buffer can hold.
5. **100× spike** - ``--spike-base`` records/s, then 100 times that, then calm again: when
   sampling engages and relaxes, what was kept, CPU per second of the app process.

Use ``--down-seconds 600`` for the issue's ten-minute outage (the spill then holds ~0.8 GB).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import resource
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from types import ModuleType

import httpx
from prometheus_client import CollectorRegistry

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from exporters.loki import LokiHandler, LokiOptions  # noqa: E402
from exporters.sampling import SamplingPolicy  # noqa: E402
from exporters.spill import Budget, Segments, writer_dirs  # noqa: E402
from llm_sre.processes import free_port, wait_until  # noqa: E402
from tests.logs.loki_receiver import LokiReceiver  # noqa: E402

BASELINE_COMMIT = "1a8a0b6"
LABELS = {"service": "bench", "env": "bench"}
MIX = [logging.DEBUG] * 1 + [logging.INFO] * 6 + [logging.WARNING] * 2 + [logging.ERROR] * 1
ROUTE = {"route": "/v1/chat", "model": "qwen2.5:7b", "latency_ms": 412}


def todays_handler_module() -> ModuleType:
    """exporters/loki.py as of the baseline commit, importable beside the current one."""
    source = subprocess.check_output(["git", "show", f"{BASELINE_COMMIT}:exporters/loki.py"], cwd=REPO)
    name = f"loki_{BASELINE_COMMIT}"
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    exec(compile(source, f"{name}.py", "exec"), module.__dict__)
    return module


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def logger_with(handler: logging.Handler, name: str) -> logging.Logger:
    log = logging.getLogger(name)
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.DEBUG)
    return log


class ReceiverProcess:
    """The fake Loki in its own process, so its decoding does not compete for this one's GIL."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        code = ("import sys, time; from tests.logs.loki_receiver import LokiReceiver; "
                "LokiReceiver(int(sys.argv[1])).start(); time.sleep(10**6)")
        self.proc = subprocess.Popen([sys.executable, "-c", code, str(self.port)], cwd=REPO)
        wait_until(lambda: httpx.get(self.url + "/ready").status_code == 200, 30, what="fake Loki")

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


def overhead(records: int, rounds: int, tmp: Path) -> None:
    old = todays_handler_module()
    receiver = ReceiverProcess()
    calm = SamplingPolicy(min_rate=1e12)  # never a spike: the normal case
    try:
        # The worker waits for flush(): the timed loop is the app thread's own cost, not the GIL
        # contention of a shipping thread that both handlers have.
        idle = {"queue_size": 10**7, "batch_size": 10**7, "batch_wait": 3600.0}
        handlers = {
            "today (1a8a0b6)": old.LokiHandler(receiver.url, LABELS, old.LokiOptions(**idle),
                                               registry=CollectorRegistry()),
            "fallback chain": LokiHandler(receiver.url, LABELS, LokiOptions(
                **idle, memory_bytes=1 << 40, spill_dir=tmp / "overhead", sampling=calm),
                registry=CollectorRegistry()),
        }
        best = {name: float("inf") for name in handlers}
        for r in range(rounds):
            for name, handler in handlers.items():
                log = logger_with(handler, f"bench.overhead.{r}.{len(name)}")
                start = time.perf_counter()
                for i in range(records):
                    log.info("request %d done", i, extra=ROUTE)
                best[name] = min(best[name], (time.perf_counter() - start) / records)
                handler.flush()
        for handler in handlers.values():
            handler.close()
    finally:
        receiver.stop()
    base, ours = best.values()
    print(f"1. overhead on the app thread (Loki up, best of {rounds} rounds of {records} records)")
    for name, value in best.items():
        print(f"   {name:<18} {value * 1e6:6.2f} µs/record")
    print(f"   ratio {ours / base:.2f}x (target ≤ 1.2x)")


def paced(log: logging.Logger, rate: int, seconds: float, start_index: int = 0,
          levels: list[int] | None = None) -> int:
    """Log ``rate`` records/s for ``seconds`` in 10 ms slices; returns the next index."""
    levels = levels or MIX
    per_slice = max(1, rate // 100)
    i = start_index
    began = time.monotonic()
    while (elapsed := time.monotonic() - began) < seconds:
        for _ in range(per_slice):
            log.log(levels[i % len(levels)], "event %d", i, extra=ROUTE)
            i += 1
        ahead = (i - start_index) / rate - elapsed
        if ahead > 0:
            time.sleep(ahead)
    return i


def loki_down(rate: int, down: float, tmp: Path, drain_rate: float) -> None:
    receiver = LokiReceiver(free_port())
    registry = CollectorRegistry()
    options = LokiOptions(spill_dir=tmp / "down", dlq_dir=tmp / "dlq", drain_bytes_per_second=drain_rate)
    handler = LokiHandler(receiver.url, LABELS, options, registry=registry)
    log = logger_with(handler, "bench.down")
    cpu0, t0 = cpu(), time.monotonic()
    n = paced(log, rate, down)
    achieved = n / (time.monotonic() - t0)
    spilled_mb = handler.store.bytes / 1e6
    receiver.start()
    up = time.monotonic()
    n = paced(log, rate, 3.0, n)  # the app keeps logging while the spill drains
    try:
        wait_until(lambda: not handler._spilling, max(120.0, down * 4), interval=0.5, what="spill drained")
        drained = time.monotonic() - up
        handler.flush()
        handler.close()
    finally:
        receiver.stop()
    used_cpu, wall = cpu() - cpu0, time.monotonic() - t0
    got = [json.loads(line) for line in receiver.lines()]
    numbers = [int(r["message"].split()[1]) for r in got]
    serious = {i for i in range(n) if MIX[i % len(MIX)] >= logging.WARNING}
    lost = len(serious - set(numbers))
    sampled = sum(registry.get_sample_value("llm_sre_loki_records_sampled_out_total", {"level": lv}) or 0
                  for lv in ("debug", "info"))
    print(f"2. Loki down {down:.0f} s at {rate} records/s (achieved {achieved:.0f}/s), then back "
          f"({n} records, {spilled_mb:.1f} MB spilled)")
    print(f"   WARNING/ERROR lost: {lost} of {len(serious)} (target 0); all records delivered: "
          f"{len(set(numbers))} of {n} ({sampled:.0f} sampled out); in order: {numbers == sorted(numbers)}")
    print(f"   spill drained {drained:.1f} s after Loki came back (drain limit {drain_rate / 1e6:.1f} MB/s); "
          f"CPU {used_cpu / wall * 100:.0f}% of one core; peak RSS {peak_rss_mb():.0f} MB")


def disk_budget(tmp: Path) -> None:
    receiver = LokiReceiver(free_port())
    registry = CollectorRegistry()
    budget = Budget(max_bytes=2_000_000, hard_bytes=2_500_000, min_free_bytes=0)
    options = LokiOptions(spill_dir=tmp / "budget", budget=budget, sampling=None, batch_wait=0.05)
    handler = LokiHandler(receiver.url, LABELS, options, registry=registry)
    log = logger_with(handler, "bench.budget")
    levels = [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR]
    total = 40_000
    for i in range(total):
        log.log(levels[i % 4], "event %d", i, extra=ROUTE)
        if i % 500 == 499:
            wait_until(lambda: not handler._buffer, 30, what="buffer spilled")
    handler.close()
    kept: set[int] = set()
    for writer in writer_dirs(handler.store.stream_dir):
        batch, _ = Segments(writer).read(10**9, 1 << 40)
        kept |= {int(json.loads(e.line)["message"].split()[1]) for e in batch}
    print(f"3. disk budget 2.0 MB (hard 2.5 MB), Loki down, {total} records, 4 levels in turn")
    violations = 0
    for idx, level in enumerate(levels):
        name = logging.getLevelName(level).lower()
        drops = {reason: registry.get_sample_value("llm_sre_loki_records_dropped_total",
                                                   {"reason": reason, "level": name}) or 0
                 for reason in ("disk_budget", "disk_hard_limit")}
        refused = [i for i in range(idx, total, 4) if i not in kept]
        first = refused[0] if refused else None
        if first is not None:  # a less important level kept after this one was first refused?
            violations += sum(1 for i in kept if i > first and levels[i % 4] < level)
        print(f"   {name:<8} dropped {drops['disk_budget'] + drops['disk_hard_limit']:6.0f} "
              f"(first at record {first})")
    print(f"   lower-priority records kept after a higher one was refused: {violations} (target 0)")


KILL_CHILD = textwrap.dedent("""
    import logging, pathlib, sys, time
    from exporters.loki import LokiHandler, LokiOptions
    handler = LokiHandler(sys.argv[1], {"service": "killed", "env": "bench"},
                          LokiOptions(spill_dir=pathlib.Path(sys.argv[2]), sampling=None))
    log = logging.getLogger("app"); log.addHandler(handler); log.setLevel(logging.INFO)
    rate, i, began = int(sys.argv[3]), 0, time.monotonic()
    while True:
        for _ in range(rate // 100):
            log.info("record %d", i); i += 1
        print(i, flush=True)
        time.sleep(max(0.0, i / rate - (time.monotonic() - began)))
""")


def kill_9(rate: int, tmp: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    child = subprocess.Popen([sys.executable, "-c", KILL_CHILD, url, str(tmp / "killed"), str(rate)],
                             stdout=subprocess.PIPE, text=True, cwd=REPO)
    assert child.stdout is not None
    emitted = 0
    began = time.monotonic()
    for line in child.stdout:
        emitted = int(line)
        if time.monotonic() - began > 8 and emitted > rate * 3:
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    on_disk = 0
    for stream in (tmp / "killed").iterdir():
        for writer in writer_dirs(stream):
            on_disk += len(Segments(writer).read(10**9, 1 << 40)[0])
    options = LokiOptions()
    print(f"4. kill -9 while logging {rate} records/s with Loki down")
    print(f"   emitted ≥ {emitted}, on disk {on_disk}, lost ≤ {max(0, emitted - on_disk)} "
          f"(≈ {max(0, emitted - on_disk) / rate:.2f} s of logs; bound: LOKI_BATCH_WAIT_SECONDS = "
          f"{options.batch_wait:.0f} s of records, never more than LOKI_MEMORY_BYTES = "
          f"{options.memory_bytes >> 20} MiB)")


def spike(tmp: Path, base: int) -> None:
    receiver = LokiReceiver(free_port()).start()
    registry = CollectorRegistry()
    policy = SamplingPolicy(min_rate=base / 2, calm_seconds=5, warmup_seconds=4)
    handler = LokiHandler(receiver.url, LABELS, LokiOptions(spill_dir=tmp / "spike", sampling=policy),
                          registry=registry)
    log = logger_with(handler, "bench.spike")
    timeline: list[tuple[str, float, float, float]] = []  # phase, second, rate, cpu share
    stop = threading.Event()
    phase = ["baseline"]

    def watch() -> None:
        began, last_cpu = time.monotonic(), cpu()
        while not stop.wait(1.0):
            now_cpu = cpu()
            timeline.append((phase[0], time.monotonic() - began, handler.sampler.rate, now_cpu - last_cpu))
            last_cpu = now_cpu

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    info = [logging.INFO]
    i = paced(log, base, 6, 0, info)
    phase[0] = "spike"
    spike_start = i
    i = paced(log, base * 100, 6, i, info)
    spike_rate = (i - spike_start) / 6
    phase[0] = "calm"
    i = paced(log, base, 14, i, info)
    stop.set()
    watcher.join()
    handler.close()
    receiver.stop()
    began = timeline[0][1] - 1.0
    engaged = next((t for p, t, r, _ in timeline if p == "spike" and r < 1.0), None)
    relaxed = next((t for p, t, r, _ in timeline if p == "calm" and r == 1.0), None)
    spike_cpu = max(c for p, _, _, c in timeline if p == "spike")
    print(f"5. 100x spike: {base} records/s for 6 s, {base * 100}/s for 6 s, {base}/s for 14 s (INFO)")
    print("   second  phase     rate    cpu")
    for p, t, r, c in timeline:
        print(f"   {t - began:5.0f}   {p:<8} {r:6.3f} {c * 100:5.0f}%")
    def second(t: float | None) -> str:
        return "never" if t is None else f"second {t - began:.0f}"

    print(f"   spike achieved {spike_rate:.0f} records/s; sampling engaged at {second(engaged)} (spike began "
          f"at second 6), back to 1.0 at {second(relaxed)}; peak CPU {spike_cpu * 100:.0f}% of one core; "
          f"kept {len(receiver.entries)} of {i}; peak RSS {peak_rss_mb():.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=int, default=5_000)
    parser.add_argument("--down-seconds", type=float, default=20.0)
    parser.add_argument("--drain-rate", type=float, default=4_000_000,
                        help="bytes/s while draining the spill")
    parser.add_argument("--spike-base", type=int, default=20,
                        help="records/s before and after the 100x spike")
    parser.add_argument("--only", choices=("overhead", "down", "budget", "kill", "spike"), default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        steps = {
            "overhead": lambda: overhead(args.records, args.rounds, tmp),
            "down": lambda: loki_down(args.rate, args.down_seconds, tmp, args.drain_rate),
            "budget": lambda: disk_budget(tmp),
            "kill": lambda: kill_9(args.rate, tmp),
            "spike": lambda: spike(tmp, args.spike_base),
        }
        for name, step in steps.items():
            if args.only in (None, name):
                step()


if __name__ == "__main__":
    main()

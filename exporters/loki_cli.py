"""``llm-sre logs replay`` and ``llm-sre logs dlq list|retry|drop``: the spill and dead letters by hand.

Replay is idempotent in two layers: each writer directory's committed offsets advance only after
Loki accepted a batch, so a second run starts where the first stopped; and the one batch that
may have landed just before an interruption is sent again, which Loki drops because it ignores
an entry identical (timestamp and line) to one already in the stream. ``--since`` replays do
not commit (a skipped older record must stay replayable), so they lean on that rule alone.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import httpx

from exporters.dlq import CAUSES, DeadLetters
from exporters.loki import basic_auth
from exporters.loki_push import Entry, Outcome, Pusher
from exporters.settings import ExporterSettings, get_settings
from exporters.spill import Segments, try_lock, writer_dirs

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def register(sub: Any) -> None:
    replay = sub.add_parser(
        "replay", help="push spilled log segments to Loki (idempotent)",
        description="Push the segments under DIR (LOKI_SPILL_DIR, or one stream's directory) to Loki, "
        "oldest first, with their original timestamps. Directories of running processes are skipped "
        "(their handler drains them). Safe to interrupt and run again: nothing is sent twice that "
        "Loki would keep twice.")
    replay.add_argument("dir", type=Path, help="spill directory")
    replay.add_argument("--to", default=None, metavar="URL", help="Loki base URL (default LOKI_URL)")
    replay.add_argument("--since", default=None, metavar="T",
                        help="only records at or after T: RFC 3339, epoch seconds, or an age (30m, 2h, 1d)")
    replay.add_argument("--dry-run", action="store_true", help="count what would be sent; send nothing")
    replay.add_argument("--batch-size", type=int, default=1000)
    replay.set_defaults(func=_replay)

    dlq = sub.add_parser("dlq", help="list, retry or drop Loki dead letters by cause",
                         description="Dead letters are batches Loki refused for a reason a plain retry "
                         "would not fix; they are kept by cause under LOKI_DLQ_DIR.")
    dlq_sub = dlq.add_subparsers(dest="dlq_command", metavar="ACTION", required=True)
    for name, text in (("list", "counts by cause"), ("retry", "push again; re-file what fails"),
                       ("drop", "delete dead letters")):
        p = dlq_sub.add_parser(name, help=text)
        p.add_argument("--dir", type=Path, default=None, help="dead-letter directory (default LOKI_DLQ_DIR)")
        if name != "list":
            p.add_argument("--cause", choices=CAUSES, default=None, help="only this cause")
        if name == "retry":
            p.add_argument("--to", default=None, metavar="URL", help="Loki base URL (default LOKI_URL)")
        if name == "drop":
            p.add_argument("--all", action="store_true", help="drop every cause (needed without --cause)")
        p.set_defaults(func=_dlq)


def parse_since(text: str, now: float | None = None) -> int:
    """``--since`` as epoch nanoseconds; ValueError with the accepted forms otherwise."""
    now = time.time() if now is None else now
    match = _DURATION.match(text.strip())
    if match:
        return int((now - float(match.group(1)) * _UNIT[match.group(2)]) * 1e9)
    try:
        return int(float(text) * 1e9)
    except ValueError:
        pass
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1e9)
    except ValueError:
        raise ValueError(f"--since {text!r}: use RFC 3339, epoch seconds, or an age like 30m") from None


@dataclass
class ReplayReport:
    sent: int = 0
    skipped: int = 0
    rejected: int = 0
    busy: int = 0  # writer directories of running processes
    dry_run: bool = False

    def line(self) -> str:
        sent = "would send" if self.dry_run else "sent"
        return (f"{sent} {self.sent}, skipped {self.skipped}, rejected {self.rejected} (dead letters)"
                + (f", {self.busy} directories in use by a running process" if self.busy else ""))


class Replayer:
    """Replays spill directories through a :class:`Pusher` per stream; parks what Loki refuses."""

    def __init__(self, client: httpx.Client, url: str | None, dead_letters: DeadLetters, *,
                 tenant: str | None = None, since_ns: int = 0, dry_run: bool = False, batch_size: int = 1000,
                 out: TextIO | None = None) -> None:
        self.client, self.url, self.tenant = client, url, tenant
        self.dead_letters = dead_letters
        self.since_ns, self.dry_run, self.batch_size = since_ns, dry_run, batch_size
        self.out = out or sys.stderr  # progress; the summary goes to stdout
        self.report = ReplayReport(dry_run=dry_run)

    def run(self, root: Path) -> ReplayReport:
        single = (root / "labels.json").exists()
        streams = [root] if single else sorted(p.parent for p in root.glob("*/labels.json"))
        for stream_dir in streams:
            labels = json.loads((stream_dir / "labels.json").read_text())
            for writer in writer_dirs(stream_dir):
                lock = try_lock(writer)
                if lock is None:
                    self.report.busy += 1
                    continue
                with lock:
                    self._writer(labels, writer)
        return self.report

    def _writer(self, labels: Mapping[str, str], path: Path) -> None:
        segments = Segments(path)
        pusher = Pusher(self.client, self.url or "", labels, tenant=self.tenant)
        name = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        total = segments.bytes
        done = 0
        commit = not self.dry_run and not self.since_ns
        position = None
        while True:
            batch, end = segments.read(self.batch_size, 1 << 20, after=None if commit else position)
            if end is None or end == position:
                break
            position = end
            wanted = [e for e in batch if int(e.ns) >= self.since_ns]
            self.report.skipped += len(batch) - len(wanted)
            if wanted and not self.dry_run:
                outcome = pusher.push(wanted)
                if outcome.retry is not None:
                    failure = outcome.retry
                    raise SystemExit(f"Loki unavailable ({failure.cause.value}: {failure.detail}); "
                                     f"stopped after {self.report.sent} records - run again later")
                self._settle(labels, outcome)
            elif wanted:
                self.report.sent += len(wanted)
            if commit:
                segments.commit(end)
            done += sum(len(e.line) for e in batch)
            print(f"{name} {path.name}: {min(done, total)}/{total} bytes", file=self.out, flush=True)
        self.report.skipped += segments.stats.torn + segments.stats.corrupt
        segments.close()
        if commit and segments.empty():
            shutil.rmtree(path, ignore_errors=True)  # fully delivered: nothing left to adopt

    def _settle(self, labels: Mapping[str, str], outcome: Outcome) -> None:
        self.report.sent += outcome.sent
        for entries, failure in outcome.parked:
            self.dead_letters.park(labels, entries, failure)
            self.report.rejected += len(entries)
            print(f"rejected {len(entries)} records ({failure.cause.value}): {failure.detail}", file=self.out)


def _client(settings: ExporterSettings) -> httpx.Client:
    return httpx.Client(timeout=settings.loki_timeout_seconds, auth=basic_auth(settings))


def _dlq_dir(args: argparse.Namespace, settings: ExporterSettings) -> Path:
    return args.dir or settings.loki_dlq_dir or settings.data_dir / "loki-dlq"


def _url(args: argparse.Namespace, settings: ExporterSettings) -> str:
    url = args.to or settings.loki_url
    if not url:
        raise SystemExit("no Loki URL: pass --to URL or set LOKI_URL")
    return url


def _replay(args: argparse.Namespace) -> int:
    settings = get_settings()
    if not args.dir.is_dir():
        raise SystemExit(f"{args.dir}: not a directory")
    try:
        since = parse_since(args.since) if args.since else 0
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    url = None if args.dry_run else _url(args, settings)
    dead = DeadLetters(settings.loki_dlq_dir or settings.data_dir / "loki-dlq")
    with _client(settings) as client:
        replayer = Replayer(client, url, dead, tenant=settings.loki_tenant, since_ns=since,
                            dry_run=args.dry_run, batch_size=args.batch_size)
        report = replayer.run(args.dir)
    print(report.line())
    return 0


def _dlq(args: argparse.Namespace) -> int:
    settings = get_settings()
    dead = DeadLetters(_dlq_dir(args, settings))
    if args.dlq_command == "list":
        counts = dead.counts()
        for cause, (files, records) in sorted(counts.items()):
            print(f"{cause:<16} {files:>6} batches {records:>9} records")
        print(f"{'total':<16} {sum(f for f, _ in counts.values()):>6} batches "
              f"{sum(r for _, r in counts.values()):>9} records")
        return 0
    if args.dlq_command == "drop":
        if args.cause is None and not args.all:
            raise SystemExit("llm-sre logs dlq drop: give --cause CAUSE or --all")
        print(f"dropped {dead.drop(args.cause)} records")
        return 0
    url = _url(args, settings)
    with _client(settings) as client:
        def push(labels: Mapping[str, str], entries: list[Entry]) -> Outcome:
            return Pusher(client, url, labels, tenant=settings.loki_tenant).push(entries)

        report = dead.retry(push, args.cause)
    requeued = ", ".join(f"{c} {n}" for c, n in sorted(report.requeued.items())) or "none"
    print(f"sent {report.sent}; parked again: {requeued}; waiting for Loki: {report.waiting}")
    return 1 if report.waiting else 0

"""A synthetic, labelled auth log: 12 hours of ordinary logins with attack and benign windows.

Mixed formats as a real estate logs them: JSON app events, nginx access lines and sshd syslog lines.
Ordinary traffic: a few hundred users on common browser user agents, mostly succeeding, some
retrying after a typo. Labelled windows (start, end, kind):

* attacks - ``single_source`` (JSON and nginx), ``distributed`` (rotating IPs, shared agent),
  ``low_and_slow`` (sshd, one attempt every ~10 minutes for hours), ``compromise`` (a burst on one
  account from several IPs, then a success);
* benign  - ``mistype`` (five wrong passwords, then right), ``reset_wave`` (a password-reset wave:
  resets plus failed-then-successful logins), ``load_test`` (an allow-listed load generator).

    lines, windows = generate(seed=3)
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime

T0 = datetime(2026, 11, 30, 0, 0, tzinfo=UTC).timestamp()
LOAD_TEST_SOURCE = "10.20.0.5"
BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
)


@dataclass(frozen=True)
class Window:
    start: float
    end: float
    kind: str
    attack: bool


def _ip(rng: random.Random, prefix: str | None = None) -> str:
    if prefix:
        return f"{prefix}.{rng.randint(1, 254)}"
    first = rng.choice([23, 51, 77, 89, 102, 141, 176, 188, 203])
    return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _json(ts: float, user: str, ip: str, ok: bool, agent: str, event: str = "login") -> tuple[float, str]:
    iso = datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")
    return ts, json.dumps(
        {
            "timestamp": iso,
            "level": "info" if ok else "warning",
            "event": event,
            "outcome": "success" if ok else "failure",
            "user": user,
            "client_ip": ip,
            "user_agent": agent,
        }
    )


def _nginx(ts: float, ip: str, path: str, status: int, agent: str) -> tuple[float, str]:
    stamp = datetime.fromtimestamp(ts, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    return ts, f'{ip} - - [{stamp}] "POST {path} HTTP/1.1" {status} 153 "-" "{agent}"'


def _sshd(ts: float, user: str, ip: str, ok: bool) -> tuple[float, str]:
    stamp = datetime.fromtimestamp(ts, UTC).strftime("%b %d %H:%M:%S")
    what = f"Accepted password for {user}" if ok else f"Failed password for invalid user {user}"
    return ts, f"{stamp} bastion sshd[{random.randint(1000, 60000)}]: {what} from {ip} port 52311 ssh2"


def generate(seed: int = 3, users: int = 300) -> tuple[list[str], list[Window]]:
    rng = random.Random(seed)
    events: list[tuple[float, str]] = []
    windows: list[Window] = []
    people = [f"user{n:04d}@corp.example" for n in range(users)]
    homes = {u: (_ip(rng), rng.choice(BROWSERS)) for u in people}
    # ordinary traffic: each user logs in a few times a day; 6% mistype once or twice first
    for user in people:
        ip, agent = homes[user]
        for _ in range(rng.randint(1, 4)):
            ts = T0 + rng.uniform(0, 12 * 3600)
            for k in range(rng.choice([0] * 16 + [1, 2])):
                events.append(_json(ts + 8 * k, user, ip, False, agent))
            events.append(_json(ts + 20, user, ip, True, agent))

    def window(start: float, minutes: float, kind: str, attack: bool) -> float:
        windows.append(Window(start, start + minutes * 60, kind, attack))
        return start

    # attack: one source, many accounts (JSON), 5 minutes
    s = window(T0 + 1.0 * 3600, 5, "single_source", True)
    src = _ip(rng)
    for i, victim in enumerate(rng.sample(people, 40)):
        events.append(_json(s + i * 7, victim, src, False, "python-requests/2.31.0"))
    # attack: one source through nginx (no account in the access log), 4 minutes
    s = window(T0 + 2.5 * 3600, 4, "single_source", True)
    src = _ip(rng)
    for i in range(60):
        events.append(_nginx(s + i * 4, src, "/api/v1/login", 401, "Go-http-client/1.1"))
    # attack: distributed - 30 sources over many subnets, one shared agent, 2 accounts each
    s = window(T0 + 4.0 * 3600, 8, "distributed", True)
    agent = "Mozilla/5.0 (compatible; Stuffer/3.2)"
    targets = rng.sample(people, 60)
    for i in range(30):
        ip = _ip(rng)
        for j in range(2):
            events.append(_json(s + rng.uniform(0, 470), targets[2 * i + j], ip, False, agent))
    # attack: low and slow over sshd - one attempt every ~10 min for 5.5 hours from one /24
    s = window(T0 + 5.0 * 3600, 330, "low_and_slow", True)
    for i in range(33):
        events.append(_sshd(s + i * 600 + rng.uniform(0, 60), f"svc{i:02d}", _ip(rng, "45.155.205"), False))
    # attack: compromise - 12 failures on one account from 4 sources, then a success
    s = window(T0 + 7.0 * 3600, 4, "compromise", True)
    victim = people[7]
    sources = [_ip(rng) for _ in range(4)]
    for i in range(12):
        events.append(_json(s + i * 15, victim, sources[i % 4], False, "okhttp/4.12"))
    events.append(_json(s + 200, victim, sources[1], True, "okhttp/4.12"))
    # benign: one user mistypes five times, then gets it right
    s = window(T0 + 3.0 * 3600, 3, "mistype", False)
    ip, agent = homes[people[42]]
    for i in range(5):
        events.append(_json(s + i * 20, people[42], ip, False, agent))
    events.append(_json(s + 130, people[42], ip, True, agent))
    # benign: password-reset wave - 80 resets in 10 minutes; 40 of those users fail first, then succeed
    s = window(T0 + 8.0 * 3600, 12, "reset_wave", False)
    for n, user in enumerate(rng.sample(people, 80)):
        ip, agent = homes[user]
        t = s + rng.uniform(0, 600)
        if n < 40:
            for k in range(rng.randint(1, 2)):
                events.append(_json(t - 30 + 5 * k, user, ip, False, agent))
        events.append(_nginx(t, ip, "/account/password-reset", 200, agent))
        events.append(_json(t + 60, user, ip, True, agent))
    # benign: load test from the allow-listed generator, 100 test accounts, half failing
    s = window(T0 + 9.5 * 3600, 10, "load_test", False)
    for i in range(600):
        events.append(_json(s + i, f"loadtest{i % 100:03d}", LOAD_TEST_SOURCE, i % 2 == 0, "k6/0.49"))
    events.sort(key=lambda e: e[0])
    return [line for _, line in events], windows

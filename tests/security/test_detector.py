"""The four stuffing shapes fire; the benign look-alikes do not."""

from __future__ import annotations

from security.detector import Detector, Thresholds
from security.events import AuthEvent

T0 = 1_796_000_000.0


def fail(ts: float, user: str | None, ip: str, agent: str = "Mozilla/5.0") -> AuthEvent:
    return AuthEvent(T0 + ts, user, ip, "failure", agent)


def ok(ts: float, user: str, ip: str, agent: str = "Mozilla/5.0") -> AuthEvent:
    return AuthEvent(T0 + ts, user, ip, "success", agent)


def shapes(events, **kw) -> list[str]:
    return [d.shape for d in Detector(**kw).scan(events)]


def test_one_source_many_accounts() -> None:
    found = Detector().scan([fail(i * 5, f"victim{i}", "203.0.113.50", "python-requests") for i in range(15)])
    assert [(d.shape, d.key, d.accounts) for d in found] == [("single_source", "203.0.113.50", 10)]


def test_access_log_attempts_without_accounts_count_per_attempt() -> None:
    assert shapes([fail(i * 3, None, "203.0.113.51", "Go-http-client/1.1") for i in range(12)]) == [
        "single_source"
    ]


def test_many_sources_few_accounts_each_shared_agent() -> None:
    events = [
        fail(i * 20 + j, f"acct{2 * i + j}", f"{10 + i * 7}.{i}.{j}.9", "Stuffer/3.2")
        for i in range(10)
        for j in range(2)
    ]
    found = Detector().scan(events)
    assert [(d.shape, d.key_kind, d.key) for d in found] == [("distributed", "user_agent", "Stuffer/3.2")]


def test_low_and_slow_over_hours() -> None:
    events = [fail(i * 900, f"svc{i}", f"45.155.205.{i + 1}", "") for i in range(24)]  # one every 15 min
    found = Detector().scan(events)
    assert [(d.shape, d.key_kind, d.key) for d in found] == [("low_and_slow", "subnet", "45.155.205.0/24")]


def test_success_after_a_burst_is_a_compromise() -> None:
    events = [fail(i * 10, "ceo@corp.example", f"198.51.100.{i % 4}") for i in range(9)]
    events.append(ok(120, "ceo@corp.example", "198.51.100.2"))
    found = Detector().scan(events)
    assert [(d.shape, d.severity, d.key) for d in found] == [("compromise", "critical", "ceo@corp.example")]


def test_success_from_a_stuffing_source_is_a_compromise() -> None:
    events = [fail(i, f"victim{i}", "203.0.113.50") for i in range(12)]
    events.append(ok(30, "victim99", "203.0.113.50"))
    assert shapes(events) == ["single_source", "compromise"]


def test_a_user_mistyping_five_times_is_quiet() -> None:
    events = [fail(i * 15, "ana", "198.51.100.7") for i in range(5)] + [ok(90, "ana", "198.51.100.7")]
    assert shapes(events) == []


def test_a_password_reset_wave_is_quiet() -> None:
    events = []
    for n in range(80):  # 80 users from their own networks on the same browser, within 10 minutes
        ip = f"{20 + n}.{n}.1.{n + 1}"
        if n % 2:
            events += [fail(n * 7, f"user{n}", ip), fail(n * 7 + 4, f"user{n}", ip)]
        events.append(AuthEvent(T0 + n * 7 + 8, None, ip, "success", "Mozilla/5.0", "reset"))
        events.append(ok(n * 7 + 60, f"user{n}", ip))
    assert shapes(events) == []


def test_an_allow_listed_load_test_is_quiet_and_others_are_not() -> None:
    # a load test of the failure path: 100 test accounts, wrong passwords on purpose
    events = [fail(i, f"loadtest{i % 100}", "10.20.0.5", "k6/0.49") for i in range(600)]
    assert shapes(events, allow=["10.20.0.0/24"]) == []
    assert shapes(events) != []  # the allow-list is what keeps it quiet


def test_each_attack_is_reported_once_per_window() -> None:
    events = [fail(i, f"v{i}", "203.0.113.50") for i in range(100)]
    assert shapes(events, thresholds=Thresholds(window=600)) == ["single_source"]

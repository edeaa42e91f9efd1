"""Auth events from JSON app logs, nginx/Apache access logs and sshd lines."""

from __future__ import annotations

import json

import pytest

from security.events import AuthEvent, parse_auth

T = 1796119200.0  # 2026-12-01T10:00:00Z
SSHD = "Dec  1 10:00:00 bastion sshd[4242]: "


def access(path: str, status: int, user: str = "-", agent: str = "Mozilla/5.0", method: str = "POST") -> str:
    """An nginx/Apache combined-format line."""
    request = f'"{method} {path} HTTP/1.1"'
    return f'198.51.100.9 - {user} [01/Dec/2026:10:00:00 +0000] {request} {status} 53 "-" "{agent}"'


@pytest.mark.parametrize(
    ("line", "want"),
    [
        (
            json.dumps(
                {
                    "timestamp": "2026-12-01T10:00:00Z",
                    "event": "user.login",
                    "outcome": "failure",
                    "user": "ana@example.com",
                    "client_ip": "198.51.100.4",
                    "user_agent": "curl/8.4",
                }
            ),
            AuthEvent(T, "ana@example.com", "198.51.100.4", "failure", "curl/8.4"),
        ),
        (
            json.dumps({"ts": T, "msg": "login succeeded", "username": "bo", "remote_addr": "198.51.100.5"}),
            AuthEvent(T, "bo", "198.51.100.5", "success"),
        ),
        (
            json.dumps(
                {
                    "time": "2026-12-01T10:00:00Z",
                    "action": "authenticate",
                    "success": False,
                    "account": "cy",
                    "ip": "2001:db8::7",
                }
            ),
            AuthEvent(T, "cy", "2001:db8::7", "failure"),
        ),
        (
            access("/api/v1/login", 401, agent="python-requests/2.31"),
            AuthEvent(T, None, "198.51.100.9", "failure", "python-requests/2.31"),
        ),
        (
            access("/wp-login.php", 302, user="dora"),
            AuthEvent(T, "dora", "198.51.100.9", "success", "Mozilla/5.0"),
        ),
        (
            access("/account/password-reset", 200),
            AuthEvent(T, None, "198.51.100.9", "success", "Mozilla/5.0", "reset"),
        ),
        (
            SSHD + "Failed password for invalid user oracle from 203.0.113.8 port 51000 ssh2",
            AuthEvent(T, "oracle", "203.0.113.8", "failure"),
        ),
        (
            "2026-12-01T10:00:00+00:00 bh sshd[4242]: Accepted publickey for deploy from 10.1.2.3 port 5",
            AuthEvent(T, "deploy", "10.1.2.3", "success"),
        ),
    ],
)
def test_auth_shapes(line: str, want: AuthEvent) -> None:
    assert parse_auth(line, year=2026) == want


@pytest.mark.parametrize(
    "line",
    [
        json.dumps({"message": "order created", "ip": "198.51.100.4"}),
        access("/login", 200, method="GET"),
        access("/api/v1/login", 500),
        SSHD + "Connection closed by 203.0.113.8 port 51000",
        '{"event": "login", "outcome": "failure", "user": "x"',  # broken JSON
        "",
    ],
)
def test_other_lines_are_not_auth_events(line: str) -> None:
    assert parse_auth(line, year=2026) is None

"""``llm-sre security scan``: detections of an auth log as JSON; bad lines counted."""

from __future__ import annotations

import json

from llm_sre.cli import main


def test_scan_reports_shapes_and_masks_accounts(tmp_path, capsys) -> None:
    lines = [
        f"Dec  1 10:00:{i:02d} bastion sshd[9]: Failed password for invalid user u{i} from 203.0.113.9 "
        f"port 22 ssh2"
        for i in range(11)
    ]
    lines += [
        json.dumps(
            {
                "timestamp": f"2026-12-01T11:00:{i:02d}Z",
                "event": "login",
                "outcome": "failure",
                "user": "alice@corp.example",
                "ip": f"198.51.100.{i % 3}",
            }
        )
        for i in range(9)
    ]
    lines.append(
        json.dumps(
            {
                "timestamp": "2026-12-01T11:01:00Z",
                "event": "login",
                "outcome": "success",
                "user": "alice@corp.example",
                "ip": "198.51.100.1",
            }
        )
    )
    lines += ['{"event": "login", "broken', "plain text that is not an auth event"]
    log = tmp_path / "auth.log"
    log.write_text("\n".join(lines) + "\n")
    assert main(["security", "scan", str(log), "--json", "--year", "2026"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["lines"], out["unparseable"], out["authEvents"]) == (23, 1, 21)
    assert [(d["shape"], d["key"]) for d in out["detections"]] == [
        ("single_source", "203.0.113.9"),
        ("compromise", "a***@corp.example"),
    ]
    assert "alice" not in json.dumps(out)


def test_allow_flag_silences_a_source(tmp_path, capsys) -> None:
    log = tmp_path / "auth.log"
    log.write_text(
        "".join(
            f"Dec  1 10:00:{i:02d} h sshd[9]: Failed password for u{i} from 10.0.0.5 port 22 ssh2\n"
            for i in range(20)
        )
    )
    assert main(["security", "scan", str(log), "--json", "--allow", "10.0.0.0/8"]) == 0
    assert json.loads(capsys.readouterr().out)["detections"] == []


def test_bad_allow_entry_is_a_clear_error(tmp_path) -> None:
    log = tmp_path / "auth.log"
    log.write_text("")
    try:
        main(["security", "scan", str(log), "--allow", "not-a-network"])
    except SystemExit as exc:
        assert "bad allow-list entry" in str(exc)
    else:
        raise AssertionError("expected SystemExit")

"""The shell commands, run as a user would: real stdin/stdout through a child process."""

from __future__ import annotations

import subprocess
import sys

# Builds the parser from this area's module only, so the test does not depend on other areas.
_RUN = (
    "import argparse, sys; from exporters import logs_cli; p = argparse.ArgumentParser(); "
    "logs_cli.register(p.add_subparsers(required=True)); a = p.parse_args(sys.argv[1:]); "
    "sys.exit(a.func(a))"
)


def run_cli(*argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _RUN, *argv],
        input=stdin, capture_output=True, text=True, timeout=60, check=False,
    )


def test_redact_keeps_line_count_and_masks(secrets, clean):
    lines = [line for _, _, line in secrets] + clean
    result = run_cli("redact", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert len(out) == len(lines)
    assert out[len(secrets):] == clean
    assert all(secret not in o for (_, secret, _), o in zip(secrets, out, strict=False))

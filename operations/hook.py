"""The commit-msg hook: ``python -m operations.hook MESSAGE_FILE [--rules FILE]``.

Exit 1 refuses the commit, with each broken rule on stderr; 2 when the rules cannot be used.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from operations.gitrepo import collect, report
from operations.governance import load_rules
from operations.settings import OperationsSettings
from operations.yamlfile import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="commit-msg")
    parser.add_argument("message_file", type=Path)
    parser.add_argument("--rules", type=Path)
    args = parser.parse_args(argv)
    try:
        rules = load_rules(args.rules or OperationsSettings().governance_rules)
        violations = collect(rules, Path.cwd(), args.message_file)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report(violations)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())

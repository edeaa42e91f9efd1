"""Commit-message and branch-name rules: a small YAML file of regular expressions with messages.

Pure: text in, violations out. The Git side (hook, ranges) is in :mod:`operations.governance_cli`.

    rules = load_rules(None)                       # the shipped rules (operations/governance.yaml)
    for v in rules.check_message("feat: 로그인 API 추가"):
        print(v.rule, v.message)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from operations.yamlfile import Regex, load_model

SHIPPED = Path(__file__).with_name("governance.yaml")
# git's own cleanup for an editor-written message: comment lines go, and everything below the
# scissors line of `git commit -v` (the diff) is not part of the message.
SCISSORS = "# ------------------------ >8 ------------------------"


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,40}$")  # also a metric label value: short, fixed
    target: Literal["subject", "body", "message", "branch"]
    require: Regex | None = None
    forbid: Regex | None = None
    message: str = Field(min_length=1)

    @model_validator(mode="after")
    def _one_pattern(self) -> Rule:
        if (self.require is None) == (self.forbid is None):
            raise ValueError("give exactly one of `require` or `forbid`")
        return self

    def broken_by(self, text: str) -> bool:
        if self.require is not None:
            return re.search(self.require, text) is None
        return re.search(self.forbid or "", text) is not None


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    subject: str  # the commit subject or branch name it is about


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    skip: list[Regex] = Field(default_factory=list)
    rules: list[Rule] = Field(min_length=1)

    def check_message(self, raw: str) -> list[Violation]:
        text = clean(raw)
        subject, _, body = text.partition("\n")
        if not subject:
            return [Violation("empty-message", "the commit message is empty", "")]
        if any(re.search(p, subject) for p in self.skip):
            return []
        parts = {"subject": subject, "body": body.strip("\n"), "message": text}
        return [Violation(r.name, r.message, subject) for r in self.rules
                if r.target != "branch" and r.broken_by(parts[r.target])]

    def check_branch(self, name: str) -> list[Violation]:
        return [Violation(r.name, r.message, name) for r in self.rules
                if r.target == "branch" and r.broken_by(name)]


def clean(raw: str) -> str:
    """The message as git stores it: no comments, no scissors section, no trailing blank lines."""
    raw = raw.split(SCISSORS, 1)[0]
    lines = [line.rstrip() for line in raw.splitlines() if not line.startswith("#")]
    return "\n".join(lines).strip("\n")


def load_rules(path: Path | None) -> Rules:
    return load_model(path or SHIPPED, Rules)

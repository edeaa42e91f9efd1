"""A reader for the subset of Alloy's configuration syntax that provisioning/alloy/config.alloy uses.

No Alloy binary or parser package is available here (Alloy ships only as a Go binary), and a
config whose component references do not resolve is the usual way an Alloy pipeline silently
ships nothing. This reads blocks, attributes, strings, lists, objects, references, function
calls and ``+``, and fails on anything else — enough to check wiring, not to evaluate.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(
    r"""(?P<space>\s+)|(?P<comment>//[^\n]*|/\*.*?\*/)|(?P<string>"(?:[^"\\]|\\.)*")"""
    r"""|(?P<number>-?\d+(?:\.\d+)?)|(?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)"""
    r"""|(?P<punct>[{}\[\]()=,+])""",
    re.S,
)


@dataclass(frozen=True)
class Reference:
    """A dotted name used as a value, such as ``discovery.docker.containers.targets``."""

    path: str


@dataclass
class Block:
    name: str
    label: str | None
    attributes: dict[str, Any] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise SyntaxError(f"unexpected {text[position : position + 20]!r} at offset {position}")
        position = match.end()
        kind = match.lastgroup
        assert kind is not None
        if kind not in ("space", "comment"):
            tokens.append((kind, match.group()))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self, offset: int = 0) -> tuple[str, str]:
        index = self.i + offset
        return self.tokens[index] if index < len(self.tokens) else ("eof", "")

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        token_kind, token = self.peek()
        if (value is not None and token != value) or (kind is not None and token_kind != kind):
            raise SyntaxError(f"expected {value or kind}, got {token!r} (token {self.i})")
        self.i += 1
        return token

    def body(self, closing: str | None) -> tuple[dict[str, Any], list[Block]]:
        attributes: dict[str, Any] = {}
        blocks: list[Block] = []
        while self.peek()[1] != (closing or "") and self.peek()[0] != "eof":
            name = self.take(kind="ident")
            if self.peek()[1] == "=":
                self.take("=")
                if name in attributes:
                    raise SyntaxError(f"attribute {name} set twice")
                attributes[name] = self.expression()
                continue
            label = json.loads(self.take(kind="string")) if self.peek()[0] == "string" else None
            self.take("{")
            inner_attributes, inner_blocks = self.body("}")
            self.take("}")
            blocks.append(Block(name, label, inner_attributes, inner_blocks))
        return attributes, blocks

    def expression(self) -> Any:
        value = self.operand()
        while self.peek()[1] == "+":
            self.take("+")
            value = ("+", value, self.operand())
        return value

    def operand(self) -> Any:
        kind, token = self.peek()
        if kind == "string":
            self.take()
            return json.loads(token)
        if kind == "number":
            self.take()
            return float(token)
        if token == "[":
            self.take("[")
            items = []
            while self.peek()[1] != "]":
                items.append(self.expression())
                if self.peek()[1] == ",":
                    self.take(",")
            self.take("]")
            return items
        if token == "{":
            self.take("{")
            obj = {}
            while self.peek()[1] != "}":
                key = self.take()
                self.take("=")
                obj[json.loads(key) if key.startswith('"') else key] = self.expression()
                if self.peek()[1] == ",":
                    self.take(",")
            self.take("}")
            return obj
        if kind == "ident":
            self.take()
            if token in ("true", "false"):
                return token == "true"
            if self.peek()[1] == "(":
                self.take("(")
                args = []
                while self.peek()[1] != ")":
                    args.append(self.expression())
                    if self.peek()[1] == ",":
                        self.take(",")
                self.take(")")
                return ("call", token, args)
            return Reference(token)
        raise SyntaxError(f"unexpected {token!r} (token {self.i})")


def parse(text: str) -> list[Block]:
    """The top-level blocks of an Alloy configuration."""
    parser = _Parser(text)
    attributes, blocks = parser.body(None)
    if attributes:
        raise SyntaxError(f"attributes outside a block: {sorted(attributes)}")
    return blocks


def references(value: Any) -> list[str]:
    """Every reference path inside an attribute value."""
    if isinstance(value, Reference):
        return [value.path]
    if isinstance(value, list | tuple):
        return [path for item in value for path in references(item)]
    if isinstance(value, dict):
        return [path for item in value.values() for path in references(item)]
    return []


def calls(value: Any) -> list[str]:
    """Names of the functions called inside an attribute value."""
    if isinstance(value, tuple) and value and value[0] == "call":
        return [value[1], *calls(value[2])]
    if isinstance(value, list | tuple):
        return [name for item in value for name in calls(item)]
    if isinstance(value, dict):
        return [name for item in value.values() for name in calls(item)]
    return []

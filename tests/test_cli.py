"""Every subcommand of the one console command answers --help."""

from __future__ import annotations

import argparse

import pytest

from llm_sre import processes
from llm_sre.cli import build_parser, main


def _commands() -> list[list[str]]:
    parser = build_parser()
    paths: list[list[str]] = []

    def walk(p: argparse.ArgumentParser, prefix: list[str]) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    paths.append([*prefix, name])
                    walk(child, [*prefix, name])

    walk(parser, [])
    return paths


def test_contract_commands_exist() -> None:
    names = {" ".join(c) for c in _commands()}
    assert {"serve", "exporter", "up", "demo"} <= names


@pytest.mark.parametrize("command", _commands(), ids=" ".join)
def test_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: llm-sre" in capsys.readouterr().out


def test_missing_binary_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(processes.MissingBinary, match="apt-get install -y prometheus-alertmanager"):
        processes.require("prometheus-alertmanager")

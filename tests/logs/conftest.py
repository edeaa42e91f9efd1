"""Shared fixtures for the logs tests: the labelled secret/clean corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

CORPUS = Path(__file__).parent / "corpus"


def secret_rows() -> list[tuple[str, str, str]]:
    """(kind, secret, line) rows; every secret is generated and fake."""
    rows = []
    for raw in (CORPUS / "secrets.tsv").read_text().splitlines():
        if raw and not raw.startswith("#"):
            kind, secret, line = raw.split("\t")
            rows.append((kind, secret, line))
    return rows


def clean_lines() -> list[str]:
    return (CORPUS / "clean.txt").read_text().splitlines()


@pytest.fixture
def secrets() -> list[tuple[str, str, str]]:
    return secret_rows()


@pytest.fixture
def clean() -> list[str]:
    return clean_lines()

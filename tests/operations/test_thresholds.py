"""The checklist file: documented defaults, overrides, and malformed files refused with line and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_sre.cli import main
from operations.thresholds import DEFAULTS, Status, load
from operations.yamlfile import ConfigError


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "checklist.yaml"
    path.write_text(text)
    return path


def test_no_file_means_the_documented_defaults() -> None:
    config = load(None)
    for name, default in DEFAULTS.items():
        limit = config.limit(name)
        assert (limit.warn, limit.fail, limit.above) == (default.warn, default.fail, default.above)
    ratio = config.limit("error_ratio")
    assert [ratio.grade(v) for v in (0.0, 0.01, 0.049, 0.05)] == [
        Status.PASS, Status.WARN, Status.WARN, Status.FAIL]
    free = config.limit("data_dir_free_ratio")  # bad when low
    assert [free.grade(v) for v in (0.5, 0.15, 0.05)] == [Status.PASS, Status.WARN, Status.FAIL]


def test_an_override_keeps_the_other_level_and_null_switches_one_off(tmp_path: Path) -> None:
    config = load(_write(tmp_path, "limits:\n  error_ratio: {warn: 0.02}\n  timeout_ratio: {fail: null}\n"))
    assert (config.limit("error_ratio").warn, config.limit("error_ratio").fail) == (0.02, 0.05)
    assert config.limit("timeout_ratio").fail is None
    assert str(config.limit("timeout_ratio")) == "warn ≥ 0.005"


@pytest.mark.parametrize(("text", "expected"), [
    ("limits:\n  error_ratio: {warn: 0.02\n", r":3: invalid YAML"),
    ("endpoints:\n  - name: api\n    url: http://x\nlimits:\n  error_ratio:\n    warn: lots\n",
     r":6: limits.error_ratio.warn: Input should be a valid number"),
    ("limits:\n  error_rate: {warn: 0.1}\n", r":1: limits: Value error, unknown limit error_rate"),
    ("smoke:\n  url: http://app/chat\n  field: answer\n  expect_pattern: '(unclosed'\n",
     r":4: smoke.expect_pattern: Value error, not a regular expression"),
    ("required_env: [OK_NAME, 'not a name']\n", r":1: required_env: Value error, not an environment"),
    ("- just\n- a list\n", r":1: expected a mapping at the top"),
    ("smoke:\n  url: http://app\n  feild: answer\n", r":1: smoke.field: Field required \(and 1 more\)"),
])
def test_a_malformed_file_is_refused_with_its_line_and_reason(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError, match=expected) as info:
        load(path)
    assert str(info.value).startswith(str(path))


def test_the_cli_prints_one_line_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "limits:\n  error_ratio: {warn: [1]}\n")
    assert main(["checklist", "daily", "--file", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith(f"error: {path}:2: limits.error_ratio.warn")

"""The bad-input corpus: every malformed file under tests/badinput/, through the real CLI.

Each must end in exit 1, one `FILE:LINE[:COL]: ...` line per problem (every problem, in file order),
the messages listed in tests/badinput/expected.yaml, and no traceback.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.conftest import Result

BAD = Path(__file__).parent / "badinput"
EXPECTED: dict[str, list[str]] = yaml.safe_load((BAD / "expected.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def in_badinput(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(BAD)
    for name in ("ECSCHED_BADINPUT_UNSET", "ECSCHED_BADINPUT_UNSET_TOO"):
        monkeypatch.delenv(name, raising=False)
    return BAD


def test_the_corpus_is_complete() -> None:
    files = sorted(p.name for p in BAD.iterdir() if p.name != "expected.yaml")
    assert len(files) >= 30
    assert sorted(EXPECTED) == files, "every file needs its expected messages, and every entry its file"
    assert all(EXPECTED[f] for f in files)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_input(name: str, in_badinput: Path, cli: Callable[..., Result]) -> None:
    r = cli("-c", name, "validate")
    assert r.code == 1, r
    assert "Traceback" not in r.out + r.err
    lines = r.out.splitlines()
    located = re.compile(rf"^{re.escape(name)}:\d+(:\d+)?: ")
    assert lines and all(located.match(line) for line in lines), lines
    expected = EXPECTED[name]
    assert len(lines) == len(expected), "\n".join(lines)
    for line, want in zip(lines, expected, strict=True):
        where, _, message = want.partition(": ")
        rest = line[len(name) + 1:]
        assert rest.startswith(where + ":"), (line, want)  # the same line (and column, when given)
        assert message in rest, (line, want)
    n = len(expected)
    assert r.err.rstrip().endswith(f"{n} problem{'s' if n != 1 else ''} found")


@pytest.mark.parametrize("name", ["multi_problem.yaml", "wrong_types.yaml", "json_duplicate_keys.json"])
def test_other_commands_report_the_same_lines(name: str, in_badinput: Path, cli: Callable[..., Result],
                                              aws: str) -> None:
    """diff and apply stop on a bad config, with validate's lines on stderr. (`aws`: diff may start
    reading live rules while the file loads.)"""
    validate = cli("-c", name, "validate")
    for command in (["diff"], ["apply", "--dry-run"]):
        r = cli("-c", name, *command)
        assert r.code == 1
        assert r.out == ""
        problems = [line for line in r.err.splitlines() if not line.startswith("ecsched: ")]
        assert problems == validate.out.splitlines()
        assert "problem" in r.err.splitlines()[-1]


def test_must_env_names_the_variable_the_file_and_the_line(in_badinput: Path, cli: Callable[..., Result]) -> None:
    r = cli("-c", "must_env.yaml", "validate")
    first = r.out.splitlines()[0]
    assert first.startswith("must_env.yaml:11:")
    assert "ECSCHED_BADINPUT_UNSET " in first


def test_must_env_set_makes_the_file_valid(in_badinput: Path, cli: Callable[..., Result],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The control for the corpus entry: the variables are the only problem."""
    monkeypatch.setenv("ECSCHED_BADINPUT_UNSET", "x")
    monkeypatch.setenv("ECSCHED_BADINPUT_UNSET_TOO", "y")
    assert cli("-c", "must_env.yaml", "validate").code == 0


def test_several_bad_files_at_once_report_all(in_badinput: Path, cli: Callable[..., Result]) -> None:
    r = cli("-c", "bad_cron.yaml", "-c", "empty.yaml", "-c", "tabs.yaml", "validate")
    assert r.code == 1
    files = [line.split(":", 1)[0] for line in r.out.splitlines()]
    assert files.count("bad_cron.yaml") == len(EXPECTED["bad_cron.yaml"])
    assert "empty.yaml" in files and "tabs.yaml" in files

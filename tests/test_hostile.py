"""Hostile and broken input (issue 16 §6): each is one clear error, exit 1, no traceback, and a bounded
process, measured as a real child process. The corpus is generated (tests/hostile.py); the table for
docs/reliability.md comes from `python -m tests.hostile`. No timing is asserted: the timeout only keeps
a regression (a parse that never ends) from hanging the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile import CASES, Case, run

MAX_RSS_MB = 200


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input_is_one_clear_error(case: Case, folder: Path) -> None:
    if case.name == "fifo" and not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    if case.name == "/dev/zero" and not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero on this platform")
    o = run(case, folder, timeout=120)
    assert o.code == 1, o
    assert "Traceback" not in o.out + o.err
    lines = o.out.strip().splitlines()
    assert len(lines) == 1 and case.expect in lines[0], o.out
    assert o.err.strip().endswith("1 problem found"), o.err
    assert o.max_rss_mb < MAX_RSS_MB, f"{case.name}: {o.max_rss_mb:.0f} MB"


def _validate(folder: Path, *args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ecsched", *args, "validate"], cwd=folder, input=stdin,
                          capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1", **env}, timeout=60)


GOOD = "cluster: api\nrules:\n- name: a\n  scheduleExpression: rate(1 day)\n  taskDefinition: t\n"


def test_the_size_cap_follows_the_environment(folder: Path) -> None:
    (folder / "ok.yaml").write_text(GOOD)
    assert _validate(folder, "-c", "ok.yaml").returncode == 0
    r = _validate(folder, "-c", "ok.yaml", ECSCHED_MAX_CONFIG_BYTES="40")
    assert r.returncode == 1 and f"is {len(GOOD)} bytes; config files are read up to 40 bytes" in r.stdout
    r = _validate(folder, "-c", "ok.yaml", ECSCHED_MAX_CONFIG_BYTES="lots")
    assert r.returncode == 1 and "ECSCHED_MAX_CONFIG_BYTES must be a positive number of bytes" in r.stdout


def test_the_size_cap_is_a_load_option(folder: Path) -> None:
    from ecsched.config import load
    from ecsched.errors import ConfigError

    (folder / "ok.yaml").write_text(GOOD)
    assert load([str(folder / "ok.yaml")], max_config_bytes=len(GOOD)).rule_names() == ["a"]
    with pytest.raises(ConfigError, match="config files are read up to 10 bytes"):
        load([str(folder / "ok.yaml")], max_config_bytes=10)


def test_standard_input_is_read_on_purpose_and_capped(folder: Path) -> None:
    r = _validate(folder, "-c", "-", stdin=GOOD)
    assert r.returncode == 0 and "ok: 1 rule in <stdin>" in r.stderr
    r = _validate(folder, "-c", "-", stdin=GOOD.replace("rate(1 day)", "rate(0 days)"))
    assert r.returncode == 1 and r.stdout.startswith("<stdin>:4:3: rule a: scheduleExpression")
    r = _validate(folder, "-c", "-", stdin=GOOD, ECSCHED_MAX_CONFIG_BYTES="10")
    assert r.returncode == 1 and "<stdin>: is too large; config files are read up to 10 bytes" in r.stdout


def test_a_file_at_the_limits_is_read(folder: Path) -> None:
    """The limits refuse bombs, not big honest files: 5,000 rules pass."""
    from tests.hostile import many_rules

    (folder / "5000.yaml").write_text(many_rules(5000))
    r = _validate(folder, "-c", "5000.yaml")
    assert r.returncode == 0, r.stdout + r.stderr
    (folder / "5001.yaml").write_text(many_rules(5001))
    r = _validate(folder, "-c", "5001.yaml")
    assert r.returncode == 1 and "5,001 rules: ecsched reads at most 5,000 per file" in r.stdout


def _nodes(text: str) -> int:
    import yaml

    from ecsched import yamlio

    stack = [yamlio.compose(text)]
    count = 0
    while stack:
        n = stack.pop()
        if n is None:
            continue
        count += 1
        if isinstance(n, yaml.MappingNode):
            stack += [x for pair in n.value for x in pair]
        elif isinstance(n, yaml.SequenceNode):
            stack += n.value
    return count


def test_the_cheap_value_bound_never_undercounts() -> None:
    """It decides whether a big text is counted before its tree is built: it must be an upper bound."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from ecsched.config.yamlfile import value_bound
    from ecsched.yamlio import dump

    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5))
    docs = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(min_size=1, max_size=4), inner, max_size=4), max_leaves=30)

    @settings(max_examples=60, deadline=None)
    @given(docs, st.booleans())
    def check(data: object, flow: bool) -> None:
        import yaml

        text = yaml.safe_dump(data, default_flow_style=flow) if flow else dump(data)
        assert value_bound(text) >= _nodes(text)

    check()
    for text in ("{a, b, c}\n", "[a, [b, {c: d, e}], ~]\n", "a:\nb:\n- \n-\n", "? a\n: b\n"):
        assert value_bound(text) >= _nodes(text), text

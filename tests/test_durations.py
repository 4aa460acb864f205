"""ecsched.durations: the one parser and the one formatter of durations."""

from __future__ import annotations

import pytest

from ecsched.durations import format_duration, parse_duration
from ecsched.errors import EcschedError


@pytest.mark.parametrize(("text", "seconds"), [
    ("90", 90), ("90s", 90), ("5m", 300), ("1h30m", 5400), ("1.5h", 5400), ("250ms", 0.25), ("2d", 172800),
])
def test_parse_duration(text, seconds):
    assert parse_duration(text, positive=True) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "soon", "5 m", "1x", "0", "-5s", "m5", "5m3"])
def test_parse_duration_rejects(text):
    with pytest.raises(EcschedError):
        parse_duration(text, "--timeout", positive=True)


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0s"), (0.5, "500ms"), (1, "1s"), (59, "59s"), (59.6, "1m"), (60, "1m"), (125, "2m5s"),
    (5400, "1h30m"), (3601, "1h1s"), (3723, "1h2m3s"), (-3, "0s"),
])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize("seconds", [0.25, 1, 61, 3599, 3723, 90061])
def test_a_printed_duration_reads_back(seconds):
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds)

"""ecsched.expressions.to_utc_cron: a local cron as one UTC cron, or a refusal.

Every expected fire time below was worked out by hand from a printed calendar (weekdays of 2026 etc.),
never by running the code under test.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from ecsched.expressions import Expression, ExpressionError, parse, to_utc_cron
from tests.expression_helpers import cron_field

# ---------------------------------------------------------------------------------------------------
# to_utc_cron


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        # 03:30 JST is 18:30 UTC the day before; every day stays every day
        ("cron(30 3 * * ? *)", "Asia/Tokyo", "cron(30 18 * * ? *)"),
        ("cron(0 9 ? * MON-FRI *)", "Asia/Tokyo", "cron(0 0 ? * MON-FRI *)"),
        ("cron(0 8 ? * MON-FRI *)", "Asia/Tokyo", "cron(0 23 ? * SUN-THU *)"),
        ("cron(0 8 ? * SUN *)", "Asia/Tokyo", "cron(0 23 ? * SAT *)"),
        ("cron(0 3 15 * ? *)", "Asia/Tokyo", "cron(0 18 14 * ? *)"),
        ("cron(0 3 10,20 JAN-MAR ? *)", "Asia/Tokyo", "cron(0 18 9,19 JAN-MAR ? *)"),
        # the 1st in Tokyo is the last day of the month before in UTC
        ("cron(0 3 1 * ? *)", "Asia/Tokyo", "cron(0 18 L * ? *)"),
        ("cron(0 3 1 4,7 ? *)", "Asia/Tokyo", "cron(0 18 L 3,6 ? *)"),
        # hours spread over midnight, every day: 0,4,...,20 JST = 15,19,23,3,7,11 UTC
        ("cron(0 0/4 * * ? *)", "Asia/Tokyo", "cron(0 3/4 * * ? *)"),
        ("cron(0/15 * * * ? *)", "Asia/Tokyo", "cron(0/15 * * * ? *)"),
        # day rules untouched when no time crosses midnight
        ("cron(0 12 15W * ? *)", "Asia/Tokyo", "cron(0 3 15W * ? *)"),
        ("cron(0 12 ? * 2#1 *)", "Asia/Tokyo", "cron(0 3 ? * 2#1 *)"),
        ("cron(0 9-17 ? * MON-FRI *)", "Asia/Tokyo", "cron(0 0-8 ? * MON-FRI *)"),
        # +05:30: minutes move too
        ("cron(0 9 * * ? *)", "Asia/Kolkata", "cron(30 3 * * ? *)"),
        ("cron(15 3 ? * MON *)", "Asia/Kolkata", "cron(45 21 ? * SUN *)"),
        # -10:00: 20:00 HST is 06:00 UTC the next day
        ("cron(0 20 ? * FRI *)", "Pacific/Honolulu", "cron(0 6 ? * SAT *)"),
        ("cron(0 20 L * ? *)", "Pacific/Honolulu", "cron(0 6 1 * ? *)"),
        ("cron(0 20 5 * ? *)", "Pacific/Honolulu", "cron(0 6 6 * ? *)"),
        # UTC itself and zero-offset fixed zones
        ("cron(0 9 ? * MON-FRI *)", "UTC", "cron(0 9 ? * MON-FRI *)"),
        ("cron(0 9 ? * mon-fri *)", "Etc/UTC", "cron(0 9 ? * MON-FRI *)"),
    ],
)
def test_to_utc_cron(text: str, tz: str, expected: str) -> None:
    got = to_utc_cron(parse(text), tz)
    assert got == Expression("cron", expected)


def test_to_utc_cron_rate_and_at() -> None:
    assert to_utc_cron(parse("rate(5 minutes)"), "Asia/Tokyo") == parse("rate(5 minutes)")
    got = to_utc_cron(parse("at(2026-12-01T03:00:00)", allow_at=True), "Asia/Tokyo")
    assert got == Expression("at", "at(2026-11-30T18:00:00)")


_CANNOT = "use `backend: scheduler`, which evaluates cron in Asia/Tokyo"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "cron(0 3 ? * 2#1 *)",
            "its times move to the day before in UTC, and day-of-week `2#1` cannot be shifted by a day",
        ),
        (
            "cron(0 3 ? * 6L *)",
            "its times move to the day before in UTC, and day-of-week `6L` cannot be shifted by a day",
        ),
        (
            "cron(0 3 15W * ? *)",
            "its times move to the day before in UTC, and day-of-month `15W` cannot be shifted by a day",
        ),
        (
            "cron(0 3 LW * ? *)",
            "its times move to the day before in UTC, and day-of-month `LW` cannot be shifted by a day",
        ),
        (
            "cron(0 3 L * ? *)",
            "the last day of the month would move to the day before it, and `L-1` is not supported",
        ),
        (
            "cron(0 3 1,15 * ? *)",
            "day 1 would become the last day of the month before, which cannot share a list",
        ),
        ("cron(0 3 31 * ? *)", "day 31 does not move to a day of the same month in every month"),
        ("cron(0 3 * 1 ? *)", "its times move to the day before in UTC, which crosses month ends"),
        ("cron(0 3 ? JAN MON *)", "its times move to the day before in UTC, which crosses month ends"),
        ("cron(0 3 * * ? 2027)", "its times move to the day before in UTC, which crosses month ends"),
        (
            "cron(0 3 1 * ? 2027)",
            "its times move across a year end in UTC while the year field is restricted",
        ),
        ("cron(0 3,12 ? * MON *)", "some of its times cross midnight in UTC and others do not"),
    ],
)
def test_to_utc_cron_cannot_express(text: str, reason: str) -> None:
    with pytest.raises(ExpressionError) as info:
        to_utc_cron(parse(text), "Asia/Tokyo")
    canonical = parse(text).text
    assert info.value.message == (
        f"{canonical} in Asia/Tokyo cannot be written as one UTC cron for an EventBridge rule: "
        f"{reason}; {_CANNOT}"
    )


def test_to_utc_cron_minutes_that_split_across_hours() -> None:
    # Kolkata +05:30: 10:00 -> 04:30 but 10:45 -> 05:15, not "these minutes of these hours"
    with pytest.raises(ExpressionError, match="the shifted minutes differ from hour to hour"):
        to_utc_cron(parse("cron(0,45 10 * * ? *)"), "Asia/Kolkata")


def test_to_utc_cron_dst_zone() -> None:
    with pytest.raises(ExpressionError) as info:
        to_utc_cron(parse("cron(0 9 * * ? *)"), "America/New_York")
    assert info.value.message == (
        "time zone `America/New_York` changes its UTC offset during the year (UTC-04:00 and UTC-05:00, "
        "daylight saving time), so a cron in America/New_York cannot be one UTC cron for an EventBridge "
        "rule; use `backend: scheduler`, which evaluates cron in the time zone"
    )


def test_to_utc_cron_unknown_zone() -> None:
    with pytest.raises(ExpressionError, match="unknown time zone `Asia/Tokio`"):
        to_utc_cron(parse("cron(0 9 * * ? *)"), "Asia/Tokio")


# ---------------------------------------------------------------------------------------------------
# Properties


@st.composite
def convertible_crons(draw: st.DrawFn) -> str:
    """Local crons of the shapes to_utc_cron handles: plain sets, `*`, day 1 and `L`."""
    minutes = draw(st.one_of(st.just({0}), st.sets(st.integers(0, 59), min_size=1, max_size=4)))
    hours = draw(
        st.one_of(
            st.sets(st.integers(0, 23), min_size=1, max_size=4),
            st.sets(st.integers(0, 8), min_size=1, max_size=3),  # all on the day before in UTC (Tokyo)
            st.sets(st.integers(14, 23), min_size=1, max_size=3),  # all on the day after (Honolulu)
            st.just(set(range(24))),
        )
    )
    day = draw(st.sampled_from(["every-dom", "every-dow", "dom", "dow", "first", "last"]))
    months = draw(st.one_of(st.just(set(range(1, 13))), st.sets(st.integers(1, 12), min_size=1, max_size=3)))
    if day in ("every-dom", "every-dow", "dow"):
        months = set(range(1, 13))
    dom, dow = "?", "?"
    if day == "every-dom":
        dom = "*"
    elif day == "every-dow":
        dow = "*"
    elif day == "dom":
        dom = cron_field(draw(st.sets(st.integers(2, 27), min_size=1, max_size=3)), 1, 31)
    elif day == "dow":
        dow = cron_field(draw(st.sets(st.integers(1, 7), min_size=1, max_size=3)), 1, 7)
    elif day == "first":
        dom = "1"
    else:
        dom = "L"
    return f"cron({cron_field(minutes, 0, 59)} {cron_field(hours, 0, 23)} {dom} {cron_field(months, 1, 12)} {dow} *)"


@pytest.mark.parametrize("tz", ["Asia/Tokyo", "Asia/Kolkata", "Pacific/Honolulu"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    text=convertible_crons(),
    after=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2150, 1, 1), timezones=st.just(UTC)
    ),
)
def test_to_utc_cron_fires_at_the_same_instants(tz: str, text: str, after: datetime) -> None:
    local = parse(text)
    try:
        converted = to_utc_cron(local, tz)
    except ExpressionError:
        reject()
    # Year `*` ends in 2199 on each side (a local Jan 1 can be Dec 31 in UTC): compare before that.
    end = datetime(2199, 1, 1, tzinfo=UTC)
    expected = [t for t in local.next_fire_times(500, after=after, tz=tz) if t < end]
    assert [t for t in converted.next_fire_times(500, after=after) if t < end] == expected
    assert expected

"""ecsched.expressions: fire times in time zones (DST gaps and folds), and against a minute-by-minute
reference.

Every expected fire time below was worked out by hand from a printed calendar (weekdays of 2026 etc.),
never by running the code under test.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecsched.expressions import ExpressionError, parse
from tests.expression_helpers import cron_field, fires, fires_local, utc

# ---------------------------------------------------------------------------------------------------
# Time zones (EventBridge Scheduler). New York 2026: DST starts Sun Mar 8 02:00 (-> 03:00 EDT),
# ends Sun Nov 1 02:00 EDT (-> 01:00 EST).


def test_tokyo_weekdays() -> None:
    # Fri 2026-02-27 09:30 JST = 00:30 UTC; Tokyo has no DST: 09:00 JST = 00:00 UTC
    got = fires_local("cron(0 9 ? * MON-FRI *)", "2026-02-27 00:30", 2, tz="Asia/Tokyo")
    assert got == [utc("2026-03-02 00:00"), utc("2026-03-03 00:00")]
    assert [(t.hour, t.minute, t.tzinfo) for t in got] == [(9, 0, ZoneInfo("Asia/Tokyo"))] * 2


def test_tokyo_day_boundary() -> None:
    # 03:30 JST on the 1st of the month is 18:30 UTC on the last day of the month before
    got = fires("cron(30 3 1 * ? *)", "2026-02-27 00:00", 2, tz="Asia/Tokyo")
    assert got == [utc("2026-02-28 18:30"), utc("2026-03-31 18:30")]


def test_new_york_same_wall_clock_across_spring_forward() -> None:
    got = fires_local("cron(0 9 * * ? *)", "2026-03-07 00:00", 3, tz="America/New_York")
    # 09:00 EST = 14:00 UTC, then 09:00 EDT = 13:00 UTC
    assert got == [utc("2026-03-07 14:00"), utc("2026-03-08 13:00"), utc("2026-03-09 13:00")]
    assert {(t.hour, t.minute) for t in got} == {(9, 0)}


def test_new_york_nonexistent_time_is_skipped() -> None:
    # 02:30 does not exist on Mar 8: that day has no fire
    got = fires("cron(30 2 * * ? *)", "2026-03-06 12:00", 3, tz="America/New_York")
    assert got == [utc("2026-03-07 07:30"), utc("2026-03-09 06:30"), utc("2026-03-10 06:30")]


def test_new_york_hourly_across_spring_forward() -> None:
    # after 01:00 EST (06:00 UTC): 01:15 EST, [02:15 does not exist], 03:15 EDT, 04:15 EDT
    got = fires("cron(15 * * * ? *)", "2026-03-08 06:00", 3, tz="America/New_York")
    assert got == [utc("2026-03-08 06:15"), utc("2026-03-08 07:15"), utc("2026-03-08 08:15")]


def test_new_york_repeated_time_fires_once() -> None:
    # 01:30 happens twice on Nov 1; it fires at the first one (EDT, 05:30 UTC) only
    got = fires("cron(30 1 * * ? *)", "2026-10-31 00:00", 3, tz="America/New_York")
    assert got == [utc("2026-10-31 05:30"), utc("2026-11-01 05:30"), utc("2026-11-02 06:30")]
    local = fires_local("cron(30 1 * * ? *)", "2026-10-31 00:00", 3, tz="America/New_York")
    assert [(t.day, t.hour, t.minute, t.fold) for t in local] == [
        (31, 1, 30, 0),
        (1, 1, 30, 0),
        (2, 1, 30, 0),
    ]


def test_new_york_half_hourly_across_fall_back() -> None:
    # from 00:50 EDT: 01:00 EDT, 01:30 EDT, (01:00/01:30 EST repeat: no), 02:00 EST
    got = fires("cron(0/30 * * * ? *)", "2026-11-01 04:50", 3, tz="America/New_York")
    assert got == [utc("2026-11-01 05:00"), utc("2026-11-01 05:30"), utc("2026-11-01 07:00")]
    # `after` inside the repeated hour (01:10 EST = 06:10 UTC): the next one is 02:00 EST
    got = fires("cron(0/30 * * * ? *)", "2026-11-01 06:10", 1, tz="America/New_York")
    assert got == [utc("2026-11-01 07:00")]


def test_unknown_zone() -> None:
    with pytest.raises(ExpressionError) as info:
        fires("cron(0 9 * * ? *)", "2026-01-01 00:00", 1, tz="Mars/Olympus")
    assert (
        info.value.message
        == "unknown time zone `Mars/Olympus`: use an IANA name such as `Asia/Tokyo` or `UTC`"
    )


def _oracle(minutes: set[int], hours: set[int], doms: set[int], months: set[int], dows: set[int]) -> object:
    """Minute-by-minute reference: AWS day-of-week 1 = Sunday; Python's Monday = 0."""

    def matches(t: datetime) -> bool:
        aws_dow = (t.weekday() + 1) % 7 + 1
        return (
            t.minute in minutes
            and t.hour in hours
            and t.month in months
            and t.day in doms
            and aws_dow in dows
        )

    return matches


@settings(max_examples=150, deadline=None)
@given(
    minutes=st.sets(st.integers(0, 59), min_size=1, max_size=6),
    hours=st.sets(st.integers(0, 23), min_size=1, max_size=6),
    doms=st.one_of(st.none(), st.sets(st.integers(1, 31), min_size=1, max_size=6)),
    dows=st.sets(st.integers(1, 7), min_size=1, max_size=3),
    after=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2190, 1, 1)),
)
def test_plain_crons_match_a_minute_by_minute_scan(
    minutes: set[int], hours: set[int], doms: set[int] | None, dows: set[int], after: datetime
) -> None:
    # day-of-month sets (any weekday) or day-of-week sets (any day of month), all months
    if doms is not None:
        text = f"cron({cron_field(minutes, 0, 59)} {cron_field(hours, 0, 23)} {cron_field(doms, 1, 31)} * ? *)"
        match = _oracle(minutes, hours, doms, set(range(1, 13)), set(range(1, 8)))
    else:
        text = f"cron({cron_field(minutes, 0, 59)} {cron_field(hours, 0, 23)} ? * {cron_field(dows, 1, 7)} *)"
        match = _oracle(minutes, hours, set(range(1, 32)), set(range(1, 13)), dows)
    assert callable(match)
    start = after.replace(second=0, microsecond=0, tzinfo=UTC)
    window = [start + timedelta(minutes=k) for k in range(1, 3 * 1440 + 1)]
    expected = [t for t in window if match(t)]
    got = parse(text).next_fire_times(len(expected) + 1, after=after.replace(tzinfo=UTC))
    assert got[: len(expected)] == expected
    assert got[len(expected)] > window[-1]


def test_leap_year_rule_used_by_the_oracle_tests() -> None:
    # sanity for hand-checked values above: 2100 is not a leap year, 2104 is
    assert not calendar.isleap(2100)
    assert calendar.isleap(2104)

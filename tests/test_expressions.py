"""ecsched.expressions: valid crons and their fire times, canonical text, rate() and at().

Every expected fire time below was worked out by hand from a printed calendar (weekdays of 2026 etc.),
never by running the code under test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ecsched.expressions import Expression, parse
from tests.expression_helpers import fires, fires_local, utc

# ---------------------------------------------------------------------------------------------------
# Valid crons: every example of AWS's EventBridge cron reference, then L, W, LW, #, names, years.
# 2026-02-27 is a Friday; 2026-03-01 a Sunday.

AWS_DOC_EXAMPLES = [
    # Run at 10:00 am (UTC+0) every day
    ("cron(0 10 * * ? *)", "2026-02-27 12:00", ["2026-02-28 10:00", "2026-03-01 10:00", "2026-03-02 10:00"]),
    # Run at 12:15 pm (UTC+0) every day
    ("cron(15 12 * * ? *)", "2026-02-27 12:00", ["2026-02-27 12:15", "2026-02-28 12:15", "2026-03-01 12:15"]),
    # Run at 6:00 pm (UTC+0) every Monday through Friday
    (
        "cron(0 18 ? * MON-FRI *)",
        "2026-02-27 12:00",
        ["2026-02-27 18:00", "2026-03-02 18:00", "2026-03-03 18:00"],
    ),
    # Run at 8:00 am (UTC+0) every 1st day of the month
    ("cron(0 8 1 * ? *)", "2026-02-27 12:00", ["2026-03-01 08:00", "2026-04-01 08:00", "2026-05-01 08:00"]),
    # Run every 15 minutes (a fire time equal to `after` is not "after")
    (
        "cron(0/15 * * * ? *)",
        "2026-02-27 12:00",
        ["2026-02-27 12:15", "2026-02-27 12:30", "2026-02-27 12:45"],
    ),
    # Run every 10 minutes Monday through Friday
    (
        "cron(0/10 * ? * MON-FRI *)",
        "2026-02-27 23:45",
        ["2026-02-27 23:50", "2026-03-02 00:00", "2026-03-02 00:10"],
    ),
    # Run every 5 minutes Monday through Friday between 8:00 am and 5:55 pm (UTC+0)
    (
        "cron(0/5 8-17 ? * MON-FRI *)",
        "2026-02-27 17:50",
        ["2026-02-27 17:55", "2026-03-02 08:00", "2026-03-02 08:05"],
    ),
    # Run at 9 a.m. (UTC) on the first Monday of each month
    ("cron(0 9 ? * 2#1 *)", "2026-02-27 12:00", ["2026-03-02 09:00", "2026-04-06 09:00", "2026-05-04 09:00"]),
]

MORE_VALID = [
    # last Friday of the month (Feb 27 10:15 is already past)
    (
        "cron(15 10 ? * 6L *)",
        "2026-02-27 12:00",
        ["2026-03-27 10:15", "2026-04-24 10:15", "2026-05-29 10:15"],
    ),
    ("cron(15 10 ? * FRIL *)", "2026-02-27 12:00", ["2026-03-27 10:15"]),
    # last day of the month
    ("cron(0 0 L * ? *)", "2026-02-27 12:00", ["2026-02-28 00:00", "2026-03-31 00:00", "2026-04-30 00:00"]),
    # last weekday: Feb 28 is a Saturday -> Fri 27 (already past); May 31 is a Sunday -> Fri 29
    ("cron(0 0 LW * ? *)", "2026-02-27 12:00", ["2026-03-31 00:00", "2026-04-30 00:00", "2026-05-29 00:00"]),
    # weekday nearest the 15th: Mar 15 is a Sunday -> Mon 16
    ("cron(0 0 15W * ? *)", "2026-02-27 12:00", ["2026-03-16 00:00", "2026-04-15 00:00", "2026-05-15 00:00"]),
    # Aug 1 2026 is a Saturday: 1W does not leave the month, so Monday Aug 3
    ("cron(0 0 1W * ? *)", "2026-07-15 00:00", ["2026-08-03 00:00"]),
    # May 31 2026 is a Sunday -> Fri 29; June has no 31st; Jul 31 is a Friday
    ("cron(0 0 31W * ? *)", "2026-05-01 00:00", ["2026-05-29 00:00", "2026-07-31 00:00"]),
    # second Tuesday
    (
        "cron(0 12 ? * 3#2 *)",
        "2026-02-27 12:00",
        ["2026-03-10 12:00", "2026-04-14 12:00", "2026-05-12 12:00"],
    ),
    # fifth Friday: none in March or April 2026, May 29 is one
    ("cron(0 12 ? * 6#5 *)", "2026-02-27 12:00", ["2026-05-29 12:00"]),
    # bare L in day-of-week is Saturday
    ("cron(0 0 ? * L *)", "2026-02-27 12:00", ["2026-02-28 00:00", "2026-03-07 00:00", "2026-03-14 00:00"]),
    # Feb 29: 2100 is not a leap year, so 2097 -> 2104 (would be ~3.7M minutes if scanned)
    ("cron(0 12 29 2 ? *)", "2097-03-01 00:00", ["2104-02-29 12:00", "2108-02-29 12:00"]),
    ("cron(0 12 29 2 ? *)", "2026-01-01 00:00", ["2028-02-29 12:00"]),
    # months and a year
    (
        "cron(0 12 ? JAN,JUL SUN 2027)",
        "2026-02-27 12:00",
        [
            "2027-01-03 12:00",
            "2027-01-10 12:00",
            "2027-01-17 12:00",
            "2027-01-24 12:00",
            "2027-01-31 12:00",
            "2027-07-04 12:00",
            "2027-07-11 12:00",
        ],
    ),
    # lower-case names, as AWS accepts
    ("cron(0 18 ? jan-mar mon *)", "2026-02-27 12:00", ["2026-03-02 18:00"]),
    # wrap-around ranges (Quartz semantics)
    (
        "cron(0 22-2 * * ? *)",
        "2026-02-27 12:00",
        ["2026-02-27 22:00", "2026-02-27 23:00", "2026-02-28 00:00", "2026-02-28 01:00", "2026-02-28 02:00"],
    ),
    (
        "cron(30 9 ? * FRI-MON *)",
        "2026-02-27 12:00",
        ["2026-02-28 09:30", "2026-03-01 09:30", "2026-03-02 09:30", "2026-03-06 09:30"],
    ),
    # steps from a start, */k, ranges with steps
    (
        "cron(1/10 * * * ? *)",
        "2026-02-27 12:00",
        ["2026-02-27 12:01", "2026-02-27 12:11", "2026-02-27 12:21"],
    ),
    ("cron(*/20 * * * ? *)", "2026-02-27 12:50", ["2026-02-27 13:00", "2026-02-27 13:20"]),
    (
        "cron(0 11-23/4 * * ? *)",
        "2026-02-27 12:00",
        ["2026-02-27 15:00", "2026-02-27 19:00", "2026-02-27 23:00"],
    ),
    (
        "cron(0 0 1 1-12/3 ? *)",
        "2026-02-27 12:00",
        ["2026-04-01 00:00", "2026-07-01 00:00", "2026-10-01 00:00"],
    ),
    # day-of-month lists: no 31st in April
    (
        "cron(0 0 15,31 * ? *)",
        "2026-03-20 00:00",
        ["2026-03-31 00:00", "2026-04-15 00:00", "2026-05-15 00:00"],
    ),
]


def test_fire_times_run_out_with_the_year_field() -> None:
    # a year range entirely in the past is allowed and never fires again
    assert fires("cron(0 0 1 1 ? 2000-2010)", "2026-02-27 12:00", 3) == []
    # the year field ends in 2199
    got = fires("cron(0 0 31 12 ? *)", "2198-06-01 00:00", 5)
    assert got == [utc("2198-12-31 00:00"), utc("2199-12-31 00:00")]


@pytest.mark.parametrize(("text", "after", "expected"), AWS_DOC_EXAMPLES + MORE_VALID)
def test_next_fire_times_utc(text: str, after: str, expected: list[str]) -> None:
    got = fires_local(text, after, len(expected))
    assert got == [utc(e) for e in expected]
    assert all(t.utcoffset() == timedelta(0) for t in got)


def test_next_fire_times_seconds_in_after_are_not_a_fire_time() -> None:
    assert fires("cron(* * * * ? *)", "2026-02-27 12:00:30", 2) == [
        utc("2026-02-27 12:01"),
        utc("2026-02-27 12:02"),
    ]


def test_next_fire_times_naive_after_is_utc_and_default_is_now() -> None:
    expr = parse("cron(0 10 * * ? *)")
    assert expr.next_fire_times(1, after=datetime(2026, 2, 27, 12)) == [utc("2026-02-28 10:00")]
    before = datetime.now(UTC)
    (first,) = expr.next_fire_times(1)
    assert before < first <= before + timedelta(days=1)
    assert expr.next_fire_times(0) == []


# ---------------------------------------------------------------------------------------------------
# Canonical text


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("  cron(0   18 ?  * mon-fri *)  ", "cron(0 18 ? * MON-FRI *)"),
        ("cron( 0 10 * * ? * )", "cron(0 10 * * ? *)"),
        ("rate(5   minutes)", "rate(5 minutes)"),
        (" rate(1 day) ", "rate(1 day)"),
        ("cron(15 10 ? * 6l *)", "cron(15 10 ? * 6L *)"),
    ],
)
def test_canonical_text(text: str, canonical: str) -> None:
    expr = parse(text)
    assert expr.text == canonical
    assert str(expr) == canonical
    assert expr == Expression(expr.kind, canonical)


def test_kinds() -> None:
    assert parse("cron(0 10 * * ? *)").kind == "cron"
    assert parse("rate(5 minutes)").kind == "rate"
    assert parse("at(2026-12-01T10:00:00)", allow_at=True).kind == "at"
    assert parse("at( 2026-12-01T10:00:00 )", allow_at=True).text == "at(2026-12-01T10:00:00)"


# ---------------------------------------------------------------------------------------------------
# rate() and at()


def test_rate_fire_times() -> None:
    got = fires("rate(5 minutes)", "2026-02-27 12:00:30", 3)
    assert got == [utc("2026-02-27 12:05:30"), utc("2026-02-27 12:10:30"), utc("2026-02-27 12:15:30")]
    assert fires("rate(1 hour)", "2026-02-27 23:30", 2) == [utc("2026-02-28 00:30"), utc("2026-02-28 01:30")]


def test_rate_days_are_24_hours_even_across_dst() -> None:
    got = fires_local("rate(1 day)", "2026-03-07 17:00", 2, tz="America/New_York")
    assert got == [utc("2026-03-08 17:00"), utc("2026-03-09 17:00")]
    assert [t.hour for t in got] == [13, 13]  # 12:00 EST + 24 h = 13:00 EDT
    assert got[0].tzinfo == ZoneInfo("America/New_York")


def test_at_fire_times() -> None:
    # at() is read in the schedule's zone: 10:00 JST = 01:00 UTC
    assert fires("at(2026-12-01T10:00:00)", "2026-01-01 00:00", 3, tz="Asia/Tokyo") == [
        utc("2026-12-01 01:00")
    ]
    assert fires("at(2026-12-01T10:00:00)", "2026-12-01 01:00", 3, tz="Asia/Tokyo") == []
    assert fires("at(2026-12-01T10:00:00)", "2026-01-01 00:00", 3) == [utc("2026-12-01 10:00")]

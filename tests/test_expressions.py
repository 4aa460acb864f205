"""Tests for ecsched.expressions.

Every expected fire time below was worked out by hand from a printed calendar (weekdays of 2026 etc.),
never by running the code under test.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from ecsched.expressions import Expression, ExpressionError, parse, to_utc_cron


def utc(text: str) -> datetime:
    """'2026-03-02 09:00' -> aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def fires_local(expr: str, after: str, n: int, tz: str = "UTC") -> list[datetime]:
    return parse(expr, allow_at=True).next_fire_times(n, after=utc(after), tz=tz)


def fires(expr: str, after: str, n: int, tz: str = "UTC") -> list[datetime]:
    """The fire times as UTC instants: Python's == never equates a local time inside a repeated
    (fall-back) hour with a time in another zone, so compare instants."""
    return [t.astimezone(UTC) for t in fires_local(expr, after, n, tz)]


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
# Invalid expressions and their exact messages

INVALID = [
    (
        "cron(0 0 * * *)",
        "cron() needs 6 fields (minutes hours day-of-month month day-of-week year), got 5",
        None,
    ),
    (
        "cron(0 0 * * ? * *)",
        "cron() needs 6 fields (minutes hours day-of-month month day-of-week year), got 7",
        None,
    ),
    ("cron()", "cron() needs 6 fields (minutes hours day-of-month month day-of-week year), got 0", None),
    ("cron(60 0 * * ? *)", "minutes `60` is out of range 0-59", "minutes"),
    ("cron(0 24 * * ? *)", "hours `24` is out of range 0-23", "hours"),
    ("cron(0 0 32 * ? *)", "day-of-month `32` is out of range 1-31", "day-of-month"),
    ("cron(0 0 0 * ? *)", "day-of-month `0` is out of range 1-31", "day-of-month"),
    ("cron(0 0 1 13 ? *)", "month `13` is out of range 1-12 (JAN-DEC)", "month"),
    ("cron(0 0 ? * 8 *)", "day-of-week `8` is out of range 1-7 (SUN-SAT)", "day-of-week"),
    ("cron(0 0 ? * 0 *)", "day-of-week `0` is out of range 1-7 (SUN-SAT)", "day-of-week"),
    ("cron(0 0 ? * 1-8 *)", "day-of-week `8` is out of range 1-7 (SUN-SAT)", "day-of-week"),
    ("cron(0 0 1 * ? 1969)", "year `1969` is out of range 1970-2199", "year"),
    ("cron(0 0 1 * ? 2200)", "year `2200` is out of range 1970-2199", "year"),
    ("cron(0 0 ? * MOON *)", "day-of-week `MOON` is not a valid value (1-7 (SUN-SAT))", "day-of-week"),
    ("cron(0 0 1 JANUARY ? *)", "month `JANUARY` is not a valid value (1-12 (JAN-DEC))", "month"),
    ("cron(x 0 1 * ? *)", "minutes `X` is not a valid value (0-59)", "minutes"),
    ("cron(0 0 * * * *)", "exactly one of day-of-month and day-of-week must be `?`", None),
    ("cron(0 0 1 * MON *)", "exactly one of day-of-month and day-of-week must be `?`", None),
    ("cron(0 0 ? * ? *)", "exactly one of day-of-month and day-of-week must be `?`", None),
    (
        "cron(? 0 1 * ? *)",
        "minutes `?` is not allowed: `?` only works in day-of-month and day-of-week",
        "minutes",
    ),
    ("cron(0 0 1 * ? ?)", "year `?` is not allowed: `?` only works in day-of-month and day-of-week", "year"),
    ("cron(0/0 0 1 * ? *)", "minutes step `/0` is out of range 1-59", "minutes"),
    ("cron(0/60 0 1 * ? *)", "minutes step `/60` is out of range 1-59", "minutes"),
    ("cron(0 0/x 1 * ? *)", "hours `0/X`: the step after `/` must be a whole number", "hours"),
    ("cron(0,,5 0 1 * ? *)", "minutes `0,,5` has an empty list item", "minutes"),
    (
        "cron(5- 0 1 * ? *)",
        "minutes `5-` is not valid: a range needs a value on each side of `-`",
        "minutes",
    ),
    ("cron(0 0 1 * ? 2030-2020)", "year range `2030-2020` must go from the lower to the higher year", "year"),
    (
        "cron(0 0 ? * 1/2 *)",
        "day-of-week `1/2`: `/` is not allowed in day-of-week (use , - * ? L #)",
        "day-of-week",
    ),
    (
        "cron(0 0 L-2 * ? *)",
        "day-of-month `L-2` is not supported by EventBridge: use `L` for the last day",
        "day-of-month",
    ),
    (
        "cron(0 0 1,15W * ? *)",
        "day-of-month `1,15W`: `L`, `W` and `#` must stand alone (e.g. `L`, `15W`, `6L`, `3#2`)",
        "day-of-month",
    ),
    (
        "cron(0 0 L,15 * ? *)",
        "day-of-month `L,15`: `L`, `W` and `#` must stand alone (e.g. `L`, `15W`, `6L`, `3#2`)",
        "day-of-month",
    ),
    ("cron(0 0 32W * ? *)", "day-of-month `32` is out of range 1-31", "day-of-month"),
    (
        "cron(0 0 ? * 3#1,6#3 *)",
        "day-of-week `3#1,6#3`: only one `#` expression is allowed, not in a list",
        "day-of-week",
    ),
    ("cron(0 0 ? * 3#6 *)", "day-of-week `3#6`: the number after `#` must be 1-5", "day-of-week"),
    ("cron(0 0 ? * 3#0 *)", "day-of-week `3#0`: the number after `#` must be 1-5", "day-of-week"),
    ("cron(0 0 ? * 9#1 *)", "day-of-week `9` is out of range 1-7 (SUN-SAT)", "day-of-week"),
    ("cron(0 0 ? * 8L *)", "day-of-week `8` is out of range 1-7 (SUN-SAT)", "day-of-week"),
    (
        "cron(0 0 ? * 2L,3 *)",
        "day-of-week `2L,3`: `L`, `W` and `#` must stand alone (e.g. `L`, `15W`, `6L`, `3#2`)",
        "day-of-week",
    ),
    ("cron(0 0 ?,1 * ? *)", "day-of-month `?,1`: `?` must stand alone", "day-of-month"),
    # crons that can never fire
    (
        "cron(0 0 30 2 ? *)",
        "cron(0 0 30 2 ? *) never fires: day-of-month `30` never falls in month `2`",
        "day-of-month",
    ),
    (
        "cron(0 0 31 4 ? *)",
        "cron(0 0 31 4 ? *) never fires: day-of-month `31` never falls in month `4`",
        "day-of-month",
    ),
    (
        "cron(0 0 31 APR,JUN,SEP,NOV ? *)",
        "cron(0 0 31 APR,JUN,SEP,NOV ? *) never fires: "
        "day-of-month `31` never falls in month `APR,JUN,SEP,NOV`",
        "day-of-month",
    ),
    (
        "cron(0 0 29 2 ? 2100)",
        "cron(0 0 29 2 ? 2100) never fires: day-of-month `29` never falls in month `2` in year `2100`",
        "day-of-month",
    ),
    # February 2026 has only four Thursdays
    (
        "cron(0 0 ? 2 5#5 2026)",
        "cron(0 0 ? 2 5#5 2026) never fires: day-of-week `5#5` never falls in month `2` in year `2026`",
        "day-of-week",
    ),
    (
        "cron(0 0 30W 2 ? *)",
        "cron(0 0 30W 2 ? *) never fires: day-of-month `30W` never falls in month `2`",
        "day-of-month",
    ),
    # rate()
    (
        "rate(1 minutes)",
        "rate(1 minutes) needs the singular unit when the value is 1: write rate(1 minute)",
        None,
    ),
    ("rate(1 hours)", "rate(1 hours) needs the singular unit when the value is 1: write rate(1 hour)", None),
    ("rate(5 minute)", "rate(5 minute) needs a plural unit: write rate(5 minutes)", None),
    ("rate(2 day)", "rate(2 day) needs a plural unit: write rate(2 days)", None),
    (
        "rate(0 minutes)",
        "rate(0 minutes): the value must be a positive whole number, e.g. rate(5 minutes)",
        None,
    ),
    (
        "rate(-5 minutes)",
        "rate(-5 minutes): the value must be a positive whole number, e.g. rate(5 minutes)",
        None,
    ),
    (
        "rate(1.5 hours)",
        "rate(1.5 hours): the value must be a positive whole number, e.g. rate(5 minutes)",
        None,
    ),
    ("rate(5 weeks)", "rate(5 weeks): the unit must be minute(s), hour(s) or day(s)", None),
    ("rate(5 seconds)", "rate(5 seconds): the unit must be minute(s), hour(s) or day(s)", None),
    ("rate(5)", "rate(5) needs a value and a unit, e.g. rate(5 minutes)", None),
    # not an expression at all
    ("every 5 minutes", "`every 5 minutes` is not a schedule expression: use cron(...) or rate(...)", None),
    ("", "`` is not a schedule expression: use cron(...) or rate(...)", None),
    (
        "cron 0 10 * * ? *",
        "`cron 0 10 * * ? *` is not a schedule expression: use cron(...) or rate(...)",
        None,
    ),
    ("0 10 * * ? *", "`0 10 * * ? *` is not a schedule expression: use cron(...) or rate(...)", None),
    # at() belongs to EventBridge Scheduler
    (
        "at(2026-12-01T10:00:00)",
        "at() one-time schedules need `backend: scheduler`; EventBridge rules accept only cron() and rate()",
        None,
    ),
]


@pytest.mark.parametrize(("text", "message", "field"), INVALID)
def test_invalid(text: str, message: str, field: str | None) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(text)
    assert info.value.message == message
    assert str(info.value) == message
    assert info.value.field == field
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "at(2026-12-01 10:00:00)",
            "at(2026-12-01 10:00:00) is not a valid date-time: use at(yyyy-mm-ddThh:mm:ss)",
        ),
        (
            "at(2026-13-01T10:00:00)",
            "at(2026-13-01T10:00:00) is not a valid date-time: use at(yyyy-mm-ddThh:mm:ss)",
        ),
        (
            "at(2026-02-30T10:00:00)",
            "at(2026-02-30T10:00:00) is not a valid date-time: use at(yyyy-mm-ddThh:mm:ss)",
        ),
        (
            "at(2026-12-01T10:00)",
            "at(2026-12-01T10:00) is not a valid date-time: use at(yyyy-mm-ddThh:mm:ss)",
        ),
        ("nope", "`nope` is not a schedule expression: use cron(...), rate(...) or at(...)"),
    ],
)
def test_invalid_with_at(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=None) as info:
        parse(text, allow_at=True)
    assert info.value.message == message


def test_non_string_is_rejected() -> None:
    with pytest.raises(ExpressionError) as info:
        parse(5)  # type: ignore[arg-type]
    assert info.value.message == "a schedule expression must be text, got int"


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


# ---------------------------------------------------------------------------------------------------
# describe()


@pytest.mark.parametrize(
    ("text", "tz", "description"),
    [
        ("cron(30 18 * * ? *)", "UTC", "At 18:30 UTC every day"),
        ("cron(0 9 ? * MON-FRI *)", "Asia/Tokyo", "At 09:00 Asia/Tokyo on Monday through Friday"),
        ("cron(0 10 * * ? *)", "UTC", "At 10:00 UTC every day"),
        ("cron(0 8 1 * ? *)", "UTC", "At 08:00 UTC on day 1 of the month"),
        ("cron(0/15 * * * ? *)", "UTC", "Every 15 minutes (UTC)"),
        ("cron(0/10 * ? * MON-FRI *)", "UTC", "Every 10 minutes on Monday through Friday (UTC)"),
        (
            "cron(0/5 8-17 ? * MON-FRI *)",
            "UTC",
            "Every 5 minutes from 08:00 through 17:55 UTC on Monday through Friday",
        ),
        ("cron(0 9 ? * 2#1 *)", "UTC", "At 09:00 UTC on the first Monday of the month"),
        ("cron(15 10 ? * 6L *)", "UTC", "At 10:15 UTC on the last Friday of the month"),
        ("cron(0 0 L * ? *)", "UTC", "At 00:00 UTC on the last day of the month"),
        ("cron(0 0 LW * ? *)", "UTC", "At 00:00 UTC on the last weekday of the month"),
        ("cron(0 0 15W * ? *)", "UTC", "At 00:00 UTC on the weekday nearest day 15 of the month"),
        ("cron(0 6,18 1,15 * ? *)", "UTC", "At 06:00 and 18:00 UTC on days 1 and 15 of the month"),
        ("cron(0 12 ? JAN,JUL SUN 2027)", "UTC", "At 12:00 UTC on Sunday in January and July in 2027"),
        ("cron(30 * * * ? *)", "Asia/Kolkata", "At minute 30 of every hour (Asia/Kolkata)"),
        (
            "cron(0 0/2 ? * SAT,SUN *)",
            "UTC",
            "At minute 0 during hours 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20 and 22 UTC "
            "on Sunday and Saturday",
        ),
        ("cron(* * * * ? *)", "UTC", "Every minute (UTC)"),
        ("cron(0/5 8 * * ? *)", "UTC", "Every 5 minutes from 08:00 through 08:55 UTC"),
        ("cron(5/15 * * JAN ? *)", "UTC", "Every 15 minutes starting at minute 5 in January (UTC)"),
        (
            "cron(0,20,45 8-10 * * ? *)",
            "UTC",
            "At minutes 0, 20 and 45 from 08:00 through 10:45 UTC every day",
        ),
        ("rate(5 minutes)", "UTC", "Every 5 minutes"),
        ("rate(1 minute)", "UTC", "Every minute"),
        ("rate(1 hour)", "Asia/Tokyo", "Every hour"),
        ("rate(3 days)", "UTC", "Every 3 days"),
        ("at(2026-12-01T10:00:00)", "UTC", "Once at 2026-12-01 10:00 UTC"),
        ("at(2026-12-01T10:00:30)", "Asia/Tokyo", "Once at 2026-12-01 10:00:30 Asia/Tokyo"),
    ],
)
def test_describe(text: str, tz: str, description: str) -> None:
    assert parse(text, allow_at=True).describe(tz) == description


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


def _field(values: set[int], lo: int, hi: int) -> str:
    return "*" if values == set(range(lo, hi + 1)) else ",".join(str(v) for v in sorted(values))


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
        dom = _field(draw(st.sets(st.integers(2, 27), min_size=1, max_size=3)), 1, 31)
    elif day == "dow":
        dow = _field(draw(st.sets(st.integers(1, 7), min_size=1, max_size=3)), 1, 7)
    elif day == "first":
        dom = "1"
    else:
        dom = "L"
    return f"cron({_field(minutes, 0, 59)} {_field(hours, 0, 23)} {dom} {_field(months, 1, 12)} {dow} *)"


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
        text = f"cron({_field(minutes, 0, 59)} {_field(hours, 0, 23)} {_field(doms, 1, 31)} * ? *)"
        match = _oracle(minutes, hours, doms, set(range(1, 13)), set(range(1, 8)))
    else:
        text = f"cron({_field(minutes, 0, 59)} {_field(hours, 0, 23)} ? * {_field(dows, 1, 7)} *)"
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

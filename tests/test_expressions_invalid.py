"""ecsched.expressions: invalid expressions, each with its exact message."""

from __future__ import annotations

import pytest

from ecsched.expressions import ExpressionError, parse

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

"""A local-time cron moved to UTC (`to_utc_cron`) fires at exactly the local cron's instants, or is
refused with a reason. Brute force: every fire time over two years, for random simple crons, in zones
ahead of UTC, behind it, with a half-hour offset, and with daylight-saving time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from ecsched.expressions import ExpressionError, parse, to_utc_cron

FIXED = ["Asia/Tokyo", "Pacific/Honolulu", "Asia/Kolkata", "America/Panama", "Pacific/Kiritimati", "UTC"]
DST = ["Europe/London", "America/St_Johns", "Australia/Lord_Howe", "America/New_York"]
START = datetime(2027, 1, 1, tzinfo=UTC)
END = datetime(2029, 1, 1, tzinfo=UTC)
MANY = 4_500  # more than two years of any cron drawn below (2 minutes x 3 hours x 731 days)


def fires(text: str, tz: str) -> list[float]:
    got = parse(text).next_fire_times(MANY, after=START, tz=tz)
    assert len(got) < MANY or got[-1].astimezone(UTC) >= END, "raise MANY: the window was not covered"
    return [t.timestamp() for t in got if t.astimezone(UTC) < END]


def _values(lo: int, hi: int, most: int) -> st.SearchStrategy[str]:
    return st.lists(st.integers(lo, hi), min_size=1, max_size=most, unique=True).map(
        lambda vs: ",".join(str(v) for v in sorted(vs)))


@st.composite
def crons(draw: st.DrawFn) -> str:
    minute = draw(_values(0, 59, 2))
    hour = draw(_values(0, 23, 3))
    day = draw(st.sampled_from(["all", "dom", "dow", "L"]))
    month = draw(st.one_of(st.just("*"), _values(1, 12, 3)))
    if day == "all":
        dom, dow = "*", "?"
    elif day == "dom":
        dom, dow = draw(_values(1, 31, 3)), "?"
    elif day == "L":
        dom, dow = "L", "?"
    else:
        dom, dow = "?", draw(_values(1, 7, 3))
    return f"cron({minute} {hour} {dom} {month} {dow} *)"


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(cron=crons(), tz=st.sampled_from(FIXED + DST))
@example(cron="cron(0 20 15,31 4 ? *)", tz="Pacific/Honolulu")
@example(cron="cron(0 2 15,31 4 ? *)", tz="Asia/Tokyo")
@example(cron="cron(30 23 30,31 2,4 ? *)", tz="Pacific/Honolulu")
def test_the_utc_cron_fires_exactly_when_the_local_one_does(cron: str, tz: str) -> None:
    try:
        local = parse(cron)
    except ExpressionError:
        assume(False)  # e.g. day 31 in February only: never fires, refused at parse
        return
    try:
        utc = to_utc_cron(local, tz)
    except ExpressionError as e:
        # A refusal is one of the reasons to_utc_cron gives (not, say, a shifted day 32 that fails to
        # parse): it names the expression and the zone, says why, and points to the way that works.
        said = str(e)
        if tz in DST:
            assert f"time zone `{tz}` changes its UTC offset" in said
        else:
            assert f"{local.text} in {tz} cannot be written as one UTC cron for an EventBridge rule: " in said
        assert "backend: scheduler" in said
        return
    assert tz not in DST, f"{cron} in {tz} (DST) was converted to {utc}"
    assert fires(utc.text, "UTC") == fires(cron, tz), f"{cron} in {tz} -> {utc}"


@pytest.mark.parametrize(("local", "tz", "utc"), [
    # Behind UTC: April has no 31st, so only the 15th moves (to the 16th), not to a day 32.
    ("cron(0 20 15,31 4 ? *)", "Pacific/Honolulu", "cron(0 6 16 4 ? *)"),
    # Ahead of UTC: the 31st of April does not exist, so it cannot block moving the 15th to the 14th.
    ("cron(0 2 15,31 4 ? *)", "Asia/Tokyo", "cron(0 17 14 4 ? *)"),
    ("cron(0 20 15,31 4,6 ? *)", "Pacific/Honolulu", "cron(0 6 16 4,6 ? *)"),
    ("cron(0 2 10,30 2 ? *)", "Asia/Tokyo", "cron(0 17 9 2 ? *)"),
])
def test_days_that_no_listed_month_has_are_dropped_before_shifting(local: str, tz: str, utc: str) -> None:
    assert to_utc_cron(parse(local), tz).text == utc
    assert fires(utc, "UTC") == fires(local, tz)


def test_a_leap_day_that_would_fire_in_other_years_is_still_refused() -> None:
    # 02:00 on 29 February in Tokyo is 17:00 UTC on the 28th, which a UTC cron would also hit in common years.
    with pytest.raises(ExpressionError, match="day 29 does not move"):
        to_utc_cron(parse("cron(0 2 29 2 ? *)"), "Asia/Tokyo")

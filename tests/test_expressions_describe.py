"""ecsched.expressions: describe() in words."""

from __future__ import annotations

import pytest

from ecsched.expressions import parse

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

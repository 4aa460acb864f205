"""`ecsched timeline`: lanes, peaks, paused lanes, the HTML file (its browser check is in
test_timeline_browser.py). No AWS is needed without `history:`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ecsched.insight import timeline
from ecsched.model import EcsTarget, Schedule

START = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)


def sched(name: str, expr: str, enabled: bool = True, backend: str = "rules", tz: str | None = None) -> Schedule:
    target = EcsTarget(name, "arn:aws:ecs:us-east-1:1:cluster/api", "arn:aws:iam::1:role/r",
                       "arn:aws:ecs:us-east-1:1:task-definition/app:1")
    return Schedule(name, expr, target, "us-east-1", enabled=enabled, backend=backend, timezone=tz)  # type: ignore[arg-type]


def write(tmp: Path, rules: list[tuple[str, str, bool]], tz: str | None = None) -> str:
    lines = ["region: us-east-1", "cluster: api", "role: r"] + ([f"timezone: {tz}"] if tz else []) + ["rules:"]
    for name, expr, disabled in rules:
        lines += [f"  - name: {name}", f"    scheduleExpression: {expr}", "    taskDefinition: app"]
        if disabled:
            lines.append("    disabled: true")
    p = tmp / "ecsched.yaml"
    p.write_text("\n".join(lines) + "\n")
    return str(p)


def test_peaks_fold_daily_pileups_and_skip_paused_and_frequent() -> None:
    ss = [sched(f"n{i}", "cron(0 18 * * ? *)") for i in range(4)]
    ss += [sched("paused", "cron(0 18 * * ? *)", enabled=False), sched("often", "cron(*/5 * * * ? *)"),
           sched("rate", "rate(1 hour)"), sched("pair-a", "cron(30 6 * * ? *)"), sched("pair-b", "cron(30 6 * * ? *)")]
    lanes = timeline.lanes(ss, START, START + timedelta(days=3))
    peaks = timeline.peaks(lanes, ZoneInfo("Asia/Tokyo"))
    assert [(p.time, p.names, len(p.days)) for p in peaks] == [("03:00", ("n0", "n1", "n2", "n3"), 3)]
    text = timeline.describe(peaks[0], "Asia/Tokyo", 3)
    assert text == "03:00 Asia/Tokyo: 4 batches start within 1 minute: n0, n1, n2, n3 (every day)"
    assert [lane.name for lane in lanes if lane.frequent] == ["often"]


def test_scheduler_lanes_fire_in_their_zone() -> None:
    s = sched("tokyo", "cron(0 9 * * ? *)", backend="scheduler", tz="Asia/Tokyo")
    [lane] = timeline.lanes([s], START, START + timedelta(days=2))
    assert [t.hour for t in lane.fires] == [0, 0]  # 09:00 JST is 00:00 UTC


def test_columns_and_strip() -> None:
    fires = [START + timedelta(hours=h) for h in (0, 1, 1, 12, 12, 12, 12)]
    counts = timeline.columns(fires, START, START + timedelta(days=1), 24)
    assert counts[0] == 1 and counts[1] == 2 and counts[12] == 4 and sum(counts) == 7
    assert timeline.strip(counts)[:2] == "│┃" and timeline.strip(counts)[12] == "▌"


def test_cli_lanes_piped_and_html(cli: Any, tmp_path: Path) -> None:
    cfg = write(tmp_path, [("report-a", "cron(0 3 * * ? *)", False), ("report-b", "cron(0 3 * * ? *)", False),
                           ("report-c", "cron(0 3 * * ? *)", False), ("paused-one", "cron(0 4 * * ? *)", True),
                           ("minutely", "rate(1 minute)", False)], tz="Asia/Tokyo")
    out = tmp_path / "t.html"
    res = cli("-c", cfg, "timeline", "--days", "3", "--tz", "Asia/Tokyo", "--html", str(out))
    assert res.code == 0, res.err
    lines = res.out.splitlines()
    assert lines[0] == "5 schedules, next 3 days, times in Asia/Tokyo"
    lane = {ln.split()[0]: ln for ln in lines[2:7]}
    assert lane["report-a"].count("│") == 3 and lane["paused-one"].endswith("(paused)")
    assert "03:00 Asia/Tokyo: 3 batches start within 1 minute: report-a, report-b, report-c (every day)" in res.out
    assert "Frequent (more than once per 10 minutes, not in peaks): minutely" in res.out
    assert "\x1b[" not in res.out
    page = out.read_text()
    assert page.count('class="lane"') == 4 and page.count('class="lane paused"') == 1
    assert page.count('<li class="peak">') == 1 and "prefers-color-scheme: dark" in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?https?:""", page) and "<script" not in page
    assert "@import" not in page and "url(" not in page


def test_days_out_of_range_is_a_usage_error(cli: Any, tmp_path: Path) -> None:
    cfg = write(tmp_path, [("a", "cron(0 3 * * ? *)", False)])
    res = cli("-c", cfg, "timeline", "--days", "15")
    assert res.code == 1 and "1-14" in res.err


@pytest.mark.parametrize("days", ["1", "14"])
def test_days_bounds_accepted(cli: Any, tmp_path: Path, days: str) -> None:
    cfg = write(tmp_path, [("a", "cron(0 3 * * ? *)", False)])
    assert cli("-c", cfg, "timeline", "--days", days).code == 0


def test_unwritable_html_is_one_clear_error(cli: Any, tmp_path: Path) -> None:
    cfg = write(tmp_path, [("a", "cron(0 3 * * ? *)", False)])
    res = cli("-c", cfg, "timeline", "--html", str(tmp_path / "no" / "such" / "dir.html"))
    assert res.code == 1 and "cannot write" in res.err and "Traceback" not in res.err


def test_preview_for_diff_uses_the_files_zone() -> None:
    from ecsched.insight.ticks import preview

    rules = sched("weekly", "cron(30 18 ? * SUN *)")  # 03:30 JST on Mondays, as a rule runs it in UTC
    rules = Schedule(rules.name, rules.expression, rules.target, rules.region,
                     local_expression="cron(30 3 ? * MON *) Asia/Tokyo")
    assert preview(rules, now=START) == "next: Mon 12-07 03:30 JST, Mon 12-14 03:30 JST, Mon 12-21 03:30 JST"
    assert preview(sched("r", "rate(5 minutes)"), now=START).startswith("next: none (rate()")

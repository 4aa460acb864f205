"""The plan's views: markdown (the PR comment), text and json."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from ecsched import planview as render
from ecsched.model import Schedule
from ecsched.plan import Change, Live, Plan, make_plan
from ecsched.term import Term
from tests.test_plan import APPLIED, live, schedule

NOW = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)


def plan_of(*pairs: tuple[Schedule, Live | None]) -> Plan:
    return make_plan([s for s, _ in pairs], {s.name: lv for s, lv in pairs if lv is not None})


def test_markdown_has_marker_table_details_and_fire_times() -> None:
    plan = plan_of((schedule("report", command="run --full"), live(schedule("report"), schedule("report"))),
                   (schedule("new", expr="cron(0 9 ? * MON-FRI *)"), None))
    md = render.markdown(plan, now=NOW)
    assert md.startswith("<!-- ecsched:plan -->\n### ecsched plan\n")
    path = plan.changes[0].fields[0].path  # containerOverrides[0].command, or [app] with identity matching
    assert f"| ~ | `report` | ✎ update | {path} |" in md
    assert "| + | `new` | ➕ create | new rule |" in md
    assert "At 18:30 UTC every day" not in md  # cron(0 3 ...): described as it is
    assert ("At 03:00 UTC every day; next Tue 2026-12-01 03:00 UTC, Wed 2026-12-02 03:00 UTC, "
            "Thu 2026-12-03 03:00 UTC") in md
    assert "next Tue 2026-12-01 09:00 UTC, Wed 2026-12-02 09:00 UTC, Thu 2026-12-03 09:00 UTC" in md
    assert md.count("<details><summary>") == 2 and md.count("</details>") == 2
    assert "```diff\n" in md and "-  command: [run]\n+  command: [run --full]\n" in md


def test_the_issue_example_sentence() -> None:
    ch = Change("update", "x", desired=schedule(expr="cron(30 18 * * ? *)"), live=schedule())
    assert render.schedule_line(ch, NOW) == \
        "At 18:30 UTC every day (was: At 03:00 UTC every day); next Tue 2026-12-01 18:30 UTC, " \
        "Wed 2026-12-02 18:30 UTC, Thu 2026-12-03 18:30 UTC"


def test_pause_and_resume_are_called_out() -> None:
    paused = schedule("a", enabled=False)
    plan = plan_of((paused, live(schedule("a"), schedule("a"))),
                   (schedule("b"), live(schedule("b", enabled=False), schedule("b", enabled=False))))
    md = render.markdown(plan, now=NOW)
    assert "> [!IMPORTANT]\n> **⏸ Pausing 1 batch**: `a`\n>\n> **▶ Resuming 1 batch**: `b`" in md
    assert "| ~ | `a` | **⏸ PAUSE** |" in md and "| ~ | `b` | **▶ RESUME** |" in md
    assert "**⏸ Paused**: it will not fire until resumed. Schedule: At 03:00 UTC every day" in md
    assert "**▶ Resumes**: At 03:00 UTC every day; next Tue 2026-12-01 03:00 UTC" in md
    assert "(PAUSE)" in render.text(plan) and "(RESUME)" in render.text(plan)


def test_drift_is_marked_in_every_view() -> None:
    plan = plan_of((APPLIED, live(schedule(enabled=False), APPLIED)))
    md = render.markdown(plan, now=NOW)
    assert "> [!WARNING]\n> **Drift**: 1 rule was changed outside ecsched" in md
    assert "**▶ RESUME** ⚠ **drift**" in md
    assert "DRIFT: changed outside ecsched; apply reverts it" in render.text(plan)
    (item,) = json.loads(render.as_json(plan, now=NOW))["changes"]
    assert (item["drift"], item["origin"]) == (True, "outside")
    clean = plan_of((schedule(command="new"), live(APPLIED, APPLIED)))
    assert "rift" not in render.markdown(clean, now=NOW) and "DRIFT" not in render.text(clean)


def test_conflict_reason_is_escaped_and_refused() -> None:
    plan = plan_of((APPLIED, live(schedule(enabled=False), None, tracking_id="<b>x</b>")))
    md = render.markdown(plan, now=NOW)
    assert "> [!CAUTION]" in md and "<b>x</b>" not in md and "&lt;b&gt;x&lt;/b&gt;" in md
    assert "RESUME" not in md  # a refused rule is neither paused nor resumed


def test_no_changes() -> None:
    md = render.markdown(plan_of((APPLIED, live(APPLIED, APPLIED))))
    assert md.endswith("No changes: AWS matches the file.\n") and "<details>" not in md


def test_keyed_marker_is_safe_in_an_html_comment() -> None:
    assert render.marker("prod/ecsched.yaml") == "<!-- ecsched:plan:prod/ecsched.yaml -->"
    assert "--" not in render.marker("a-->b <x>")[4:-3]


def test_2000_changed_rules_fit_githubs_limit_and_say_what_was_left_out() -> None:
    desired = [schedule(f"batch-{i:04d}", command=f"php artisan job:{i} --with-a-fairly-long-option")
               for i in range(2000)]
    lives = {s.name: live(schedule(s.name), schedule(s.name)) for s in desired}
    plan = make_plan(desired, lives)
    md = render.markdown(plan, now=NOW)
    assert len(md) <= render.GITHUB_LIMIT
    assert len(md.encode("utf-16-le")) // 2 <= render.GITHUB_LIMIT  # however GitHub counts characters
    m = re.search(r"(\d+) of 2000 changed rules left out \(the table lists (\d+), with the diff of the first (\d+)\)",
                  md)
    assert m, md[-500:]
    rows = len(re.findall(r"^\| ~ \| `batch-\d{4}` \|", md, re.M))
    details = md.count("<details>")
    assert rows + int(m.group(1)) == 2000 and rows == int(m.group(2))
    assert details == int(m.group(3))
    assert rows > 100 and details > 10  # the space is used, not given up
    assert md.rstrip().endswith("Run `ecsched diff` for the full plan._")


def test_small_limit_still_holds() -> None:
    plan = plan_of(*[(schedule(f"r{i}", command="y" * 300), live(schedule(f"r{i}"), schedule(f"r{i}")))
                     for i in range(30)])
    for limit in (2000, 5000, 20000):
        md = render.markdown(plan, limit=limit, now=NOW)
        assert len(md) <= limit
        assert "changed rules left out" in md


def test_diff_fence_survives_backticks_in_content() -> None:
    plan = plan_of((schedule(command="echo ```x```"), live(APPLIED, APPLIED)))
    md = render.markdown(plan, now=NOW)
    assert "````diff\n" in md


def test_json_schedule_description_and_next_times() -> None:
    plan = plan_of((schedule("a", expr="rate(5 minutes)"), None), (schedule("b", expr="cron(30 18 * * ? *)"), None))
    a, b = json.loads(render.as_json(plan, now=NOW))["changes"]
    assert a["schedule"] == {"expression": "rate(5 minutes)", "description": "Every 5 minutes", "enabled": True,
                             "timezone": "UTC",
                             "next": []}
    assert b["schedule"]["next"] == ["Tue 2026-12-01 18:30 UTC", "Wed 2026-12-02 18:30 UTC", "Thu 2026-12-03 18:30 UTC"]


def test_text_has_no_colour_codes_unless_asked() -> None:
    plan = plan_of((schedule(command="x"), live(APPLIED, APPLIED)))
    import io

    assert "\033[" not in render.text(plan, term=Term(io.StringIO(), False))
    assert "\033[33m~ update job" in render.text(plan, term=Term(io.StringIO(), True))


def test_local_timezone_cron_is_described_as_written() -> None:
    from dataclasses import replace

    s = replace(schedule(expr="cron(30 18 * * ? *)"), local_expression="cron(30 3 * * ? *) Asia/Tokyo")
    ch = Change("create", "job", desired=s)
    assert render.schedule_line(ch, NOW) == (
        "At 03:30 Asia/Tokyo every day; next Wed 2026-12-02 03:30 JST (2026-12-01 18:30 UTC), "
        "Thu 2026-12-03 03:30 JST (2026-12-02 18:30 UTC), Fri 2026-12-04 03:30 JST (2026-12-03 18:30 UTC)")
    md = render.markdown(Plan([ch]), now=NOW)
    assert "Written as `cron(30 3 * * ? *) Asia/Tokyo`; EventBridge rules run in UTC, so it runs as " \
           "`cron(30 18 * * ? *)`." in md


def test_summary_uses_html_bold_where_markdown_is_not_rendered() -> None:
    plan = plan_of((schedule(enabled=False), live(APPLIED, APPLIED)))
    md = render.markdown(plan, now=NOW)
    assert "<summary>~ <code>job</code>: <b>⏸ PAUSE</b></summary>" in md


def test_field_level_paths_read_well_in_markdown_and_json() -> None:
    """deepdiff-style paths (list items by identity, environment by key) as the plan reports them."""
    from dataclasses import replace

    from ecsched.plan import FieldChange

    ch = Change("update", "job", desired=schedule(command="x"), live=APPLIED, fields=(
        FieldChange("containerOverrides[app].environment.NEW_FLAG", None, "on"),
        FieldChange("containerOverrides[app].environment.DB_PASSWORD", "old-secret", "new-secret"),
        FieldChange("containerOverrides[app].command", ["run"], ["x"]),
        FieldChange("containerOverrides[worker]", {"name": "worker"}, None),
    ))
    md = render.markdown(Plan([ch]), now=NOW)
    assert "- `containerOverrides[app].environment.NEW_FLAG`: added, `\"on\"`" in md
    assert "- `containerOverrides[app].command`: `[\"run\"]` → `[\"x\"]`" in md
    assert "- `containerOverrides[worker]`: removed (was `{\"name\": \"worker\"}`)" in md
    assert "secret" not in md.split("```diff")[0]  # masked in the field list
    assert "| ~ | `job` | ✎ update | containerOverrides[app].environment.NEW_FLAG, " in md
    (item,) = json.loads(render.as_json(Plan([ch]), now=NOW))["changes"]
    assert item["fields"][0] == {"path": "containerOverrides[app].environment.NEW_FLAG", "before": None,
                                 "after": "on"}
    assert item["fields"][1]["after"] != "new-secret"
    many = replace(ch, fields=tuple(FieldChange(f"containerOverrides[app].environment.K{i}", None, "v")
                                    for i in range(30)))
    md = render.markdown(Plan([many]), now=NOW)
    assert " more |" in md and "- and 10 more (see the diff)" in md


def test_a_pruned_rule_says_why_it_goes() -> None:
    plan = make_plan([], {"old": live(schedule("old"), APPLIED)}, prune=True, owners={"api"})
    out = render.text(plan)
    assert out.startswith("- delete old\n  ")
    assert "trackingId `api`" in out.splitlines()[1] or plan.changes[0].reason in out
    md = render.markdown(plan, now=NOW)
    assert "**Deleting 1 rule** that the file no longer has (--prune): `old`" in md


def test_text_shows_when_a_changed_rule_runs_in_the_files_zone() -> None:
    from dataclasses import replace

    s = replace(schedule(expr="cron(30 18 ? * SUN *)"), local_expression="cron(30 3 ? * MON *) Asia/Tokyo")
    out = render.text(Plan([Change("create", "job", desired=s)]), now=NOW)
    assert ("  runs: At 03:30 Asia/Tokyo on Monday; next Mon 2026-12-07 03:30 JST (2026-12-06 18:30 UTC), "
            "Mon 2026-12-14 03:30 JST") in out


def test_yaml_prepared_during_the_read_gives_the_same_text() -> None:
    from dataclasses import replace

    desired = [schedule(f"job{i}", command=f"run {i}") for i in range(5)]
    lives = {s.name: live(schedule(s.name), APPLIED) for s in desired}
    # Equal schedules written differently (a timezone kept in its local form) are never mixed up.
    desired[0] = replace(desired[0], local_expression="cron(0 12 * * ? *) Asia/Tokyo")
    cold = render.text(make_plan(desired, lives), now=NOW)
    for s in desired:
        render.prepare(lives[s.name], s)
    assert render.text(make_plan(desired, lives), now=NOW) == cold

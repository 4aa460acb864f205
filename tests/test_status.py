"""`ecsched status` against the moto server: attribution of live tasks, the four flags, --exit-code."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from insight_helpers import (
    by_name,
    daily_cron_at,
    detail,
    minute,
    now,
    put_history,
    put_metric,
    run_task,
    status_json,
    write_config,
)

from tests.conftest import seed_ecs

NET = "{aws_vpc_configuration: {subnets: [subnet-1], security_groups: [sg-1]}}"


def rule(name: str, expr: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "scheduleExpression": expr, "taskDefinition": "task1", "launch_type": "FARGATE",
            "network_configuration": NET, **extra}


def test_healthy_rule_with_a_metric_at_its_tick_is_not_flagged(aws: str, cli: Any, tmp_path: Path) -> None:
    seed_ecs()
    tick = minute(now() - timedelta(minutes=30))
    cfg = write_config(tmp_path, [rule("nightly", daily_cron_at(tick))])
    put_metric("nightly", "TriggeredRules", tick)
    put_metric("nightly", "Invocations", tick)
    code, doc = status_json(cli, cfg, "--exit-code")
    s = by_name(doc)["nightly"]
    assert code == 0 and s["flags"] == [] and s["tickSeen"] is True
    assert s["lastTick"].startswith(tick.strftime("%Y-%m-%dT%H:%M"))
    assert len(s["next"]) == 3 and s["next"][0]["utc"].startswith((tick + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))


def test_missed_tick_without_any_sign_flags_and_exit_code_2(aws: str, cli: Any, tmp_path: Path) -> None:
    seed_ecs()
    tick = minute(now() - timedelta(minutes=30))
    cfg = write_config(tmp_path, [rule("nightly", daily_cron_at(tick)), rule("other", daily_cron_at(tick))])
    put_metric("other", "TriggeredRules", tick + timedelta(minutes=2))  # late, within the grace: fine
    code, doc = status_json(cli, cfg, "--exit-code")
    flags = {n: [f["kind"] for f in s["flags"]] for n, s in by_name(doc).items()}
    assert code == 2 and flags == {"nightly": ["missed"], "other": []}
    assert doc["flagged"] == ["nightly"]
    code, _ = status_json(cli, cfg)  # without --exit-code: 0
    assert code == 0


def test_grace_is_configurable_per_rule(aws: str, cli: Any, tmp_path: Path) -> None:
    seed_ecs()
    tick = minute(now() - timedelta(minutes=30))
    cfg = write_config(tmp_path, [rule("slow", daily_cron_at(tick), statusGrace="45m"),
                                  rule("fast", daily_cron_at(tick), statusGrace=5)])
    put_metric("slow", "TriggeredRules", tick + timedelta(minutes=20))  # late, within 45m
    put_metric("fast", "TriggeredRules", tick + timedelta(minutes=20))  # too late for 5 minutes
    _, doc = status_json(cli, cfg)
    s = by_name(doc)
    assert s["slow"]["graceSeconds"] == 2700 and s["fast"]["graceSeconds"] == 300
    assert [f["kind"] for f in s["fast"]["flags"]] == ["missed"]
    # the slow rule's last tick is still inside its grace: the one judged is yesterday's (no metric)
    assert s["slow"]["lastTick"] < s["fast"]["lastTick"]


def test_paused_rule_shows_its_reason_and_is_never_missed(aws: str, cli: Any, tmp_path: Path) -> None:
    seed_ecs()
    tick = minute(now() - timedelta(minutes=30))
    paused = rule("nightly", daily_cron_at(tick), disabled="true  # paused 2026-12-01: db restore")
    cfg = write_config(tmp_path, [paused])
    code, doc = status_json(cli, cfg, "--exit-code")
    s = by_name(doc)["nightly"]
    assert code == 0 and s["state"] == "DISABLED" and s["pauseReason"] == "paused 2026-12-01: db restore"
    assert s["flags"] == [] and s["next"] == []


def test_live_tasks_are_attributed_with_the_36_character_cut_and_overlap(aws: str, cli: Any, tmp_path: Path) -> None:
    seed = seed_ecs(families=("task1", "task2"))
    long_a = "nightly-report-generation-for-region-a"  # 38 characters: cut to the same 24 as long_b
    long_b = "nightly-report-generation-for-region-b"
    cfg = write_config(tmp_path, [rule(long_a, "cron(0 3 * * ? *)"),
                                  {**rule(long_b, "cron(0 4 * * ? *)"), "taskDefinition": "task2"},
                                  rule("solo", "cron(0 5 * * ? *)")])
    run_task(seed, f"events-rule/{long_a}", family="task1")
    run_task(seed, f"events-rule/{long_a}", family="task1")  # a second copy while the first runs
    run_task(seed, f"events-rule/{long_b}", family="task2")
    run_task(seed, "events-rule/unrelated-service", family="task1")
    _, doc = status_json(cli, cfg)
    s = by_name(doc)
    assert len(s[long_a]["running"]) == 2 and len(s[long_b]["running"]) == 1 and s["solo"]["running"] == []
    assert "overlap" in [f["kind"] for f in s[long_a]["flags"]]
    assert "overlap" not in [f["kind"] for f in s[long_b]["flags"]]


def test_a_run_by_hand_is_shown_but_is_not_a_tick(aws: str, cli: Any, tmp_path: Path) -> None:
    seed = seed_ecs()
    tick = minute(now() - timedelta(minutes=30))
    cfg = write_config(tmp_path, [rule("nightly", daily_cron_at(tick))])
    run_task(seed, "ecsched/nightly")  # what `ecsched run --rule nightly` passes
    _, doc = status_json(cli, cfg)
    s = by_name(doc)["nightly"]
    assert [r["startedBy"] for r in s["running"]] == ["ecsched/nightly"]
    assert [f["kind"] for f in s["flags"]] == ["missed"]


def test_tie_broken_by_container_overrides(aws: str, cli: Any, tmp_path: Path) -> None:
    seed = seed_ecs()
    a, b = "report-generation-for-tenant-alpha", "report-generation-for-tenant-bravo"
    over = "[{name: app, command: [php, artisan, 'report:%s']}]"
    cfg = write_config(tmp_path, [rule(a, "cron(0 3 * * ? *)", containerOverrides=over % "alpha"),
                                  rule(b, "cron(0 3 * * ? *)", containerOverrides=over % "bravo")])
    run_task(seed, f"events-rule/{b}", command=["php", "artisan", "report:bravo"])
    run_task(seed, f"events-rule/{b}", command=["php", "artisan", "report:other"])  # matches neither: ambiguous
    _, doc = status_json(cli, cfg)
    s = by_name(doc)
    assert len(s[b]["running"]) == 1 and s[a]["running"] == []
    assert len(doc["ambiguous"]) == 1 and doc["ambiguous"][0]["candidates"] == [a, b]


def test_scheduler_started_tasks_are_attributed(aws: str, cli: Any, tmp_path: Path) -> None:
    from conftest import client

    seed = seed_ecs()
    client("scheduler").create_schedule_group(Name="ecsched-api")
    cfg = write_config(tmp_path, [rule("billing-close-of-month", "cron(0 1 1 * ? *)")], top="backend: scheduler")
    run_task(seed, "chronos-schedule/billing-close-of-month")  # cut to chronos-schedule/billing-clo
    run_task(seed, "events-rule/billing-close-of-month")  # a rule of that name is not this schedule
    _, doc = status_json(cli, cfg)
    s = by_name(doc)["billing-close-of-month"]
    assert s["backend"] == "scheduler" and len(s["running"]) == 1


def test_failed_and_long_from_history(aws: str, cli: Any, tmp_path: Path) -> None:
    seed_ecs()
    t = now()
    tick = minute(t - timedelta(minutes=40))
    every20 = f"cron({tick.minute % 20}/20 * * * ? *)"
    cfg = write_config(tmp_path, [rule("crunch", every20), rule("nightly", daily_cron_at(tick))], history=True)
    put_history([
        # crunch: began at a tick 40 minutes ago and ran 35 minutes: past the next tick, 20 minutes later
        detail("crunch", created=tick, stopped=t - timedelta(minutes=5), exit_code=0),
        # nightly: exit 3
        detail("nightly", created=tick + timedelta(seconds=20), stopped=tick + timedelta(minutes=4), exit_code=3),
    ])
    for name in ("crunch", "nightly"):
        for k in range(3):
            put_metric(name, "TriggeredRules", tick + timedelta(minutes=20 * k))
    code, doc = status_json(cli, cfg, "--exit-code")
    s = by_name(doc)
    assert code == 2
    assert [f["kind"] for f in s["crunch"]["flags"]] == ["long"]
    assert [f["kind"] for f in s["nightly"]["flags"]] == ["failed"]
    last = s["nightly"]["lastRun"]
    assert last["containers"] == [{"name": "app", "exitCode": 3, "essential": None}]
    assert last["pullSeconds"] == 12.0 and last["durationSeconds"] == 190.0  # from startedAt (created + 30 s)
    assert last["stopCode"] == "EssentialContainerExited" and s["nightly"]["lastSuccess"] is None
    assert s["crunch"]["lastSuccess"]["taskArn"] == s["crunch"]["lastRun"]["taskArn"]


def test_failed_invocation_metric_flags_failed(aws: str, cli: Any, tmp_path: Path) -> None:
    seed_ecs()
    tick = minute(now() - timedelta(minutes=30))
    cfg = write_config(tmp_path, [rule("nightly", daily_cron_at(tick))])
    put_metric("nightly", "TriggeredRules", tick)
    put_metric("nightly", "FailedInvocations", tick)
    _, doc = status_json(cli, cfg)
    flags = by_name(doc)["nightly"]["flags"]
    assert [f["kind"] for f in flags] == ["failed"] and "FailedInvocations" in flags[0]["message"]


def test_text_output_piped_is_plain_and_names_the_zone(aws: str, cli: Any, tmp_path: Path) -> None:
    seed_ecs()
    tick = minute(now() - timedelta(minutes=30))
    cfg = write_config(tmp_path, [rule("nightly", daily_cron_at(tick))])
    res = cli("-c", cfg, "status", "--tz", "Asia/Tokyo")
    assert res.code == 0
    assert "times in Asia/Tokyo" in res.out and "JST (" in res.out and "missed:" in res.out
    assert "\x1b[" not in res.out


def test_unknown_zone_is_one_clear_error(aws: str, cli: Any, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [rule("nightly", "cron(0 3 * * ? *)")])
    res = cli("-c", cfg, "status", "--tz", "Mars/Olympus")
    assert res.code == 1 and "unknown time zone" in res.err and "Traceback" not in res.err


def test_status_calls_are_per_hundred_tasks_not_per_schedule(aws: str, cli: Any, calls: Any, tmp_path: Path) -> None:
    seed = seed_ecs()
    cfg = write_config(tmp_path, [rule(f"job-{i:03d}", f"cron({i % 60} 3 * * ? *)") for i in range(40)])
    for i in range(5):
        run_task(seed, f"events-rule/job-{i:03d}", count=3)
    calls.clear()
    _, doc = status_json(cli, cfg)
    assert sum(len(s["running"]) for s in doc["schedules"]) == 15
    assert calls["ListTasks"] == 2 and calls["DescribeTasks"] == 1 and calls["GetMetricData"] == 1
    assert sum(calls.values()) <= 3 * 1 + 1 + 3


@pytest.mark.parametrize("value", ["soon", -5])
def test_bad_grace_is_one_clear_error(aws: str, cli: Any, tmp_path: Path, value: Any) -> None:
    seed_ecs()
    cfg = write_config(tmp_path, [rule("nightly", "cron(0 3 * * ? *)", statusGrace=value)])
    res = cli("-c", cfg, "status")
    assert res.code == 1 and "statusGrace" in res.err and "Traceback" not in res.err


def test_json_and_help_never_import_rich_and_help_not_boto3(aws: str, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    seed_ecs()
    cfg = write_config(tmp_path, [rule("nightly", "cron(0 3 * * ? *)")])
    code = ("import sys\nfrom ecsched.cli import main\ntry:\n    rc = main(sys.argv[1:])\n"
            "except SystemExit as e:\n    rc = e.code\n"
            "print('RICH' if 'rich' in sys.modules else 'PLAIN', 'boto3' in sys.modules, file=sys.stderr)\n"
            "raise SystemExit(rc)")
    for argv in (["-c", cfg, "status", "--format", "json"], ["-c", cfg, "history", "--format", "json"],
                 ["status", "--help"], ["timeline", "--help"]):
        run = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=False,
                             env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
        last = run.stderr.strip().splitlines()[-1]
        assert run.returncode == 0 and last.startswith("PLAIN"), (argv, run.stderr[-500:])
        if "--help" in argv:
            assert last == "PLAIN False"  # --help never imports boto3 either


def test_a_cluster_that_does_not_exist_shows_no_runs(aws: str, cli: Any, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [rule("nightly", "cron(0 3 * * ? *)")])  # no cluster `api` in this account
    code, doc = status_json(cli, cfg)
    assert code == 0 and by_name(doc)["nightly"]["running"] == [] and by_name(doc)["nightly"]["lastRun"] is None


def test_a_real_problem_is_reported_without_our_own_keys(aws: str, cli: Any, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [rule("nightly", "cron(0 3 * * ? *)", statusGrace=5, bogusKey=1)], history=True)
    res = cli("-c", cfg, "status")
    assert res.code == 1 and "bogusKey" in res.err
    assert "statusGrace" not in res.err and "`history`" not in res.err


def test_scheduler_ticks_are_judged_only_where_runs_can_show_them(aws: str, cli: Any, tmp_path: Path) -> None:
    from conftest import client

    seed_ecs()
    client("scheduler").create_schedule_group(Name="ecsched-api")
    t = now()
    old, recent = minute(t - timedelta(hours=3)), minute(t - timedelta(minutes=30))
    rules = [rule("old-tick", daily_cron_at(old)), rule("recent-tick", daily_cron_at(recent)),
             rule("recent-ran", daily_cron_at(recent))]
    cfg = write_config(tmp_path, rules, top="backend: scheduler")
    # Scheduler metrics exist per schedule group only: no metric can speak for one schedule
    _, doc = status_json(cli, cfg)
    s = by_name(doc)
    assert s["old-tick"]["tickSeen"] is None and s["old-tick"]["flags"] == []  # older than what ECS keeps
    assert s["recent-tick"]["tickSeen"] is False and [f["kind"] for f in s["recent-tick"]["flags"]] == ["missed"]
    # with history, the old tick can be judged too, and a run at the tick counts
    cfg = write_config(tmp_path, rules, history=True, top="backend: scheduler")
    put_history([detail("old-tick", created=old + timedelta(seconds=20), stopped=old + timedelta(minutes=2),
                        prefix="chronos-schedule/"),
                 detail("recent-ran", created=recent + timedelta(seconds=20), stopped=recent + timedelta(minutes=2),
                        prefix="chronos-schedule/")])
    _, doc = status_json(cli, cfg)
    s = by_name(doc)
    assert s["old-tick"]["tickSeen"] is True and s["recent-ran"]["tickSeen"] is True
    assert s["recent-tick"]["tickSeen"] is False

"""`ecsched history` and the history events: real event shape, out of order and duplicated delivery."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from insight_helpers import LOG_GROUP, detail, minute, now, put_history, run_task, write_config

from tests.conftest import client, seed_ecs

NET = "{aws_vpc_configuration: {subnets: [subnet-1], security_groups: [sg-1]}}"
RULES = [{"name": n, "scheduleExpression": "cron(0 3 * * ? *)", "taskDefinition": "task1", "launch_type": "FARGATE",
          "network_configuration": NET} for n in ("nightly", "cleanup")]


def history_json(cli: Any, cfg: str, *args: str) -> dict[str, Any]:
    res = cli("-c", cfg, "history", "--format", "json", *args)
    assert res.code == 0, res.err
    return dict(json.loads(res.out))


def test_out_of_order_and_duplicate_events_give_one_run_per_task(aws: str, cli: Any, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, RULES, history=True)
    t0 = minute(now() - timedelta(hours=5))
    final = detail("nightly", created=t0, stopped=t0 + timedelta(minutes=3), exit_code=1, version=4, task_id="aaa")
    early = {**final, "version": 2, "containers": [{"name": "app"}], "stopCode": "", "stoppedReason": ""}
    other = detail("cleanup", created=t0 + timedelta(hours=1), stopped=t0 + timedelta(hours=1, minutes=1),
                   task_id="bbb")
    # delivered: the final version first, then an older one, then the final again, then the other task twice
    put_history([final, early, final, other, other])
    doc = history_json(cli, cfg)
    runs = doc["runs"]
    assert doc["source"] == "history" and doc["logGroup"] == LOG_GROUP
    assert [(r["schedule"], r["taskArn"].rsplit("/", 1)[-1]) for r in runs] == [("cleanup", "bbb"), ("nightly", "aaa")]
    nightly = runs[1]
    assert nightly["outcome"] == "failed" and nightly["containers"][0]["exitCode"] == 1  # version 4 kept
    assert nightly["durationSeconds"] == 150.0 and nightly["pullSeconds"] == 12.0


def test_since_and_rule_filters(aws: str, cli: Any, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, RULES, history=True)
    t0 = minute(now() - timedelta(hours=2))
    put_history([detail("nightly", created=t0, stopped=t0 + timedelta(minutes=1)),
                 detail("cleanup", created=t0, stopped=t0 + timedelta(minutes=1))])
    assert [r["schedule"] for r in history_json(cli, cfg, "--rule", "night*")["runs"]] == ["nightly"]
    # the events were logged a few minutes ago: a 1-minute window holds none of them
    assert history_json(cli, cfg, "--since", "1m")["runs"] == []


def test_text_output_newest_first(aws: str, cli: Any, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, RULES, history=True)
    t0 = minute(now() - timedelta(hours=3))
    put_history([detail("nightly", created=t0, stopped=t0 + timedelta(minutes=2), exit_code=0),
                 detail("cleanup", created=t0 + timedelta(hours=1), stopped=t0 + timedelta(hours=1, minutes=1),
                        exit_code=2)])
    res = cli("-c", cfg, "history", "--tz", "UTC")
    lines = res.out.splitlines()
    assert res.code == 0 and lines[1].split()[:2] == ["started", "schedule"]
    assert "cleanup" in lines[2] and "failed" in lines[2] and "app=2" in lines[2]
    assert "nightly" in lines[3] and "succeeded" in lines[3]
    assert lines[-1] == "2 runs."


def test_without_history_block_it_says_how_and_shows_the_last_hour(aws: str, cli: Any, tmp_path: Path) -> None:
    seed = seed_ecs()
    cfg = write_config(tmp_path, RULES)
    [arn] = run_task(seed, "events-rule/nightly")
    client("ecs").stop_task(cluster="api", task=arn, reason="done")
    run_task(seed, "events-rule/cleanup")  # still running: not a past run
    res = cli("-c", cfg, "history", "--format", "json")
    assert res.code == 0 and "history:" in res.err and "logGroup:" in res.err and "ecsched apply" in res.err
    doc = json.loads(res.out)
    assert doc["source"] == "ecs" and [r["taskArn"] for r in doc["runs"]] == [arn]


def test_missing_log_group_reads_as_no_runs_and_says_why(aws: str, cli: Any, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, RULES, history=True)
    res = cli("-c", cfg, "history", "--format", "json")
    assert res.code == 0 and json.loads(res.out)["runs"] == []
    assert f"log group {LOG_GROUP} does not exist" in res.err and "ecsched apply" in res.err


def test_bad_since_is_one_clear_error(aws: str, cli: Any, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, RULES, history=True)
    res = cli("-c", cfg, "history", "--since", "last week")
    assert res.code == 1 and "--since" in res.err and "Traceback" not in res.err


def test_parse_ignores_other_events() -> None:
    from ecsched.insight import events

    d = detail("nightly", created=now(), stopped=now())
    wrap = events.event(d, account="1", region="r", time="t", event_id="e")
    assert events.parse(json.dumps(wrap)) is not None
    assert events.parse(json.dumps({**wrap, "detail-type": "ECS Container Instance State Change"})) is None
    assert events.parse(json.dumps({**wrap, "detail": {**d, "lastStatus": "RUNNING"}})) is None
    assert events.parse("not json") is None

"""`history:` through diff and apply against the moto server: created, clean, updated, pruned only with
--prune, refused when a resource of that name is not ecsched's, and read back by `history` and `status`."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from insight_helpers import LOG_GROUP, detail, minute, now, put_history, write_config

from ecsched.insight import sink
from ecsched.model import TRACKING_TAG
from tests.conftest import REGION, client

RULES = [{"name": n, "scheduleExpression": "cron(0 3 * * ? *)", "taskDefinition": "task1"}
         for n in ("nightly", "cleanup")]
RULE = "ecsched-history-api"


def history_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if " history " in line and line[:2] in ("+ ", "~ ", "- ", "! ")]


def rule_names() -> list[str]:
    return sorted(r["Name"] for r in client("events").list_rules()["Rules"])


def policies() -> list[str]:
    return [p["policyName"] for p in client("logs").describe_resource_policies()["resourcePolicies"]]


def log_group() -> dict[str, Any] | None:
    groups = client("logs").describe_log_groups(logGroupNamePrefix=LOG_GROUP)["logGroups"]
    return next((g for g in groups if g["logGroupName"] == LOG_GROUP), None)


def test_history_block_from_create_to_prune(aws: str, cli: Any, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, RULES, history=True)
    first = cli("-c", cfg, "diff", "--exit-code")
    assert first.code == 2, first.err
    assert [line.split(" (")[0] for line in history_lines(first.out)] == [
        f"+ history log-group {LOG_GROUP}", f"+ history policy {RULE}", f"+ history rule {RULE}"]
    assert "History: 3 to create." in first.out

    applied = cli("-c", cfg, "apply")
    assert applied.code == 0, applied.err
    assert f"+ history rule {RULE}: created (PutRule, PutTargets)" in applied.err
    assert rule_names() == ["cleanup", RULE, "nightly"] and policies() == [RULE]
    group = log_group()
    assert group is not None and group["retentionInDays"] == 30
    [target] = client("events").list_targets_by_rule(Rule=RULE)["Targets"]
    assert target["Arn"].endswith(f":log-group:{LOG_GROUP}")
    pattern = json.loads(client("events").describe_rule(Name=RULE)["EventPattern"])
    assert pattern["detail"]["clusterArn"] == [f"arn:aws:ecs:{REGION}:123456789012:cluster/api"]

    clean = cli("-c", cfg, "diff")
    assert (clean.code, clean.out, clean.err) == (0, "", "")
    assert cli("-c", cfg, "diff", "--exit-code").code == 0
    # a full prune reads every tagged rule: the history rule is not a schedule to delete or refuse
    pruned = cli("-c", cfg, "diff", "--prune", "--exit-code")
    assert (pruned.code, pruned.out) == (0, ""), pruned.out + pruned.err

    Path(cfg).write_text(Path(cfg).read_text().replace("retentionDays: 30", "retentionDays: 7"))
    update = cli("-c", cfg, "diff", "--exit-code")
    assert update.code == 2
    assert history_lines(update.out) == [f"~ history log-group {LOG_GROUP} ({REGION}): retentionDays: 30 -> 7"]
    assert "Plan: 0 to create, 0 to update, 0 to delete, 0 conflicts, 2 unchanged. History: 1 to update." \
        in update.out
    doc = json.loads(cli("-c", cfg, "diff", "--format", "json").out)
    assert doc["has_changes"] is True and doc["summary"]["update"] == 0
    [change] = [c for c in doc["history"]["changes"] if c["action"] != "noop"]
    assert change == {"resource": "log-group", "name": LOG_GROUP, "region": REGION, "action": "update",
                      "fields": [{"path": "retentionDays", "before": 30, "after": 7}]}
    md = cli("-c", cfg, "diff", "--format", "markdown").out
    assert "#### Run history (`history:`)" in md and "retentionDays: 30 -> 7" in md
    assert cli("-c", cfg, "apply").code == 0
    assert log_group()["retentionInDays"] == 7  # type: ignore[index]

    lines = Path(cfg).read_text().splitlines()
    Path(cfg).write_text("\n".join(x for x in lines if not x.startswith(("history:", "  logGroup", "  retention"))))
    kept = cli("-c", cfg, "diff", "--exit-code")
    assert (kept.code, kept.out) == (0, ""), kept.out
    gone = cli("-c", cfg, "diff", "--prune", "--exit-code")
    assert gone.code == 2
    assert [line.split(" (")[0] for line in history_lines(gone.out)] == [f"- history rule {RULE}",
                                                                         f"- history policy {RULE}"]
    assert "0 to delete" in gone.out  # no schedule goes
    assert cli("-c", cfg, "apply").code == 0 and RULE in rule_names()  # without --prune: left alone
    assert cli("-c", cfg, "apply", "--prune").code == 0
    assert rule_names() == ["cleanup", "nightly"] and policies() == []
    assert log_group() is not None  # it holds the runs: kept
    after = cli("-c", cfg, "diff", "--prune", "--exit-code")
    assert (after.code, after.out) == (0, "")


def test_a_log_group_not_ours_is_refused_before_any_history_write(aws: str, cli: Any, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, RULES, history=True)
    client("logs").create_log_group(logGroupName=LOG_GROUP)  # someone else's, untagged
    diff = cli("-c", cfg, "diff", "--exit-code")
    assert diff.code == 2 and f"! history log-group {LOG_GROUP}" in diff.out and "not ecsched's" in diff.out
    assert cli("-c", cfg, "apply", "--dry-run").code == 1
    res = cli("-c", cfg, "apply")
    assert res.code == 1 and "rule history: refused: log group" in res.err and "Traceback" not in res.err
    assert "no history resource was changed" in res.err
    assert rule_names() == ["cleanup", "nightly"]  # the schedules go on, as with a rule conflict
    assert policies() == []
    group = log_group()
    assert group is not None and "retentionInDays" not in group
    assert client("logs").list_tags_log_group(logGroupName=LOG_GROUP).get("tags", {}) == {}


def test_a_rule_not_ours_is_refused_and_nothing_is_created(aws: str, cli: Any, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, RULES, history=True)
    events = client("events")
    events.put_rule(Name=RULE, EventPattern=json.dumps({"source": ["aws.ecs"]}), Description="by hand")
    res = cli("-c", cfg, "apply", "--format", "json")
    assert res.code == 1 and f"rule {RULE} exists and is not ecsched's" in res.err
    doc = json.loads(res.out)
    assert doc["conflicts"][0]["rule"] == "history" and doc["exit_code"] == 1
    assert log_group() is None and policies() == []
    assert events.describe_rule(Name=RULE)["Description"] == "by hand"
    assert events.list_tags_for_resource(ResourceARN=events.describe_rule(Name=RULE)["Arn"])["Tags"] == []
    # --prune must not take it either: it is not tagged as ours
    assert cli("-c", cfg, "apply", "--prune").code == 1 and RULE in rule_names()


def test_a_rule_selection_plans_no_history(aws: str, cli: Any, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, RULES, history=True)
    res = cli("-c", cfg, "diff", "--rule", "nightly")
    assert "+ create nightly" in res.out and history_lines(res.out) == []
    assert json.loads(cli("-c", cfg, "diff", "--rule", "nightly", "--format", "json").out)["history"] is None


def test_an_empty_rules_list_prunes_the_history_of_its_tracking_id(aws: str, cli: Any, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, RULES, history=True)
    assert cli("-c", cfg, "apply").code == 0
    Path(cfg).write_text(f"region: {REGION}\ncluster: api\nrole: ecsEventsRole\nrules: []\n")
    res = cli("-c", cfg, "apply", "--prune")
    assert res.code == 0, res.err
    assert rule_names() == [] and policies() == [] and log_group() is not None


def test_a_job_rule_region_has_no_history_cluster(aws: str) -> None:
    """Only ECS schedules feed the pattern: an sqsjkr job rule starts no task (its target has no cluster)."""
    from ecsched.arns import Account
    from ecsched.insight.settings import History
    from ecsched.model import EcsTarget, Schedule
    from ecsched.sqsjkr.job import Job
    from ecsched.sqsjkr.target import JobTarget

    ecs = Schedule("a", "cron(0 3 * * ? *)", EcsTarget("a", f"arn:aws:ecs:{REGION}:1:cluster/api", "r", "td"),
                   REGION, tracking_id="api")
    queue = JobTarget("b", f"arn:aws:sqs:{REGION}:1:sqsjkr-jobs", Job.from_config({"command": "true"}))
    job = Schedule("b", "cron(0 3 * * ? *)", queue, REGION, tracking_id="api")
    hist = History(LOG_GROUP, 30, "f")
    [d] = sink.desired(hist, [ecs, job], Account("1"))
    assert json.loads(d.pattern)["detail"]["clusterArn"] == [f"arn:aws:ecs:{REGION}:1:cluster/api"]
    assert sink.desired(hist, [job], Account("1")) == []


def test_history_and_status_read_the_log_group_apply_made(aws: str, cli: Any, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, RULES, history=True)
    assert cli("-c", cfg, "apply").code == 0
    tags = client("logs").list_tags_log_group(logGroupName=LOG_GROUP)["tags"]
    assert tags == {TRACKING_TAG: "api", sink.PURPOSE_TAG: sink.PURPOSE}
    t0 = minute(now() - timedelta(hours=2))
    put_history([detail("nightly", created=t0, stopped=t0 + timedelta(minutes=2), exit_code=3)])
    res = cli("-c", cfg, "history", "--format", "json")
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    assert doc["source"] == "history" and doc["logGroup"] == LOG_GROUP
    [run] = doc["runs"]
    assert run["schedule"] == "nightly" and run["outcome"] == "failed"
    status = cli("-c", cfg, "status", "--format", "json", "--tz", "UTC")
    assert status.code in (0, 2), status.err
    sched = {s["name"]: s for s in json.loads(status.out)["schedules"]}
    assert json.loads(status.out)["history"] is True and sched["nightly"]["lastRun"] is not None


def test_a_full_prune_lists_the_rules_once_for_schedules_and_history(aws: str, cli: Any, calls: Any,
                                                                      tmp_path: Path) -> None:
    cfg = write_config(tmp_path, RULES, history=True)
    assert cli("-c", cfg, "apply").code == 0
    calls.clear()
    assert cli("-c", cfg, "diff", "--prune", "--exit-code").code == 0
    assert calls["ListRules"] == 1  # the history rule was read with the tagged rules, not listed again
    lines = Path(cfg).read_text().splitlines()
    Path(cfg).write_text("\n".join(x for x in lines if not x.startswith(("history:", "  logGroup", "  retention"))))
    calls.clear()
    res = cli("-c", cfg, "diff", "--prune", "--exit-code")
    assert res.code == 2 and calls["ListRules"] == 1 and f"- history rule {RULE}" in res.out
    calls.clear()
    # no block and no --prune: history costs no call at all
    assert cli("-c", cfg, "diff").code == 0 and calls["ListRules"] == 0
    assert not {op for op in calls if op in ("DescribeLogGroups", "DescribeResourcePolicies")}


def test_dump_leaves_the_history_rule_out_quietly(aws: str, cli: Any, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, RULES, history=True)
    assert cli("-c", cfg, "apply").code == 0
    res = cli("--region", REGION, "dump", "--cluster", "api")
    assert res.code == 0 and RULE not in res.out + res.err and "name: nightly" in res.out

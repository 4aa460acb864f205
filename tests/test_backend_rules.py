"""The EventBridge rules backend end to end, through the CLI, against a moto server."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import write_order
from tests.conftest import ACCOUNT, COMPAT, REGION, Result, client, count_of, seed_ecs
from tests.write_order import WRITES


@pytest.fixture
def order(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, Any]]]:
    yield from write_order.record(monkeypatch)


def writes(c: Counter[str]) -> int:
    return count_of(c, WRITES)


def write_config(tmp_path: Path, rules: list[dict[str, Any]], **top: Any) -> str:
    doc = {"region": REGION, "cluster": "api", "role": "ecsEventsRole", **top, "rules": rules}
    path = tmp_path / "ecsched.yaml"
    path.write_text(json.dumps(doc, ensure_ascii=False))  # JSON is YAML
    return str(path)


def rule(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "scheduleExpression": "cron(0 3 * * ? *)", "taskDefinition": "task1", **extra}


def targets(name: str) -> list[dict[str, Any]]:
    return list(client("events").list_targets_by_rule(Rule=name)["Targets"])


def tags(name: str) -> dict[str, str]:
    arn = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{name}"
    return {t["Key"]: t["Value"] for t in client("events").list_tags_for_resource(ResourceARN=arn)["Tags"]}


# --- the ecschedule corpus ---------------------------------------------------------------------

SAMPLES: list[tuple[str, list[str]]] = [
    ("sample.yaml", []),
    ("sample.json", []),
    ("sample.jsonnet", ["--ext-str", "REGION=us-east-1", "--ext-str", "CLUSTER=api", "--ext-code", "BASE=1"]),
    ("sample2.yaml", []),
    ("sample4.yaml", []),
]


@pytest.mark.parametrize(("sample", "extra"), SAMPLES)
def test_ecschedule_samples_apply_then_diff_clean(aws: str, cli: Callable[..., Result], calls: Counter[str],
                                                  monkeypatch: pytest.MonkeyPatch, sample: str,
                                                  extra: list[str]) -> None:
    monkeypatch.setenv("DUMMY_HOGE_ENV", "hoge")
    path = str(COMPAT / "testdata" / sample)
    first = cli("-c", path, *extra, "diff", "--exit-code")
    assert first.code == 2, first.err
    assert "+ create hoge-task-name" in first.out
    assert cli("-c", path, *extra, "apply").code == 0
    assert tags("hoge-task-name")["ecschedule:tracking-id"] == "api"
    second = cli("-c", path, *extra, "diff", "--exit-code")
    assert second.code == 0, second.out
    assert "No changes" in second.out
    calls.clear()
    again = cli("-c", path, *extra, "apply")
    assert again.code == 0
    assert writes(calls) == 0, calls


def test_a_rule_written_by_ecschedule_reads_without_spurious_changes(aws: str, cli: Callable[..., Result],
                                                                     tmp_path: Path) -> None:
    # Exactly what ecschedule sends: role on rule AND target, target id = rule name, null overrides,
    # short names resolved by ecschedule, TaskCount explicit, its tracking tag.
    ev = client("events")
    ev.put_rule(Name="legacy", ScheduleExpression="cron(0 0 * * ? *)", Description="from ecschedule",
                State="ENABLED", RoleArn=f"arn:aws:iam::{ACCOUNT}:role/ecsEventsRole")
    ev.put_targets(Rule="legacy", Targets=[{
        "Id": "legacy", "Arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/api",
        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/ecsEventsRole",
        "EcsParameters": {"TaskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/task1",
                          "TaskCount": 1},
        "Input": '{"containerOverrides":null}',
    }])
    ev.tag_resource(ResourceARN=f"arn:aws:events:{REGION}:{ACCOUNT}:rule/legacy",
                    Tags=[{"Key": "ecschedule:tracking-id", "Value": "api"}])
    path = write_config(tmp_path, [{"name": "legacy", "description": "from ecschedule",
                                    "scheduleExpression": "cron(0 0 * * ? *)", "taskDefinition": "task1"}])
    res = cli("-c", path, "diff", "--exit-code")
    assert res.code == 0, res.out
    # The same rule written with full ARNs in the file is the same rule.
    path = write_config(tmp_path, [{"name": "legacy", "description": "from ecschedule",
                                    "scheduleExpression": "cron(0 0 * * ? *)",
                                    "taskDefinition": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/task1",
                                    "role": f"arn:aws:iam::{ACCOUNT}:role/ecsEventsRole",
                                    "cluster": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/api"}])
    assert cli("-c", path, "diff", "--exit-code").code == 0


# --- what apply writes ---------------------------------------------------------------------------


def test_create_is_disabled_then_targets_then_enabled(aws: str, cli: Callable[..., Result], tmp_path: Path,
                                                      order: list[tuple[str, Any]]) -> None:
    path = write_config(tmp_path, [rule("nightly")])
    assert cli("-c", path, "apply").code == 0
    # The fingerprint tag last: until then the rule reads as an unfinished apply, never as drift.
    assert order == [("PutRule", "DISABLED"), ("PutTargets", None), ("EnableRule", None), ("TagResource", None)]
    assert client("events").describe_rule(Name="nightly")["State"] == "ENABLED"


def test_state_only_change_is_one_state_call(aws: str, cli: Callable[..., Result], tmp_path: Path,
                                             calls: Counter[str]) -> None:
    path = write_config(tmp_path, [rule("nightly")])
    assert cli("-c", path, "apply").code == 0
    path = write_config(tmp_path, [rule("nightly", disabled=True)])
    calls.clear()
    res = cli("-c", path, "apply")
    assert res.code == 0
    # The rule itself gets one DisableRule; the fingerprint tag records what was applied (drift detection).
    assert calls["DisableRule"] == 1
    assert calls["PutRule"] == calls["PutTargets"] == 0
    assert client("events").describe_rule(Name="nightly")["State"] == "DISABLED"
    assert cli("-c", path, "diff", "--exit-code").code == 0


def test_changed_target_id_removes_the_old_target(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    assert cli("-c", write_config(tmp_path, [rule("nightly")]), "apply").code == 0
    assert [t["Id"] for t in targets("nightly")] == ["nightly"]
    path = write_config(tmp_path, [rule("nightly", targetId="nightly-v2")])
    assert cli("-c", path, "apply").code == 0
    assert [t["Id"] for t in targets("nightly")] == ["nightly-v2"]
    assert cli("-c", path, "diff", "--exit-code").code == 0


def test_multibyte_description_round_trips(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    desc = "夜間バッチ: 売上レポート集計 🚀"
    path = write_config(tmp_path, [rule("report", description=desc,
                                        containerOverrides=[{"name": "app", "command": ["php", "artisan", "集計"],
                                                             "environment": {"LABEL": "日本語"}}])])
    assert cli("-c", path, "apply").code == 0
    assert client("events").describe_rule(Name="report")["Description"] == desc
    res = cli("-c", path, "diff", "--exit-code")
    assert res.code == 0, res.out


def test_a_changed_field_is_shown_in_file_key_names(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    assert cli("-c", write_config(tmp_path, [rule("nightly")]), "apply").code == 0
    path = write_config(tmp_path, [rule("nightly", taskCount=2,
                                        containerOverrides=[{"name": "app", "command": ["php", "artisan", "x"]}])])
    res = cli("-c", path, "diff")
    assert "~ update nightly" in res.out
    assert "+taskCount: 2" in res.out
    data = json.loads(cli("-c", path, "diff", "--format", "json").out)
    paths = {f["path"] for c in data["changes"] for f in c["fields"]}
    assert {"taskCount", "containerOverrides"} <= paths


def test_put_targets_failed_entries_are_errors(aws: str, cli: Callable[..., Result], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # moto never reports FailedEntries, so one PutTargets answer is replaced through botocore's
    # before-call event (a Stubber for that single call); everything else goes to moto.
    from ecsched.aws import Aws

    original = Aws.client

    def failing(self: Aws, service: str, region: str | None = None) -> Any:
        c = original(self, service, region)

        def answer(model: Any, params: dict[str, Any], **_: Any) -> Any:
            # before-call sees the serialised request: EventBridge speaks JSON.
            if model.name == "PutTargets" and json.loads(params["body"])["Rule"] == "bad":
                from botocore.awsrequest import AWSResponse

                return AWSResponse(None, 200, {}, None), {"FailedEntryCount": 1, "FailedEntries": [
                    {"TargetId": "bad", "ErrorCode": "ValidationException", "ErrorMessage": "role is invalid"}]}
            return None

        if service == "events" and not getattr(c, "_fail", False):
            c.meta.events.register_first("before-call.events.PutTargets", answer)
            c._fail = True
        return c

    monkeypatch.setattr(Aws, "client", failing)
    path = write_config(tmp_path, [rule("good"), rule("bad")])
    res = cli("-c", path, "apply")
    assert res.code == 1
    assert "rule bad: create failed" in res.err and "role is invalid" in res.err
    assert client("events").describe_rule(Name="good")["State"] == "ENABLED"
    # The half-created rule never fires: it stays DISABLED, and the next apply converges.
    assert client("events").describe_rule(Name="bad")["State"] == "DISABLED"
    monkeypatch.setattr(Aws, "client", original)
    assert cli("-c", path, "apply").code == 0
    assert cli("-c", path, "diff", "--exit-code").code == 0


# --- ownership -------------------------------------------------------------------------------------


def _foreign(name: str, tracking: str | None = None, cluster: str = "api") -> None:
    ev = client("events")
    ev.put_rule(Name=name, ScheduleExpression="rate(1 day)", State="ENABLED")
    ev.put_targets(Rule=name, Targets=[{"Id": "x", "Arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{cluster}",
                                        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/other",
                                        "EcsParameters": {"TaskDefinitionArn":
                                                          f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/x"}}])
    if tracking:
        ev.tag_resource(ResourceARN=f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{name}",
                        Tags=[{"Key": "ecschedule:tracking-id", "Value": tracking}])


def test_prune_deletes_only_owned_rules_missing_from_the_file(aws: str, cli: Callable[..., Result],
                                                              tmp_path: Path) -> None:
    assert cli("-c", write_config(tmp_path, [rule("keep"), rule("gone")]), "apply").code == 0
    _foreign("hand-made")  # no tag
    _foreign("other-team", tracking="billing")  # someone else's
    path = write_config(tmp_path, [rule("keep")])
    diff = cli("-c", path, "diff", "--prune")
    assert "- delete gone" in diff.out
    assert "hand-made" not in diff.out and "other-team" not in diff.out
    assert cli("-c", path, "apply", "--prune").code == 0
    names = {r["Name"] for r in client("events").list_rules()["Rules"]}
    assert names == {"keep", "hand-made", "other-team"}
    assert cli("-c", path, "diff", "--prune", "--exit-code").code == 0


def test_without_prune_nothing_is_deleted(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    assert cli("-c", write_config(tmp_path, [rule("keep"), rule("gone")]), "apply").code == 0
    assert cli("-c", write_config(tmp_path, [rule("keep")]), "apply").code == 0
    assert {r["Name"] for r in client("events").list_rules()["Rules"]} == {"keep", "gone"}


def test_prune_with_rule_is_refused(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    path = write_config(tmp_path, [rule("keep")])
    res = cli("-c", path, "apply", "--rule", "keep", "--prune")
    assert res.code == 1
    assert "--prune cannot be combined with --rule" in res.err
    assert client("events").list_rules()["Rules"] == []


@pytest.mark.parametrize(("tracking", "cluster"), [(None, "other"), ("billing", "api")])
def test_conflict_is_refused_and_adopt_takes_an_untagged_rule(aws: str, cli: Callable[..., Result],
                                                              tmp_path: Path, tracking: str | None,
                                                              cluster: str) -> None:
    _foreign("nightly", tracking, cluster)
    before = targets("nightly")
    path = write_config(tmp_path, [rule("nightly")])
    diff = cli("-c", path, "diff", "--exit-code")
    assert diff.code == 2
    assert "! conflict nightly" in diff.out
    res = cli("-c", path, "apply")
    assert res.code == 1
    assert "refused" in res.err
    assert targets("nightly") == before  # untouched
    adopted = cli("-c", path, "apply", "--adopt")
    if tracking:  # another trackingId's rule is never taken, even with --adopt
        assert adopted.code == 1
        assert targets("nightly") == before
    else:
        assert adopted.code == 0, adopted.err
        assert tags("nightly")["ecschedule:tracking-id"] == "api"
        assert cli("-c", path, "diff", "--exit-code").code == 0


def test_an_untagged_ecs_rule_on_the_files_cluster_is_adopted_by_a_plain_apply(
        aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    _foreign("nightly")  # as ecschedule before v0.10 left it: no tag
    path = write_config(tmp_path, [rule("nightly")])
    diff = cli("-c", path, "diff", "--format", "json")
    (ch,) = json.loads(diff.out)["changes"]
    assert ch["action"] == "update" and "adopted" in ch["reason"]
    assert "(adopt)" in cli("-c", path, "diff").out
    assert cli("-c", path, "apply").code == 0
    assert tags("nightly")["ecschedule:tracking-id"] == "api"
    assert cli("-c", path, "diff", "--exit-code").code == 0


def test_rule_with_several_targets_is_a_conflict(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    assert cli("-c", write_config(tmp_path, [rule("nightly")]), "apply").code == 0
    client("events").put_targets(Rule="nightly", Targets=[{"Id": "extra", "Arn": "arn:aws:sqs:us-east-1:1:q"}])
    path = write_config(tmp_path, [rule("nightly")])
    diff = cli("-c", path, "diff")
    assert "! conflict nightly" in diff.out and "2 targets" in diff.out
    assert cli("-c", path, "apply").code == 1
    assert len(targets("nightly")) == 2


def test_rule_selection_takes_globs(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    path = write_config(tmp_path, [rule("report-a"), rule("report-b"), rule("cleanup")])
    assert cli("-c", path, "apply", "--rule", "report-*").code == 0
    assert {r["Name"] for r in client("events").list_rules()["Rules"]} == {"report-a", "report-b"}
    res = cli("-c", path, "diff", "-rule", "reprot-a")
    assert res.code == 1 and "did you mean report-a" in res.err


# --- dump ------------------------------------------------------------------------------------------


def test_dump_then_diff_is_clean(aws: str, cli: Callable[..., Result], tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUMMY_HOGE_ENV", "hoge")
    path = str(COMPAT / "testdata" / "sample.yaml")
    assert cli("-c", path, "apply").code == 0
    assert cli("-c", str(tmp_path / "x.yaml"), "apply").code == 1  # no such file: a clear error
    _foreign("hand-made")
    dumped = cli("dump", "--cluster", "api", "--region", REGION)
    assert dumped.code == 0
    out = tmp_path / "dumped.yaml"
    out.write_text(dumped.out)
    assert "hoge-task-name" in dumped.out and "hand-made" in dumped.out
    # Rules ecsched owns diff clean; the hand-made one is a conflict until adopted.
    res = cli("-c", str(out), "diff", "--exit-code", "--rule", "hoge-task-name")
    assert res.code == 0, res.out
    assert cli("-c", str(out), "diff", "--exit-code", "--rule", "hand-made").code == 2


def test_example_schedule_applies_and_diffs_clean(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    src = Path(__file__).resolve().parents[1] / "schedules" / "example.yaml"
    path = tmp_path / "example.yaml"
    shutil.copyfile(src, path)
    assert cli("-c", str(path), "apply").code == 0
    res = cli("-c", str(path), "diff", "--exit-code")
    assert res.code == 0, res.out
    # report-nightly is written in Asia/Tokyo; rules run in UTC.
    assert client("events", "ap-northeast-1").describe_rule(Name="report-nightly")["ScheduleExpression"] \
        == "cron(30 18 * * ? *)"
    t = client("events", "ap-northeast-1").list_targets_by_rule(Rule="report-nightly")["Targets"][0]
    assert t["InputTransformer"]["InputPathsMap"] == {"time": "$.time"}
    assert "<time>" in t["InputTransformer"]["InputTemplate"]


def test_seed_helper_is_usable(aws: str) -> None:
    seeded = seed_ecs()
    assert seeded["subnets"]


def test_a_full_diff_stays_within_the_read_budget(aws: str, cli: Callable[..., Result], tmp_path: Path,
                                                  calls: Counter[str]) -> None:
    n = 130  # two ListRules pages
    path = write_config(tmp_path, [rule(f"job-{i:03d}") for i in range(n)])
    assert cli("-c", path, "apply", "--parallel", "16").code == 0
    calls.clear()
    res = cli("-c", path, "diff", "--exit-code", "--prune")
    assert res.code == 0, res.out
    assert calls["GetCallerIdentity"] == 1  # one per run, not one per rule
    assert calls["ListTargetsByRule"] == n
    assert calls["ListTagsForResource"] == n
    pages = -(-n // 100)
    assert calls["ListRules"] + calls["ListRuleNamesByTarget"] <= 2 * pages
    assert sum(calls.values()) <= 2 * n + 2 * pages + 1


def test_dry_run_writes_nothing(aws: str, cli: Callable[..., Result], tmp_path: Path, calls: Counter[str]) -> None:
    assert cli("-c", write_config(tmp_path, [rule("keep"), rule("gone")]), "apply").code == 0
    path = write_config(tmp_path, [rule("keep", disabled=True), rule("new")])
    calls.clear()
    res = cli("-c", path, "apply", "--dry-run", "--prune")
    assert res.code == 0
    assert "dry run" in res.out and "+ create new" in res.out and "- delete gone" in res.out
    assert writes(calls) == 0, calls
    assert {r["Name"] for r in client("events").list_rules()["Rules"]} == {"keep", "gone"}


def test_prune_reports_and_leaves_an_owned_rule_whose_shape_ecsched_does_not_model(
        aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    assert cli("-c", write_config(tmp_path, [rule("keep"), rule("odd")]), "apply").code == 0
    client("events").put_targets(Rule="odd", Targets=[{"Id": "extra", "Arn": "arn:aws:sqs:us-east-1:1:q"}])
    path = write_config(tmp_path, [rule("keep")])
    diff = cli("-c", path, "diff", "--prune")
    assert "! conflict odd" in diff.out and "--prune leaves it" in diff.out and "2 targets" in diff.out
    assert cli("-c", path, "apply", "--prune").code == 1
    assert {r["Name"] for r in client("events").list_rules()["Rules"]} == {"keep", "odd"}
    assert len(targets("odd")) == 2


def test_a_migrated_rule_is_not_created_again_from_an_old_file(aws: str, cli: Callable[..., Result],
                                                               tmp_path: Path) -> None:
    path = write_config(tmp_path, [rule("nightly", backend="scheduler")])
    assert cli("-c", path, "apply").code == 0, "the schedule exists on EventBridge Scheduler"
    old = write_config(tmp_path, [rule("nightly")])  # the file as it was before the migration
    diff = cli("-c", old, "diff", "--exit-code")
    assert diff.code == 2
    assert "! conflict nightly" in diff.out and "already runs this task" in diff.out
    res = cli("-c", old, "apply")
    assert res.code == 1
    assert client("events").list_rules()["Rules"] == []  # no second copy of the batch


def test_json_output_masks_secrets_everywhere(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    path = write_config(tmp_path, [rule("nightly", containerOverrides=[
        {"name": "app", "command": ["php", "artisan"], "environment": {"DB_PASSWORD": "pw-in-clear", "MODE": "x"}}])])
    out = cli("-c", path, "diff", "--format", "json").out
    assert "pw-in-clear" not in out
    assert "(sensitive)" in out and '"MODE": "x"' in out
    assert "pw-in-clear" not in cli("-c", path, "apply", "--dry-run", "--format", "json").out


def test_dry_run_exits_1_when_apply_would_refuse(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    _foreign("nightly", "billing")
    res = cli("-c", write_config(tmp_path, [rule("nightly")]), "apply", "--dry-run")
    assert res.code == 1
    assert "apply would refuse it" in res.err


def test_a_foreign_rule_of_odd_shape_does_not_abort_the_diff(aws: str, cli: Callable[..., Result],
                                                             tmp_path: Path) -> None:
    path = write_config(tmp_path, [rule("keep")])
    assert cli("-c", path, "apply").code == 0
    ev = client("events")
    ev.put_rule(Name="odd", ScheduleExpression="rate(1 day)")
    taskdef = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/t"
    ev.put_targets(Rule="odd", Targets=[{"Id": "odd", "Arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/api",
                                         "RoleArn": "arn:aws:iam::1:role/r",
                                         "EcsParameters": {"TaskDefinitionArn": taskdef},
                                         "Input": '{"containerOverrides":[{"name":"a","environment":"oops"}]}'}])
    res = cli("-c", path, "diff", "--prune", "--exit-code")
    assert res.code == 0, res.out + res.err


def test_prune_finds_owned_rules_when_the_file_has_none_left(aws: str, cli: Callable[..., Result],
                                                             tmp_path: Path) -> None:
    assert cli("-c", write_config(tmp_path, [rule("r1"), rule("r2")]), "apply").code == 0
    _foreign("hand-made")
    empty = write_config(tmp_path, [])
    diff = cli("-c", empty, "diff", "--prune", "--exit-code")
    assert diff.code == 2, diff.out
    assert "- delete r1" in diff.out and "- delete r2" in diff.out and "hand-made" not in diff.out
    assert cli("-c", empty, "apply", "--prune").code == 0
    assert {r["Name"] for r in client("events").list_rules()["Rules"]} == {"hand-made"}


def test_a_read_failing_mid_apply_reports_the_writes_already_made(aws: str, cli: Callable[..., Result],
                                                                  tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # moto enforces no IAM: the denied read is raised from botocore's before-call event instead.
    from botocore.exceptions import ClientError

    from ecsched.aws import Aws

    assert cli("-c", write_config(tmp_path, [rule("a"), rule("b")]), "apply").code == 0
    original = Aws.client

    def denying(self: Aws, service: str, region: str | None = None) -> Any:
        c = original(self, service, region)

        def deny(model: Any, params: dict[str, Any], **_: Any) -> None:
            if json.loads(params["body"])["ResourceARN"].endswith("rule/b"):
                raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}},
                                  "ListTagsForResource")

        if service == "events" and not getattr(c, "_deny", False):
            c.meta.events.register_first("before-call.events.ListTagsForResource", deny)
            c._deny = True
        return c

    monkeypatch.setattr(Aws, "client", denying)
    path = write_config(tmp_path, [rule("a", disabled=True), rule("b", disabled=True)])
    res = cli("-c", path, "apply", "--parallel", "1")
    assert res.code == 1
    assert "~ a: updated (DisableRule" in res.err
    assert "reading the live state failed part-way" in res.err and "AccessDeniedException" in res.err
    assert "Traceback" not in res.err
    assert client("events").describe_rule(Name="a")["State"] == "DISABLED"

"""The file's job rules: every check names its key path; the JSON-Schema fragment agrees."""

from __future__ import annotations

from typing import Any

import pytest

from ecsched.sqsjkr.validate import JOB_SCHEMA, Issue, job_problems, rule_problems


def rule(**over: Any) -> dict[str, Any]:
    r: dict[str, Any] = {"name": "orders-export", "scheduleExpression": "cron(0 * * * ? *)",
                         "queue": "sqsjkr-jobs", "job": {"command": "php artisan export:orders",
                                                         "envs": {"APP_ENV": "production"},
                                                         "lock_id": "export-orders", "life_time": "10m",
                                                         "abort_if_locked": True}}
    r.update(over)
    return r


def errors(issues: list[Issue]) -> dict[str, str]:
    return {i.path: i.message for i in issues if i.level == "error"}


def warnings(issues: list[Issue]) -> dict[str, str]:
    return {i.path: i.message for i in issues if i.level == "warning"}


def test_the_issue_example_is_clean() -> None:
    assert rule_problems(rule()) == []


def test_an_ecs_rule_is_not_ours() -> None:
    assert rule_problems({"name": "x", "taskDefinition": "td"}) == []


@pytest.mark.parametrize(("job", "path", "says"), [
    ({"command": ""}, "job.command", "non-empty"),
    ({"command": "   "}, "job.command", "non-empty"),
    ({}, "job.command", "non-empty"),
    ({"command": ["php", "x"]}, "job.command", "string"),
    ({"command": "x", "env": {"A": "1"}}, "job.env", "rename the key to envs"),
    ({"command": "x", "Lock_ID": "a"}, "job.Lock_ID", "lock_id"),
    ({"command": "x", "lockid": "a"}, "job.lockid", "did you mean `lock_id`"),
    ({"command": "x", "scheduled_at": "t"}, "job.scheduled_at", "dedupe"),
    ({"command": "x", "envs": {"PORT": 8080}}, "job.envs.PORT", 'PORT: "8080"'),
    ({"command": "x", "envs": ["A=1"]}, "job.envs", "mapping"),
    ({"command": "x", "envs": {"A=B": "1"}}, "job.envs", "variable name"),
    ({"command": "x", "life_time": "2d"}, "job.life_time", "48h"),
    ({"command": "x", "life_time": 1.5}, "job.life_time", "whole seconds"),
    ({"command": "x", "life_time": None}, "job.life_time", "neither"),
    ({"command": "x", "life_time": -5}, "job.life_time", "negative"),
    ({"command": "x", "life_time": "-1m"}, "job.life_time", "negative"),
    ({"command": "x", "abort_if_locked": "yes"}, "job.abort_if_locked", "true or false"),
    ({"command": "x", "lock_id": 3}, "job.lock_id", "string"),
    ("php artisan x", "job", "mapping"),
])
def test_bad_job_bodies(job: Any, path: str, says: str) -> None:
    found = errors(job_problems(job))
    assert path in found, found
    assert says in found[path]


def test_unknown_fields_are_a_warning_and_ids_too() -> None:
    w = warnings(job_problems({"command": "x", "comment": "hourly", "event_id": "fixed"}))
    assert "ignores" in w["job.comment"]
    assert "MessageId" in w["job.event_id"]


@pytest.mark.parametrize(("job", "warns"), [
    ({"command": "x", "lock_id": "L"}, True),
    ({"command": "x", "lock_id": "L", "life_time": 0}, True),
    ({"command": "x", "lock_id": "L", "life_time": "0s"}, True),
    ({"command": "x", "lock_id": "L", "life_time": "10m"}, False),
    ({"command": "x", "lock_id": "L", "abort_if_locked": True}, False),
    ({"command": "x", "life_time": 0}, False),
])
def test_retry_for_ever_warning(job: dict[str, Any], warns: bool) -> None:
    w = warnings(job_problems(job))
    assert ("job.lock_id" in w) == warns
    if warns:
        assert "for ever" in w["job.lock_id"]


def test_taskdefinition_and_job_never_both() -> None:
    assert "never both" in errors(rule_problems(rule(taskDefinition="batch")))[""]


def test_queue_and_job_go_together() -> None:
    r = rule()
    del r["job"]
    assert "job" in errors(rule_problems(r))
    r = rule()
    del r["queue"]
    assert "queue" in errors(rule_problems(r))


def test_fifo_needs_a_group_and_a_standard_queue_gets_a_warning() -> None:
    assert "FIFO" in errors(rule_problems(rule(queue="jobs.fifo")))["messageGroupId"]
    assert rule_problems(rule(queue="arn:aws:sqs:us-east-1:1:jobs.fifo", messageGroupId="batch")) == []
    assert "not FIFO" in warnings(rule_problems(rule(messageGroupId="batch")))["messageGroupId"]
    assert "1-128" in errors(rule_problems(rule(queue="jobs.fifo", messageGroupId="x" * 129)))["messageGroupId"]
    assert "queue" in errors(rule_problems(rule(queue="arn:aws:sns:us-east-1:1:t")))


@pytest.mark.parametrize(("backend", "dedupe", "limit"), [("rules", False, 8192 - 12), ("rules", True, 8192 - 50),
                                                           ("scheduler", True, 8192 - 60)])
def test_input_must_fit(backend: str, dedupe: bool, limit: int) -> None:
    """The command length that fits depends on what the body carries: find the edge, both sides."""
    def size_error(n: int) -> bool:
        return "job" in errors(rule_problems(rule(job={"command": "x" * n}, dedupe=dedupe), backend=backend))

    fits = max(n for n in range(limit - 60, limit + 60) if not size_error(n))
    assert size_error(fits + 1) and not size_error(fits)
    assert limit - 60 < fits < limit + 60
    assert "8,192" in errors(rule_problems(rule(job={"command": "x" * 9000})))["job"]


def test_dedupe_is_a_bool() -> None:
    assert "dedupe" in errors(rule_problems(rule(dedupe="yes")))


# --- the schema fragment -------------------------------------------------------------------------------


def _schema_errors(r: dict[str, Any]) -> list[str]:
    from jsonschema import Draft202012Validator

    schema = {"type": "object", **{k: v for k, v in JOB_SCHEMA.items() if k != "$comment"}}
    Draft202012Validator.check_schema(schema)
    return [e.message for e in Draft202012Validator(schema).iter_errors(r)]


def test_schema_accepts_the_issue_example() -> None:
    assert _schema_errors(rule()) == []
    assert _schema_errors(rule(queue="jobs.fifo", messageGroupId="g", job={"command": "x", "life_time": 90})) == []


@pytest.mark.parametrize("over", [
    {"taskDefinition": "batch"},
    {"job": {"command": "x", "life_time": "2d"}},
    {"job": {"command": "x", "life_time": -1}},
    {"job": {"command": "x", "envs": {"PORT": 8080}}},
    {"job": {"command": ""}},
    {"job": {"command": "x", "abort_if_locked": "yes"}},
    {"messageGroupId": ""},
])
def test_schema_and_checks_agree_on_errors(over: dict[str, Any]) -> None:
    r = rule(**over)
    assert _schema_errors(r)
    assert errors(rule_problems(r))


def test_schema_needs_job_with_queue() -> None:
    r = rule()
    del r["job"]
    assert _schema_errors(r)

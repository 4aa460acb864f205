"""`ecsched run` never lets go of a task silently (issue 16 §5), with faults injected by a WSGI layer in
front of the moto server (tests/fault_server.py).

botocore's own retries are turned off here (AWS_MAX_ATTEMPTS=1) so that each injected fault reaches
ecsched at once and the tests take seconds: what is under test is what ecsched does once botocore has
given up, which under a long outage it does too (retries used up, or its retry quota run dry). Also,
moto ignores RunTask's clientToken, so a botocore retry of a RunTask that committed would start a second
task here where AWS would return the first one.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fault_server import FaultServer
from run_helpers import Recorder, hold, put_logs, release, run_env

from ecsched.run.text import summary_lines
from tests.conftest import REGION, Result

STARTED_BY = "ecsched/nightly-report"


def moto(url: str, service: str) -> Any:
    """A client of the moto server itself, past the fault layer: what is really there."""
    import boto3

    return boto3.client(service, region_name=REGION, endpoint_url=url)


@pytest.fixture
def env(aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A seeded moto account and a config for it; every AWS call of ecsched goes through the fault layer
    (`env["faults"]`), with fast polling and no botocore retries. Tasks are never left held."""
    for seeded in run_env(aws, tmp_path, monkeypatch):
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
        with FaultServer(aws) as fs:
            monkeypatch.setenv("AWS_ENDPOINT_URL", fs.url)
            seeded["faults"] = fs
            yield seeded


def run(cli: Callable[..., Result], env: dict[str, Any], *args: str) -> Result:
    return cli("-c", env["config"], "run", "--rule", "nightly-report", *args)


def tasks_in_moto(env: dict[str, Any]) -> list[dict[str, Any]]:
    ecs = moto(env["url"], "ecs")
    arns = ecs.list_tasks(cluster="api")["taskArns"]
    return list(ecs.describe_tasks(cluster="api", tasks=arns)["tasks"]) if arns else []


def in_background(work: Callable[[], None]) -> threading.Thread:
    t = threading.Thread(target=work, daemon=True)
    t.start()
    return t


def wait_until(check: Callable[[], bool], limit: float = 60) -> None:
    end = time.monotonic() + limit
    while not check():
        if time.monotonic() > end:
            raise AssertionError("the condition never came true")
        time.sleep(0.02)


# --- (a) a DescribeTasks outage ----------------------------------------------------------------------


def test_a_describe_tasks_outage_is_ridden_out(cli, env):
    fs: FaultServer = env["faults"]
    hold(env["url"])
    fs.add("DescribeTasks", "500")

    def outage_then_end() -> None:
        wait_until(lambda: fs.faults["DescribeTasks"] >= 6)  # six failed polls in a row, with backoff
        fs.clear()
        release(env["url"])  # the task runs to its end

    t = in_background(outage_then_end)
    r = run(cli, env, "--no-logs", "--format", "json")
    t.join()
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["exitCode"] == 0 and out["lost"] is None and out["lastStatus"] == "STOPPED"
    assert fs.faults["DescribeTasks"] == 6
    assert "DescribeTasks failed: InternalFailure: injected fault; still following the task, for up to 10m" in r.err
    assert "DescribeTasks answers again, after" in r.err and "6 failed calls" in r.err


def test_an_outage_longer_than_lost_timeout_exits_125_naming_the_running_task(cli, env):
    fs: FaultServer = env["faults"]
    hold(env["url"])
    fs.add("DescribeTasks", "500")
    r = run(cli, env, "--no-logs", "--lost-timeout", "1s")
    assert r.code == 125, r.err  # not 1, which is a container's own exit code
    [task] = tasks_in_moto(env)
    assert task["lastStatus"] == "RUNNING"  # ecsched let go of it, but said so: it runs on
    assert "lost track of the task: DescribeTasks failed for 1s" in r.err
    assert f"{task['taskArn']} was RUNNING when last seen and is probably still running" in r.err
    assert f"aws ecs describe-tasks --cluster arn:aws:ecs:{REGION}" in r.err
    assert fs.faults["DescribeTasks"] >= 3  # retried with backoff until the bound, not given up at once


def test_lost_in_json_keeps_the_task_arn(cli, env):
    fs: FaultServer = env["faults"]
    hold(env["url"])
    fs.add("DescribeTasks", "reset")
    r = run(cli, env, "--no-logs", "--lost-timeout", "500ms", "--format", "json")
    assert r.code == 125, r.err
    out = json.loads(r.out)
    assert out["exitCode"] == 125
    assert out["lost"].startswith("DescribeTasks failed for")
    assert out["taskArn"] == tasks_in_moto(env)[0]["taskArn"]


# --- (b) a failed GetLogEvents round ------------------------------------------------------------------


def test_a_failed_log_read_is_retried_and_nothing_is_lost_or_repeated(cli, env):
    fs: FaultServer = env["faults"]
    hold(env["url"])
    ecs = moto(env["url"], "ecs")

    def write_logs() -> None:
        wait_until(lambda: bool(ecs.list_tasks(cluster="api", startedBy=STARTED_BY)["taskArns"]))
        tid = ecs.list_tasks(cluster="api", startedBy=STARTED_BY)["taskArns"][0].rsplit("/", 1)[1]
        logs = moto(env["url"], "logs")
        stream = f"ecs/app/{tid}"
        logs.create_log_stream(logGroupName="/ecs/task1", logStreamName=stream)
        before = fs.calls["GetLogEvents"]
        put_logs("/ecs/task1", stream, ["one", "two"])
        wait_until(lambda: fs.calls["GetLogEvents"] > before + 2)  # "one" and "two" are read
        fs.add("GetLogEvents", "500", times=3)  # three rounds fail
        put_logs("/ecs/task1", stream, ["three"])
        wait_until(lambda: fs.faults["GetLogEvents"] == 3 and fs.calls["GetLogEvents"] > before + 8)
        put_logs("/ecs/task1", stream, ["four"])
        release(env["url"])

    t = in_background(write_logs)
    r = run(cli, env)
    t.join()
    assert r.code == 0, r.err
    assert r.out.splitlines() == ["one", "two", "three", "four"]
    assert "cannot read logs /ecs/task1 ecs/app/" in r.err and "retrying" in r.err
    assert "again after 3 failed rounds" in r.err
    assert fs.faults["GetLogEvents"] == 3


# --- (c) a failed StopTask ----------------------------------------------------------------------------


def _runner_through(env: dict[str, Any], **opts: Any) -> tuple[Any, Recorder, dict[str, Any], Any]:
    from ecsched.aws import Aws
    from ecsched.run.runner import Runner, RunOptions

    seeded = env
    request = {"cluster": "api", "taskDefinition": seeded["taskdefs"]["task1"], "launchType": "FARGATE",
               "networkConfiguration": {"awsvpcConfiguration": {"subnets": seeded["subnets"][:1],
                                                                 "securityGroups": [seeded["security_group"]]}},
               "startedBy": STARTED_BY}
    out = Recorder()
    aws = Aws(region=REGION)
    return Runner(aws, REGION, RunOptions(logs=False, poll=0.01, **opts), out), out, request, aws


def test_a_failed_stop_task_is_reported_as_failed_and_the_wait_is_bounded(env):
    fs: FaultServer = env["faults"]
    hold(env["url"])
    fs.add("StopTask", "500")
    runner, out, request, _ = _runner_through(env, timeout=0.3, stop_on_timeout=True, stop_wait=1.0)
    result = runner.run("nightly-report", request, None)
    assert result.exit_code == 124
    [task] = tasks_in_moto(env)
    assert task["lastStatus"] == "RUNNING"
    assert result.stop_errors == {task["taskArn"]: "StopTask failed: InternalFailure: injected fault"}
    assert not result.stop_requested
    text = "\n".join(summary_lines(result))
    assert "StopTask failed (StopTask failed: InternalFailure: injected fault): the task keeps running" in text
    assert "stop requested" not in text
    assert any(e.startswith("cannot stop arn:") and "trying again" in e for e in out.errors)
    assert fs.faults["StopTask"] >= 2  # tried again while waiting
    assert result.stop_waited == 1.0  # the wait ended at its bound, where it used to have none


def test_a_stop_task_whose_answer_was_lost_but_worked_is_reported_as_stopped(env):
    fs: FaultServer = env["faults"]
    hold(env["url"])
    fs.add("StopTask", "500-after-commit", times=1)
    runner, _out, request, _ = _runner_through(env, timeout=0.3, stop_on_timeout=True, stop_wait=30.0)
    result = runner.run("nightly-report", request, None)
    assert result.exit_code == 124
    assert tasks_in_moto(env)[0]["lastStatus"] == "STOPPED"
    assert result.stop_errors == {} and result.stop_requested
    assert "timed out after 300ms; the task was stopped" in summary_lines(result)
    assert fs.calls["StopTask"] == 1  # DescribeTasks showed it stopping: no second StopTask


# --- (d) an ambiguous RunTask ---------------------------------------------------------------------------


def test_a_run_task_answer_lost_after_commit_finds_the_task_by_started_by(cli, env):
    fs: FaultServer = env["faults"]
    fs.add("RunTask", "500-after-commit", times=1)
    r = run(cli, env, "--no-logs", "--format", "json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    [task] = tasks_in_moto(env)  # one task: not started twice
    assert out["taskArn"] == task["taskArn"] and out["foundByStartedBy"] is True
    assert "could not start" not in r.err
    assert "RunTask's answer was lost (RunTask failed: InternalFailure: injected fault); found the task by " \
           f"startedBy {STARTED_BY}" in r.err
    assert fs.calls["RunTask"] == 1 and fs.calls["ListTasks"] == 1


def test_a_run_task_that_failed_before_commit_is_sent_again_with_the_same_client_token(env):
    fs: FaultServer = env["faults"]
    fs.add("RunTask", "500", times=2)
    runner, _out, request, aws = _runner_through(env)
    tokens: list[str] = []
    aws.client("ecs").meta.events.register(
        "before-send.ecs.RunTask", lambda request, **_: tokens.append(json.loads(request.body)["clientToken"]))
    result = runner.run("nightly-report", request, None)
    assert result.exit_code == 0 and not result.adopted
    assert len(tokens) == 3 and len(set(tokens)) == 1  # one run, one token: a retry is idempotent on AWS
    assert len(tasks_in_moto(env)) == 1
    assert fs.calls["ListTasks"] == 2  # looked for the task before each retry: none was there


def test_a_run_task_that_never_answers_says_no_task_was_started(cli, env):
    fs: FaultServer = env["faults"]
    fs.add("RunTask", "500")
    r = run(cli, env, "--no-logs")
    assert r.code == 125
    assert tasks_in_moto(env) == []
    assert f"no task with startedBy {STARTED_BY} was started" in r.err
    assert fs.calls["RunTask"] == 3


def test_when_no_lookup_can_tell_the_message_says_so(cli, env):
    fs: FaultServer = env["faults"]
    fs.add("RunTask", "500-after-commit")
    fs.add("ListTasks", "500")
    r = run(cli, env, "--no-logs")
    assert r.code == 125
    assert "ecsched cannot tell whether the task started: look for it with `aws ecs list-tasks --cluster " in r.err
    assert f"--started-by {STARTED_BY}`" in r.err

"""ecsched.run.codes, .result and .text: docker run's exit codes, the JSON result, the summary."""

from __future__ import annotations

from typing import Any

import pytest

from ecsched.run.codes import EXIT_NOT_STARTED, task_exit_code
from ecsched.run.result import RunResult
from ecsched.run.text import status_text, summary_lines

CLUSTER = "arn:aws:ecs:us-east-1:123456789012:cluster/api"
TASK = "arn:aws:ecs:us-east-1:123456789012:task/api/0123456789abcdef0123456789abcdef"


def _task(*containers: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"taskArn": TASK, "lastStatus": "STOPPED", "containers": list(containers), **kw}


@pytest.mark.parametrize(("task", "essential", "code"), [
    (_task({"name": "app", "exitCode": 0}), ["app"], 0),
    (_task({"name": "app", "exitCode": 3}), ["app"], 3),
    (_task({"name": "app", "exitCode": 0}, {"name": "side", "exitCode": 1}), ["app"], 0),  # not essential
    (_task({"name": "a", "exitCode": 0}, {"name": "b", "exitCode": 2}, {"name": "c", "exitCode": 7}),
     ["a", "b", "c"], 2),
    (_task({"name": "b", "exitCode": 2}, {"name": "a", "exitCode": 7}), ["a", "b"], 7),  # definition order
    (_task({"name": "app"}, stopCode="EssentialContainerExited"), ["app"], 125),  # no exit code
    (_task({"name": "app", "exitCode": 0}, stopCode="TaskFailedToStart"), ["app"], 125),
    (_task({"name": "app", "exitCode": 1}, {"name": "b"}), ["app", "b"], 1),  # a real code beats none
    (_task({"name": "app", "exitCode": 256}), ["app"], 1),  # would wrap to 0 as a process status
    (_task({"name": "app", "exitCode": 0}, {"name": "b", "exitCode": 4}), None, 4),  # unknown: all essential
    (_task(), ["app"], 125),
])
def test_task_exit_code(task, essential, code):
    assert task_exit_code(task, essential) == code


def test_several_tasks_exit_with_the_first_failure():
    t2 = TASK.replace("0123", "9999")
    r = RunResult(rule="r", request={}, task_arns=[TASK, t2], essential=["app"], tasks={
        TASK: _task({"name": "app", "exitCode": 0}), t2: _task({"name": "app", "exitCode": 5})})
    assert r.final_exit_code() == 5
    r.failures = [{"reason": "RESOURCE:MEMORY"}]  # one of the requested tasks did not start
    assert r.final_exit_code() == EXIT_NOT_STARTED


def test_precedence_signal_timeout_lost_then_the_task():
    r = RunResult(rule="r", request={}, task_arns=[TASK], essential=["app"],
                  tasks={TASK: _task({"name": "app", "exitCode": 1})})
    assert r.final_exit_code() == 1
    r.lost = "DescribeTasks failed for 10m"
    assert r.final_exit_code() == 125  # never the container's 1: ecsched does not know how it ended
    r.timed_out = True
    assert r.final_exit_code() == 124
    r.signal_name = "SIGINT"
    assert r.final_exit_code() == 130


def test_lost_names_the_task_and_says_it_is_probably_still_running():
    r = RunResult(rule="r", request={"cluster": CLUSTER}, task_arns=[TASK],
                  tasks={TASK: {"taskArn": TASK, "lastStatus": "RUNNING"}},
                  lost="DescribeTasks failed for 10m (40 calls; last: ...)")
    text = "\n".join(summary_lines(r))
    assert "lost track of the task: DescribeTasks failed for 10m" in text
    assert f"{TASK} was RUNNING when last seen and is probably still running" in text
    assert f"--cluster {CLUSTER} --tasks {TASK}" in text
    assert r.to_json()["lost"].startswith("DescribeTasks failed")


@pytest.mark.parametrize(("setup", "phrase"), [
    ({"stop_requested": True, "last": "STOPPED"}, "interrupted by SIGTERM; the task was stopped"),
    ({"stop_errors": {TASK: "StopTask failed: AccessDeniedException: no"}, "last": "RUNNING"},
     "interrupted by SIGTERM; StopTask failed (StopTask failed: AccessDeniedException: no): the task keeps running"),
    ({"stop_requested": True, "stop_waited": 180.0, "last": "DEACTIVATING"},
     "stop requested, but the task had not stopped after 3m: it may still be running"),
    ({"stop_requested": True, "gave_up_stopping": True, "last": "STOPPING"},
     "stop requested; not waiting for the task to stop"),
])
def test_the_stop_is_reported_as_it_went(setup, phrase):
    last = setup.pop("last")
    r = RunResult(rule="r", request={}, task_arns=[TASK], signal_name="SIGTERM",
                  tasks={TASK: {"taskArn": TASK, "lastStatus": last}}, **setup)
    assert phrase in "\n".join(summary_lines(r))


def test_timeout_without_stop_says_the_task_keeps_running():
    r = RunResult(rule="r", request={}, task_arns=[TASK], timed_out=True, timeout=0.3,
                  tasks={TASK: {"taskArn": TASK, "lastStatus": "RUNNING"}})
    assert summary_lines(r)[-1] == "timed out after 300ms; the task keeps running (--stop-on-timeout would stop it)"


def test_status_text():
    r = RunResult(rule="nightly", request={}, task_arns=[TASK], tasks={TASK: {"lastStatus": "RUNNING"}})
    assert status_text(r, 65.4) == "nightly: 0123456789ab RUNNING  1m5s"
    assert status_text(r, 3, stopping=True, unreachable=20.5) == (
        "nightly: 0123456789ab RUNNING (stopping) (no answer from ECS for 20s)  3s")
    t2 = TASK.replace("0123", "9999")
    r.task_arns.append(t2)
    assert status_text(r, 0) == "nightly: 2 tasks: 1 RUNNING, 1 ?  0s"

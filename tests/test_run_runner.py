"""ecsched.run.runner: RunTask, the wait loop, signals, the end of a run.

Most of this runs against the moto server. A botocore Stubber is used only where moto cannot produce the
response (each such test says why): moto reports exit code 0 for every container, never a stopCode, never
RunTask `failures`, and stops a task the moment StopTask is called.
"""

from __future__ import annotations

import signal as sig
from datetime import UTC, datetime
from typing import Any

import pytest
from run_helpers import Recorder, put_logs

from ecsched.errors import EcschedError
from ecsched.run.codes import EXIT_NOT_STARTED, NotStarted
from ecsched.run.runner import Runner, RunOptions, poll_interval, stop_reason
from ecsched.run.taskdef import TaskDefinitionInfo
from ecsched.run.text import summary_lines
from tests.conftest import REGION, client, seed_ecs

CLUSTER = "arn:aws:ecs:us-east-1:123456789012:cluster/api"
TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/task1:3"
TASK = "arn:aws:ecs:us-east-1:123456789012:task/api/0123456789abcdef0123456789abcdef"


class FakeAws:
    """The Aws interface the runner uses (`client(service, region)`), handing out prepared clients."""

    def __init__(self, **clients: Any) -> None:
        self.clients = clients

    def client(self, service: str, region: str | None = None) -> Any:
        return self.clients[service]


def _task(*containers: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"taskArn": TASK, "lastStatus": "STOPPED", "containers": list(containers), **kw}


def test_poll_interval_default_and_override():
    assert poll_interval({}) == 6.0
    assert poll_interval({"ECSCHED_POLL_INTERVAL": "0.05"}) == 0.05
    with pytest.raises(EcschedError):
        poll_interval({"ECSCHED_POLL_INTERVAL": "fast"})
    with pytest.raises(EcschedError):
        poll_interval({"ECSCHED_POLL_INTERVAL": "0"})


def test_stop_reason_names_ecsched_and_the_user(monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "alice")
    assert stop_reason("SIGTERM received") == "Stopped by ecsched run for alice: SIGTERM received"
    assert len(stop_reason("x" * 400)) == 255


# --- with a Stubber: responses moto cannot give --------------------------------------------------------


def _stubbed_ecs() -> tuple[Any, Any]:
    import boto3
    from botocore.stub import Stubber

    ecs = boto3.client("ecs", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x",
                       endpoint_url="http://127.0.0.1:9")  # never reached: the Stubber answers
    return ecs, Stubber(ecs)


def _run_stubbed(stub_responses: list[tuple[str, dict[str, Any]]], td: TaskDefinitionInfo | None,
                 request: dict[str, Any] | None = None) -> tuple[Any, Recorder]:
    from botocore.stub import ANY

    ecs, stubber = _stubbed_ecs()
    for op, resp in stub_responses:
        params = {"cluster": CLUSTER, "tasks": [TASK]} if op == "describe_tasks" else None
        if op == "run_task":
            params = {**(request or {"cluster": CLUSTER, "taskDefinition": TD}), "clientToken": ANY}
        stubber.add_response(op, resp, params)
    out = Recorder()
    with stubber:
        result = Runner(FakeAws(ecs=ecs), REGION, RunOptions(logs=False, poll=0.001), out).run(
            "r", request or {"cluster": CLUSTER, "taskDefinition": TD}, td)
        stubber.assert_no_pending_responses()
    return result, out


TD_INFO = TaskDefinitionInfo.from_response({"taskDefinitionArn": TD, "containerDefinitions": [
    {"name": "app", "essential": True}, {"name": "xray", "essential": False}]})
STARTED = {"tasks": [{"taskArn": TASK, "lastStatus": "PROVISIONING", "taskDefinitionArn": TD}], "failures": []}


def test_essential_container_exit_code_is_the_exit_code():
    # Stubber: moto reports exit code 0 for every container; this needs a real failure (exit 3), with a
    # non-essential sidecar that exited 1 and must not count.
    stopped = _task({"name": "app", "exitCode": 3, "lastStatus": "STOPPED"},
                    {"name": "xray", "exitCode": 1, "lastStatus": "STOPPED"},
                    stopCode="EssentialContainerExited", stoppedReason="Essential container in task exited",
                    startedAt=datetime(2026, 1, 1, 3, 0, 0, tzinfo=UTC),
                    stoppedAt=datetime(2026, 1, 1, 3, 2, 5, tzinfo=UTC))
    result, _ = _run_stubbed([
        ("run_task", STARTED),
        ("describe_tasks", {"tasks": [{"taskArn": TASK, "lastStatus": "RUNNING", "containers": []}],
                            "failures": []}),
        ("describe_tasks", {"tasks": [stopped], "failures": []}),
    ], TD_INFO)
    assert result.exit_code == 3
    out = result.to_json()
    assert out["exitCode"] == 3
    assert out["stopCode"] == "EssentialContainerExited"
    assert out["duration"] == 125.0
    assert [(c["name"], c["exitCode"], c["essential"]) for c in out["containers"]] == [
        ("app", 3, True), ("xray", 1, False)]
    text = "\n".join(summary_lines(result))
    assert "stopCode: EssentialContainerExited; stoppedReason: Essential container in task exited" in text
    assert "after 2m5s" in text


def test_task_failed_to_start_is_125_with_stop_code_and_reason_printed():
    # Stubber: moto never fails to start a task nor sets a stopCode.
    stopped = _task({"name": "app", "lastStatus": "STOPPED", "reason": "CannotPullContainerError: nope"},
                    stopCode="TaskFailedToStart",
                    stoppedReason="CannotPullContainerError: pull image manifest has been retried 5 times")
    result, _ = _run_stubbed([("run_task", STARTED), ("describe_tasks", {"tasks": [stopped], "failures": []})],
                             TD_INFO)
    assert result.exit_code == EXIT_NOT_STARTED
    text = "\n".join(summary_lines(result))
    assert "stopCode: TaskFailedToStart" in text
    assert "CannotPullContainerError: pull image manifest" in text
    assert "app: no exit code (CannotPullContainerError: nope)" in text


def test_an_undescribable_actual_revision_drops_the_earlier_one():
    # Stubber: the task runs task1:4 (the family moved on) and DescribeTaskDefinition is denied for it.
    # The warning's promise holds: every container counts (xray's exit 1 too) and task1:3's logs are not read.
    from botocore.stub import ANY

    actual = TD.replace(":3", ":4")
    started = {"tasks": [{**STARTED["tasks"][0], "taskDefinitionArn": actual}], "failures": []}
    stopped = _task({"name": "app", "exitCode": 0, "lastStatus": "STOPPED"},
                    {"name": "xray", "exitCode": 1, "lastStatus": "STOPPED"}, taskDefinitionArn=actual)
    ecs, stubber = _stubbed_ecs()
    stubber.add_response("run_task", started, {"cluster": CLUSTER, "taskDefinition": TD, "clientToken": ANY})
    stubber.add_client_error("describe_task_definition", "AccessDeniedException", "not allowed",
                             expected_params={"taskDefinition": actual})
    stubber.add_response("describe_tasks", {"tasks": [stopped], "failures": []},
                         {"cluster": CLUSTER, "tasks": [TASK]})
    out = Recorder()
    with stubber:
        result = Runner(FakeAws(ecs=ecs), REGION, RunOptions(logs=True, poll=0.001), out).run(
            "r", {"cluster": CLUSTER, "taskDefinition": TD}, TD_INFO)
        stubber.assert_no_pending_responses()
    assert "treating every container as essential, no logs" in out.said
    assert result.essential is None and result.streams == []
    assert result.exit_code == 1


def test_runtask_failures_are_125_and_printed():
    # Stubber: moto's RunTask never returns `failures` (it raises or starts the task).
    resp = {"tasks": [], "failures": [{"arn": CLUSTER, "reason": "MISSING", "detail": "capacity"}]}
    result, out = _run_stubbed([("run_task", resp)], TD_INFO)
    assert result.exit_code == EXIT_NOT_STARTED
    assert result.task_arns == []
    assert "RunTask failure" in out.said and "MISSING" in out.said and "capacity" in out.said


def test_runtask_exception_is_not_started():
    # Stubber: an AccessDeniedException, which moto does not enforce.
    ecs, stubber = _stubbed_ecs()
    stubber.add_client_error("run_task", "AccessDeniedException", "not allowed to ecs:RunTask")
    with stubber, pytest.raises(NotStarted) as e:
        Runner(FakeAws(ecs=ecs), REGION, RunOptions(poll=0.001), Recorder()).run(
            "r", {"cluster": CLUSTER, "taskDefinition": TD}, TD_INFO)
    assert e.value.exit_code == 125
    assert "AccessDeniedException" in str(e.value)


def test_task_that_vanishes_is_lost_not_a_hang_nor_the_containers_exit_code():
    # Stubber: moto keeps every task; a task ECS has forgotten answers with a `failures` entry.
    gone = {"tasks": [], "failures": [{"arn": TASK, "reason": "MISSING"}]}
    result, _ = _run_stubbed([("run_task", STARTED)] + [("describe_tasks", gone)] * 3, TD_INFO)
    assert result.exit_code == 125
    assert result.lost is not None and "no longer known" in result.lost


class FakeClock:
    """Time that moves only when the runner sleeps (plus a hair per reading, so a busy loop still ends)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept = 0.0

    def clock(self) -> float:
        self.now += 0.0001
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.slept += seconds
        self.now += seconds


def test_signal_stops_the_task_and_keeps_polling_at_the_interval_until_stopped(monkeypatch):
    # Stubber: moto marks a task STOPPED the moment StopTask is called; a real one takes a while (SIGTERM,
    # stopTimeout, deprovisioning), and ecsched must keep polling at its interval, not spin.
    from botocore.stub import ANY

    monkeypatch.setattr("getpass.getuser", lambda: "alice")
    ecs, stubber = _stubbed_ecs()
    stubber.add_response("run_task", STARTED, {"cluster": CLUSTER, "taskDefinition": TD, "clientToken": ANY})
    stubber.add_response("stop_task", {"task": {"taskArn": TASK}}, {
        "cluster": CLUSTER, "task": TASK, "reason": "Stopped by ecsched run for alice: SIGTERM received"})
    running = {"tasks": [{"taskArn": TASK, "lastStatus": "DEACTIVATING", "containers": []}], "failures": []}
    stopped = {"tasks": [_task({"name": "app", "exitCode": 143})], "failures": []}
    for resp in (running, running, stopped):
        stubber.add_response("describe_tasks", resp, {"cluster": CLUSTER, "tasks": [TASK]})
    t = FakeClock()
    runner = Runner(FakeAws(ecs=ecs), REGION, RunOptions(logs=False, poll=5.0), Recorder(),
                    clock=t.clock, sleep=t.sleep)
    runner.signals.received.append(sig.SIGTERM)  # as the handler would, while RunTask was in flight
    with stubber:
        result = runner.run("r", {"cluster": CLUSTER, "taskDefinition": TD}, TD_INFO)
        stubber.assert_no_pending_responses()
    assert result.exit_code == 143
    assert result.signal_name == "SIGTERM"
    assert t.slept >= 2 * 5.0 - 0.01  # two full intervals between the three DescribeTasks
    assert "interrupted by SIGTERM; the task was stopped" in summary_lines(result)


def test_second_signal_gives_up_waiting():
    # Stubber: as above, moto would stop the task at once and leave nothing to give up on.
    from botocore.stub import ANY

    ecs, stubber = _stubbed_ecs()
    stubber.add_response("run_task", STARTED, {"cluster": CLUSTER, "taskDefinition": TD, "clientToken": ANY})
    stubber.add_response("stop_task", {"task": {"taskArn": TASK}}, {"cluster": CLUSTER, "task": TASK, "reason": ANY})
    running = {"tasks": [{"taskArn": TASK, "lastStatus": "STOPPING", "containers": []}], "failures": []}
    stubber.add_response("describe_tasks", running, {"cluster": CLUSTER, "tasks": [TASK]})
    t = FakeClock()
    runner = Runner(FakeAws(ecs=ecs), REGION, RunOptions(logs=False, poll=5.0), Recorder(),
                    clock=t.clock, sleep=lambda s: (t.sleep(s), runner.signals.received.append(sig.SIGINT)))
    runner.signals.received.append(sig.SIGINT)
    with stubber:
        result = runner.run("r", {"cluster": CLUSTER, "taskDefinition": TD}, TD_INFO)
        stubber.assert_no_pending_responses()
    assert result.exit_code == 130
    assert result.tasks[TASK]["lastStatus"] == "STOPPING"
    assert "interrupted by SIGINT; stop requested; not waiting for the task to stop" in summary_lines(result)


def test_the_wait_for_a_stop_is_bounded():
    # Stubber: a task that never reaches STOPPED after StopTask (moto stops it at once).
    from botocore.stub import ANY

    ecs, stubber = _stubbed_ecs()
    stubber.add_response("run_task", STARTED, {"cluster": CLUSTER, "taskDefinition": TD, "clientToken": ANY})
    stubber.add_response("stop_task", {"task": {"taskArn": TASK}}, {"cluster": CLUSTER, "task": TASK, "reason": ANY})
    running = {"tasks": [{"taskArn": TASK, "lastStatus": "DEACTIVATING", "desiredStatus": "STOPPED",
                          "containers": []}], "failures": []}
    for _ in range(4):  # at 0, 5, 10, 15 s; the wait ends at 20 s
        stubber.add_response("describe_tasks", running, {"cluster": CLUSTER, "tasks": [TASK]})
    t = FakeClock()
    runner = Runner(FakeAws(ecs=ecs), REGION, RunOptions(logs=False, poll=5.0, stop_wait=20.0), Recorder(),
                    clock=t.clock, sleep=t.sleep)
    runner.signals.received.append(sig.SIGTERM)
    with stubber:
        result = runner.run("r", {"cluster": CLUSTER, "taskDefinition": TD}, TD_INFO)
        stubber.assert_no_pending_responses()
    assert result.exit_code == 143
    assert result.stop_waited == 20.0
    assert 19.9 <= t.slept < 21.0  # fake time: the wait ended at stop_wait, not later
    assert ("interrupted by SIGTERM; stop requested, but the task had not stopped after 20s: it may still "
            "be running") in summary_lines(result)


# --- against moto -------------------------------------------------------------------------------------------


@pytest.fixture
def moto_task(aws: str) -> dict[str, Any]:
    seeded = seed_ecs()
    ecs = client("ecs")
    request = {"cluster": "api", "taskDefinition": seeded["taskdefs"]["task1"], "launchType": "FARGATE",
               "networkConfiguration": {"awsvpcConfiguration": {"subnets": seeded["subnets"][:1],
                                                                 "securityGroups": [seeded["security_group"]]}},
               "startedBy": "ecsched/r"}
    td = TaskDefinitionInfo.from_response(
        ecs.describe_task_definition(taskDefinition="task1")["taskDefinition"])
    return {"request": request, "td": td, **seeded}


def test_runner_polls_until_stopped_and_reads_the_logs(moto_task):
    from ecsched.aws import Aws

    aws = Aws(region=REGION)
    out = Recorder()
    runner = Runner(aws, REGION, RunOptions(poll=0.001), out)

    # moto advances one status per DescribeTasks. Logs are written while the task runs, and again in the
    # DescribeTasks answer that says STOPPED: only the final read after STOPPED can see those.
    def after_describe(parsed: dict[str, Any], **_: Any) -> None:
        for t in parsed.get("tasks") or []:
            stream = f"ecs/app/{t['taskArn'].rsplit('/', 1)[1]}"
            if t["lastStatus"] == "DEACTIVATING":
                put_logs("/ecs/task1", stream, ["hello", "multi\nline"])
            if t["lastStatus"] == "STOPPED":
                put_logs("/ecs/task1", stream, ["last words"])

    aws.client("ecs").meta.events.register("after-call.ecs.DescribeTasks",
                                           lambda **kw: after_describe(kw["parsed"]))
    result = runner.run("r", moto_task["request"], moto_task["td"])
    assert result.exit_code == 0
    assert result.tasks[result.task_arns[0]]["lastStatus"] == "STOPPED"
    assert out.logs == ["hello", "multi", "line", "last words"]
    assert any(n.endswith(": DEPROVISIONING") for n in out.notes)
    assert out.started == out.stopped == 1
    assert summary_lines(result)[0] == f"task {result.task_arns[0].rsplit('/', 1)[1]}: STOPPED"


def test_runner_no_wait_returns_at_once(moto_task):
    from ecsched.aws import Aws

    result = Runner(Aws(region=REGION), REGION, RunOptions(wait=False, poll=0.001), Recorder()).run(
        "r", moto_task["request"], moto_task["td"])
    assert result.exit_code == 0 and not result.waited
    assert len(result.task_arns) == 1
    assert client("ecs").describe_tasks(cluster="api", tasks=result.task_arns)["tasks"][0]["startedBy"] == "ecsched/r"


def test_status_changes_are_lines_only_without_a_status_line(moto_task):
    from ecsched.aws import Aws

    for live in (True, False):
        out = Recorder(live=live)
        Runner(Aws(region=REGION), REGION, RunOptions(poll=0.001, logs=False), out).run(
            "r", moto_task["request"], moto_task["td"])
        assert any(s.startswith("r: ") and " DEACTIVATING  " in s for s in out.statuses)
        assert any(n.endswith(": DEPROVISIONING") for n in out.notes) is (not live)

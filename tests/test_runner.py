"""ecsched.runner: the RunTask request, exit codes, log following, and the wait loop.

Most of this runs against the moto server. A botocore Stubber is used only where moto cannot produce the
response (each such test says why): moto reports exit code 0 for every container, never a stopCode, and
never RunTask `failures`.
"""

from __future__ import annotations

import io
import signal as sig
from datetime import UTC, datetime
from typing import Any

import pytest
from run_helpers import put_logs

from ecsched.context import Context
from ecsched.errors import EcschedError
from ecsched.model import CapacityProviderItem, ContainerOverride, EcsTarget, Network
from ecsched.runner import (
    EXIT_NOT_STARTED,
    Adjustments,
    LogFollower,
    LogStream,
    NotStarted,
    Runner,
    RunOptions,
    TaskDefinitionInfo,
    apply_adjustments,
    build_request,
    exit_code_of,
    log_streams,
    parse_duration,
    poll_interval,
    started_by,
    stop_reason,
    summary_lines,
    target_container,
)
from tests.conftest import REGION, client, seed_ecs

CLUSTER = "arn:aws:ecs:us-east-1:123456789012:cluster/api"
TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/task1:3"
TASK = "arn:aws:ecs:us-east-1:123456789012:task/api/0123456789abcdef0123456789abcdef"


def target(**kw: Any) -> EcsTarget:
    base: dict[str, Any] = {"target_id": "t", "cluster_arn": CLUSTER, "role_arn": "arn:aws:iam::1:role/r",
                            "task_definition_arn": TD}
    base.update(kw)
    return EcsTarget(**base)


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def make_ctx(tty: bool = False) -> Context:
    import argparse

    return Context(args=argparse.Namespace(), color=False, stdout=io.StringIO(),
                   stderr=TTY() if tty else io.StringIO())


class FakeAws:
    """The Aws interface the runner uses (`client(service, region)`), handing out prepared clients."""

    def __init__(self, **clients: Any) -> None:
        self.clients = clients

    def client(self, service: str, region: str | None = None) -> Any:
        return self.clients[service]


# --- small pieces --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "seconds"), [
    ("90", 90), ("90s", 90), ("5m", 300), ("1h30m", 5400), ("1.5h", 5400), ("250ms", 0.25), ("2d", 172800),
])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "soon", "5 m", "1x", "0", "-5s", "m5", "5m3"])
def test_parse_duration_rejects(text):
    with pytest.raises(EcschedError):
        parse_duration(text)


def test_poll_interval_default_and_override():
    assert poll_interval({}) == 6.0
    assert poll_interval({"ECSCHED_POLL_INTERVAL": "0.05"}) == 0.05
    with pytest.raises(EcschedError):
        poll_interval({"ECSCHED_POLL_INTERVAL": "fast"})
    with pytest.raises(EcschedError):
        poll_interval({"ECSCHED_POLL_INTERVAL": "0"})


def test_started_by_is_sanitised_and_bounded():
    assert started_by("nightly-report") == "ecsched/nightly-report"
    assert started_by("a.b c") == "ecsched/a_b_c"
    long = started_by("x" * 200)
    assert len(long) == 128 and long.startswith("ecsched/xxx")


def test_stop_reason_names_ecsched_and_the_user(monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "alice")
    assert stop_reason("SIGTERM received") == "Stopped by ecsched run for alice: SIGTERM received"
    assert len(stop_reason("x" * 400)) == 255


# --- the request ----------------------------------------------------------------------------------------


def test_request_with_capacity_providers_has_no_launch_type():
    t = target(launch_type=None, capacity_provider_strategy=(CapacityProviderItem("FARGATE_SPOT", 0, 4),
                                                             CapacityProviderItem("FARGATE", 1, 1)),
               platform_version="1.4.0", group="g", network=Network(("subnet-1",), ("sg-1",), "ENABLED"))
    req = build_request(t, rule="r")
    assert "launchType" not in req
    assert req["capacityProviderStrategy"] == [{"capacityProvider": "FARGATE_SPOT", "base": 0, "weight": 4},
                                               {"capacityProvider": "FARGATE", "base": 1, "weight": 1}]
    assert req["platformVersion"] == "1.4.0"
    assert req["group"] == "g"
    assert req["networkConfiguration"] == {"awsvpcConfiguration": {
        "subnets": ["subnet-1"], "securityGroups": ["sg-1"], "assignPublicIp": "ENABLED"}}
    assert "clientToken" not in req


def test_request_minimal_target():
    assert build_request(target(launch_type="EC2"), rule="r") == {
        "cluster": CLUSTER, "taskDefinition": TD, "count": 1, "launchType": "EC2",
        "enableECSManagedTags": False, "enableExecuteCommand": False, "startedBy": "ecsched/r"}


def test_adjustments_replace_command_and_merge_environment():
    t = target(container_overrides=(
        ContainerOverride("app", command=("php", "a.php"), environment=(("A", "1"), ("B", "2")), cpu=128),
        ContainerOverride("side", environment=(("S", "x"),)),
    ), task_cpu="512")
    adj = Adjustments(command=["php", "b.php"], env={"B": "3", "C": "4"}, count=2,
                      task_definition_arn=TD.replace(":3", ":9"))
    req = build_request(t, rule="r", adj=adj, container=target_container(t, adj, None))
    assert req["count"] == 2
    assert req["taskDefinition"].endswith(":9")
    assert req["overrides"] == {"containerOverrides": [
        {"name": "app", "command": ["php", "b.php"], "cpu": 128,
         "environment": [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}, {"name": "C", "value": "4"}]},
        {"name": "side", "environment": [{"name": "S", "value": "x"}]},
    ], "cpu": "512"}
    # The schedule's own overrides are untouched.
    assert build_request(t, rule="r")["overrides"]["containerOverrides"][0]["command"] == ["php", "a.php"]


def test_adjustments_for_a_container_without_override_add_one():
    ov = apply_adjustments({"cpu": "256"}, Adjustments(command=["x"]), "worker")
    assert ov == {"cpu": "256", "containerOverrides": [{"name": "worker", "command": ["x"]}]}


def test_adjustments_need_a_container():
    with pytest.raises(NotStarted):
        apply_adjustments({}, Adjustments(env={"A": "1"}), None)


def test_target_container_order_of_preference():
    td = TaskDefinitionInfo.from_response({"taskDefinitionArn": TD, "containerDefinitions": [
        {"name": "init", "essential": False}, {"name": "main"}, {"name": "other", "essential": True}]})
    with_override = target(container_overrides=(ContainerOverride("other"),))
    assert target_container(with_override, Adjustments(container="init"), td) == "init"
    assert target_container(with_override, Adjustments(), td) == "other"
    assert target_container(target(), Adjustments(), td) == "main"
    assert target_container(target(), Adjustments(), None) is None


def test_task_definition_info_reads_awslogs():
    td = TaskDefinitionInfo.from_response({"taskDefinitionArn": TD, "containerDefinitions": [
        {"name": "app", "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": "/ecs/x", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "p"}}},
        {"name": "noprefix", "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/g"}}},
        {"name": "fluent", "logConfiguration": {"logDriver": "awsfirelens"}},
        {"name": "helper", "essential": False, "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": "/g", "awslogs-stream-prefix": "p"}}},
    ]})
    assert [c.name for c in td.essential] == ["app", "noprefix", "fluent"]
    streams = log_streams(TASK, td, "us-east-1")
    # Only essential containers with a predictable stream name: prefix/container/task-id.
    assert [(s.container, s.group, s.region, s.stream) for s in streams] == [
        ("app", "/ecs/x", "eu-west-1", "p/app/0123456789abcdef0123456789abcdef")]


# --- exit codes ------------------------------------------------------------------------------------------


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
def test_exit_code_of(task, essential, code):
    assert exit_code_of(task, essential) == code


# --- the runner with a Stubber: responses moto cannot give -----------------------------------------------


def _stubbed_ecs() -> tuple[Any, Any]:
    import boto3
    from botocore.stub import Stubber

    ecs = boto3.client("ecs", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x",
                       endpoint_url="http://127.0.0.1:9")  # never reached: the Stubber answers
    return ecs, Stubber(ecs)


def _run_stubbed(stub_responses: list[tuple[str, dict[str, Any]]], td: TaskDefinitionInfo | None,
                 request: dict[str, Any] | None = None) -> tuple[Any, Context]:
    from botocore.stub import ANY

    ecs, stubber = _stubbed_ecs()
    for op, resp in stub_responses:
        params = {"cluster": CLUSTER, "tasks": [TASK]} if op == "describe_tasks" else None
        if op == "run_task":
            params = {**(request or {"cluster": CLUSTER, "taskDefinition": TD}), "clientToken": ANY}
        stubber.add_response(op, resp, params)
    ctx = make_ctx()
    with stubber:
        result = Runner(ctx, FakeAws(ecs=ecs), REGION, RunOptions(logs=False, poll=0.001)).run(
            "r", request or {"cluster": CLUSTER, "taskDefinition": TD}, td)
        stubber.assert_no_pending_responses()
    return result, ctx


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
    assert "after 2m05s" in text


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
    actual = TD.replace(":3", ":4")
    started = {"tasks": [{**STARTED["tasks"][0], "taskDefinitionArn": actual}], "failures": []}
    stopped = _task({"name": "app", "exitCode": 0, "lastStatus": "STOPPED"},
                    {"name": "xray", "exitCode": 1, "lastStatus": "STOPPED"}, taskDefinitionArn=actual)
    ecs, stubber = _stubbed_ecs()
    from botocore.stub import ANY

    stubber.add_response("run_task", started, {"cluster": CLUSTER, "taskDefinition": TD, "clientToken": ANY})
    stubber.add_client_error("describe_task_definition", "AccessDeniedException", "not allowed",
                             expected_params={"taskDefinition": actual})
    stubber.add_response("describe_tasks", {"tasks": [stopped], "failures": []},
                         {"cluster": CLUSTER, "tasks": [TASK]})
    ctx = make_ctx()
    with stubber:
        result = Runner(ctx, FakeAws(ecs=ecs), REGION, RunOptions(logs=True, poll=0.001)).run(
            "r", {"cluster": CLUSTER, "taskDefinition": TD}, TD_INFO)
        stubber.assert_no_pending_responses()
    assert "treating every container as essential, no logs" in ctx.stderr.getvalue()  # type: ignore[attr-defined]
    assert result.essential is None and result.streams == []
    assert result.exit_code == 1


def test_runtask_failures_are_125_and_printed():
    # Stubber: moto's RunTask never returns `failures` (it raises or starts the task).
    resp = {"tasks": [], "failures": [{"arn": CLUSTER, "reason": "MISSING", "detail": "capacity"}]}
    result, ctx = _run_stubbed([("run_task", resp)], TD_INFO)
    assert result.exit_code == EXIT_NOT_STARTED
    assert result.task_arns == []
    err = ctx.stderr.getvalue()  # type: ignore[attr-defined]
    assert "RunTask failure" in err and "MISSING" in err and "capacity" in err


def test_runtask_exception_is_not_started():
    # Stubber: an AccessDeniedException, which moto does not enforce.
    ecs, stubber = _stubbed_ecs()
    stubber.add_client_error("run_task", "AccessDeniedException", "not allowed to ecs:RunTask")
    with stubber, pytest.raises(NotStarted) as e:
        Runner(make_ctx(), FakeAws(ecs=ecs), REGION, RunOptions(poll=0.001)).run(
            "r", {"cluster": CLUSTER, "taskDefinition": TD}, TD_INFO)
    assert e.value.exit_code == 125
    assert "AccessDeniedException" in str(e.value)


def test_task_that_vanishes_is_an_error_not_a_hang():
    # Stubber: moto keeps every task; a task ECS has forgotten answers with a `failures` entry.
    gone = {"tasks": [], "failures": [{"arn": TASK, "reason": "MISSING"}]}
    with pytest.raises(EcschedError, match="no longer known"):
        _run_stubbed([("run_task", STARTED)] + [("describe_tasks", gone)] * 3, TD_INFO)


# --- the runner against moto ---------------------------------------------------------------------------


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
    ctx = make_ctx()
    runner = Runner(ctx, aws, REGION, RunOptions(poll=0.001))

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
    assert ctx.stdout.getvalue() == "hello\nmulti\nline\nlast words\n"  # type: ignore[attr-defined]
    assert ": DEPROVISIONING\n" in ctx.stderr.getvalue()  # type: ignore[attr-defined]
    assert summary_lines(result)[0] == f"task {result.task_arns[0].rsplit('/', 1)[1]}: STOPPED"


def test_runner_no_wait_returns_at_once(moto_task):
    from ecsched.aws import Aws

    result = Runner(make_ctx(), Aws(region=REGION), REGION, RunOptions(wait=False, poll=0.001)).run(
        "r", moto_task["request"], moto_task["td"])
    assert result.exit_code == 0 and not result.waited
    assert len(result.task_arns) == 1
    assert client("ecs").describe_tasks(cluster="api", tasks=result.task_arns)["tasks"][0]["startedBy"] == "ecsched/r"


def test_log_follower_tails_and_prefixes(aws):
    from ecsched.aws import Aws

    seed_ecs()
    out: list[str] = []
    warnings: list[str] = []
    streams = [LogStream(TASK, "app", "/ecs/task1", REGION, "ecs/app/1"),
               LogStream(TASK, "web", "/ecs/task1", REGION, "ecs/web/1"),
               LogStream(TASK, "gone", "/no/such/group", REGION, "ecs/gone/1")]
    f = LogFollower(Aws(region=REGION), streams, out.append, warnings.append)
    assert f.poll() == 0  # nothing yet: missing streams and a missing group are normal early on
    put_logs("/ecs/task1", "ecs/app/1", ["a1", "a2"])
    assert f.poll() == 2
    assert f.poll() == 0  # the token stayed the same: nothing new, nothing repeated
    put_logs("/ecs/task1", "ecs/web/1", ["w1"])
    put_logs("/ecs/task1", "ecs/app/1", ["a3"])
    f.poll()
    assert out == ["app | a1", "app | a2", "app | a3", "web | w1"]
    assert warnings == []


def test_log_follower_single_stream_is_not_prefixed_and_pages(aws, monkeypatch):
    from ecsched import runner
    from ecsched.aws import Aws

    seed_ecs()
    put_logs("/ecs/task1", "s", [f"line {i}" for i in range(25)])
    out: list[str] = []
    logs = Aws(region=REGION).client("logs")
    real = logs.get_log_events
    monkeypatch.setattr(logs, "get_log_events", lambda **kw: real(limit=10, **kw))  # force several pages

    class OneClient:
        def client(self, service: str, region: str | None = None) -> Any:
            return logs

    monkeypatch.setattr(runner, "MAX_LOG_PAGES", 50)
    f = LogFollower(OneClient(), [LogStream(TASK, "app", "/ecs/task1", REGION, "s")], out.append, print)  # type: ignore[arg-type]
    f.poll()
    assert out == [f"line {i}" for i in range(25)]


def test_status_line_only_on_a_terminal(moto_task):
    from ecsched.aws import Aws

    for tty in (True, False):
        ctx = make_ctx(tty=tty)
        Runner(ctx, Aws(region=REGION), REGION, RunOptions(poll=0.001, logs=False)).run(
            "r", moto_task["request"], moto_task["td"])
        err = ctx.stderr.getvalue()  # type: ignore[attr-defined]
        assert ("\r\x1b[Kr: " in err) is tty
        # Off a terminal each status change is a line of its own instead.
        assert ("task " in err and ": DEPROVISIONING\n" in err) is (not tty)


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
    runner = Runner(make_ctx(), FakeAws(ecs=ecs), REGION, RunOptions(logs=False, poll=5.0),
                    clock=t.clock, sleep=t.sleep)
    runner.signals.received.append(sig.SIGTERM)  # as the handler would, while RunTask was in flight
    with stubber:
        result = runner.run("r", {"cluster": CLUSTER, "taskDefinition": TD}, TD_INFO)
        stubber.assert_no_pending_responses()
    assert result.exit_code == 143
    assert result.signal_name == "SIGTERM"
    assert t.slept >= 2 * 5.0 - 0.01  # two full intervals between the three DescribeTasks


def test_second_signal_gives_up_waiting():
    # Stubber: as above, moto would stop the task at once and leave nothing to give up on.
    from botocore.stub import ANY

    ecs, stubber = _stubbed_ecs()
    stubber.add_response("run_task", STARTED, {"cluster": CLUSTER, "taskDefinition": TD, "clientToken": ANY})
    stubber.add_response("stop_task", {"task": {"taskArn": TASK}}, {"cluster": CLUSTER, "task": TASK, "reason": ANY})
    running = {"tasks": [{"taskArn": TASK, "lastStatus": "STOPPING", "containers": []}], "failures": []}
    stubber.add_response("describe_tasks", running, {"cluster": CLUSTER, "tasks": [TASK]})
    t = FakeClock()
    runner = Runner(make_ctx(), FakeAws(ecs=ecs), REGION, RunOptions(logs=False, poll=5.0),
                    clock=t.clock, sleep=lambda s: (t.sleep(s), runner.signals.received.append(sig.SIGINT)))
    runner.signals.received.append(sig.SIGINT)
    with stubber:
        result = runner.run("r", {"cluster": CLUSTER, "taskDefinition": TD}, TD_INFO)
        stubber.assert_no_pending_responses()
    assert result.exit_code == 130
    assert result.tasks[TASK]["lastStatus"] == "STOPPING"


def test_several_tasks_label_lines_with_container_and_task():
    t1, t2 = TASK, TASK.replace("0123456789abcdef0123", "fedcba98765432100123")
    streams = [LogStream(t1, "app", "/g", REGION, "s1"), LogStream(t2, "app", "/g", REGION, "s2")]
    LogFollower(FakeAws(), streams, print, print)
    assert [s.label for s in streams] == ["app/01234567", "app/fedcba98"]


def test_several_tasks_exit_with_the_first_failure():
    from ecsched.runner import RunResult

    t2 = TASK.replace("0123", "9999")
    r = RunResult(rule="r", request={}, task_arns=[TASK, t2], essential=["app"], tasks={
        TASK: _task({"name": "app", "exitCode": 0}), t2: _task({"name": "app", "exitCode": 5})})
    runner = Runner(make_ctx(), FakeAws(), REGION, RunOptions())
    assert runner._exit_code(r) == 5
    r.failures = [{"reason": "RESOURCE:MEMORY"}]  # one of the requested tasks did not start
    assert runner._exit_code(r) == EXIT_NOT_STARTED


def test_a_dedupe_rule_runs_with_the_variables_ecsched_lock_reads() -> None:
    from datetime import UTC, datetime

    from ecsched.model import ContainerOverride, EcsTarget
    from ecsched.runner import build_request, with_dedupe_env

    target = EcsTarget(target_id="r", cluster_arn="arn:aws:ecs:us-east-1:1:cluster/c", role_arn="x",
                       task_definition_arn="arn:aws:ecs:us-east-1:1:task-definition/t",
                       container_overrides=(ContainerOverride("app", ("ecsched", "lock", "--", "true"),
                                                              (("APP_ENV", "prod"),)),), dedupe=True)
    env = {e["name"]: e["value"] for e in
           build_request(target, rule="nightly")["overrides"]["containerOverrides"][0]["environment"]}
    assert env["APP_ENV"] == "prod"
    assert env["ECSCHED_RULE"] == "nightly"
    assert env["ECSCHED_SCHEDULED_TIME"].startswith("manual-")
    fixed = with_dedupe_env({"containerOverrides": [{"name": "app"}]}, "nightly", datetime(2026, 11, 30, tzinfo=UTC))
    assert fixed["containerOverrides"][0]["environment"][1] == {"name": "ECSCHED_SCHEDULED_TIME",
                                                                "value": "manual-2026-11-30T00:00:00Z"}
    plain = build_request(EcsTarget(target_id="r", cluster_arn="c", role_arn="x", task_definition_arn="t",
                                    container_overrides=(ContainerOverride("app"),)), rule="nightly")
    assert "environment" not in plain["overrides"]["containerOverrides"][0]

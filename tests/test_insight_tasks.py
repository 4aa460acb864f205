"""Reading tasks and judging runs: exit codes through DescribeTasks, essential containers, overlap."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

from ecsched.insight import flags, report, tasks
from ecsched.insight.common import Extras
from ecsched.insight.report import Sources
from ecsched.insight.runs import Container, Run, from_task
from ecsched.model import ContainerOverride, EcsTarget, Schedule
from tests.conftest import ACCOUNT, REGION, client

CLUSTER = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/api"
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def schedule(name: str, expr: str = "cron(0 * * * ? *)", family: str = "app", command: str | None = None,
             count: int = 1) -> Schedule:
    cos = (ContainerOverride("app", command=(command,)),) if command else ()
    td = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:1"
    target = EcsTarget(name, CLUSTER, "arn:aws:iam::1:role/r", td, task_count=count, container_overrides=cos)
    return Schedule(name, expr, target, REGION)


def task(started_by: str, *, family: str = "app", exit_code: int | None = 0, created: datetime | None = None,
         stopped: datetime | None = None, tid: str = "t1") -> dict[str, Any]:
    return {"taskArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/api/{tid}", "clusterArn": CLUSTER,
            "taskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:1",
            "startedBy": started_by, "lastStatus": "STOPPED" if stopped else "RUNNING",
            "stopCode": "EssentialContainerExited" if stopped else None,
            "containers": [{"name": "app", "exitCode": exit_code}],
            "createdAt": created, "startedAt": created, "stoppedAt": stopped}


def test_describe_tasks_exit_code_non_zero_is_failed(aws: str) -> None:
    # moto reports exitCode 0 for every container, so DescribeTasks' answer for a failed run comes from a
    # Stubber: only this response; everything else in the suite talks to moto.
    from botocore.stub import Stubber

    ecs = client("ecs")
    created = NOW - timedelta(minutes=50)
    with Stubber(ecs) as stub:
        stub.add_response("describe_tasks", {"tasks": [task("events-rule/nightly", exit_code=137, created=created,
                                                             stopped=created + timedelta(minutes=5))]},
                          {"cluster": CLUSTER, "tasks": ["arn1"]})
        runs = tasks.describe(ecs, CLUSTER, ["arn1"])
    s = schedule("nightly")
    src = Sources(runs, {}, None, None, [])
    [st] = report.build([s], {"nightly": Extras()}, src, NOW)
    assert st.last_run is not None and st.last_run.outcome == "failed" and st.last_run.duration(NOW) == 300
    assert [f.kind for f in st.flags] == ["failed"] and "app exited 137" in st.flags[0].message


def test_only_essential_containers_decide(aws: str) -> None:
    ecs = client("ecs")
    td = ecs.register_task_definition(family="two", containerDefinitions=[
        {"name": "app", "image": "x", "memory": 128, "essential": True},
        {"name": "sidecar", "image": "y", "memory": 64, "essential": False}])["taskDefinition"]["taskDefinitionArn"]
    run = Run("arn:task/1", task_definition_arn=td, last_status="STOPPED",
              containers=(Container("app", 0), Container("sidecar", 1)))
    assert run.outcome == "failed"  # unknown essentials: every container counts
    from ecsched.aws import Aws

    [marked] = tasks.mark_essential(Aws(region=REGION), [run])
    assert [c.essential for c in marked.containers] == [True, False] and marked.outcome == "succeeded"


def test_ties_break_by_family_then_overrides() -> None:
    a = schedule("report-generation-for-tenant-alpha", family="app", command="a")
    b = schedule("report-generation-for-tenant-bravo", family="app", command="b")
    c = schedule("report-generation-for-tenant-charlie", family="other")
    assert tasks.started_by(a) == tasks.started_by(b) == tasks.started_by(c) == "events-rule/report-generation-for-te"
    on_other = from_task(task(tasks.started_by(c), family="other", tid="1"))
    with_b = from_task({**task(tasks.started_by(a), tid="2"), "overrides": {
        "containerOverrides": [{"name": "app", "command": ["b"], "environment": [
            {"name": "ECSCHED_SCHEDULED_TIME", "value": "2026-12-02T03:00:00Z"}]}]}})  # dedupe vars ignored
    neither = from_task({**task(tasks.started_by(a), tid="3"), "overrides": {
        "containerOverrides": [{"name": "app", "command": ["z"]}]}})
    att = tasks.attribute([on_other, with_b, neither], [a, b, c])
    assert {k: [r.task_arn[-1] for r in v] for k, v in att.by_schedule.items()} == {c.name: ["1"], b.name: ["2"]}
    assert [(r.task_arn[-1], names) for r, names in att.ambiguous] == [("3", [a.name, b.name])]


def test_overlap_counts_copies_beyond_the_task_count() -> None:
    t = NOW - timedelta(hours=2)
    runs = [from_task(task("x", created=t, stopped=t + timedelta(minutes=50), tid="1")),
            from_task(task("x", created=t + timedelta(minutes=20), stopped=t + timedelta(minutes=30), tid="2")),
            from_task(task("x", created=t + timedelta(minutes=50), stopped=t + timedelta(minutes=55), tid="3"))]
    assert flags.max_concurrent(runs, NOW) == (2, t + timedelta(minutes=20))
    assert flags.overlap(schedule("x"), runs, NOW) is not None
    assert flags.overlap(schedule("x", count=2), runs, NOW) is None
    # back to back (one ends as the next starts) is not an overlap
    assert flags.overlap(schedule("x"), [runs[0], runs[2]], NOW) is None


def test_long_for_rate_uses_its_interval() -> None:
    s = schedule("x", expr="rate(30 minutes)")
    t = NOW - timedelta(hours=2)
    short = from_task(task("x", created=t, stopped=t + timedelta(minutes=29)))
    long = from_task(task("x", created=t, stopped=t + timedelta(minutes=31)))
    assert flags.long(s, [short], NOW) is None and flags.long(s, [long], NOW) is not None
    still = from_task(task("x", created=NOW - timedelta(minutes=45)))  # running for 45 minutes
    assert flags.long(s, [still], NOW) is not None


def test_a_run_by_hand_is_no_sign_of_a_tick() -> None:
    tick = NOW - timedelta(minutes=30)
    by_rule = from_task(task("events-rule/x", created=tick + timedelta(seconds=40)))
    by_hand = from_task(task("ecsched/x", created=tick + timedelta(seconds=40)))
    assert flags.tick_seen(tick, timedelta(minutes=10), [by_rule], None)
    assert not flags.tick_seen(tick, timedelta(minutes=10), [by_hand], None)
    att = tasks.attribute([by_hand], [schedule("x")])
    assert list(att.by_schedule) == ["x"]


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_status_and_timeline_draw_rich_tables_on_a_terminal() -> None:
    import argparse

    from ecsched.commands import status
    from ecsched.commands import timeline as timeline_cmd
    from ecsched.context import Context
    from ecsched.insight import timeline

    failed = from_task(task("events-rule/nightly", exit_code=2, created=NOW - timedelta(minutes=50),
                            stopped=NOW - timedelta(minutes=40)))
    s = schedule("nightly")
    [st] = report.build([s], {"nightly": Extras()}, Sources([failed], {}, None, None, []), NOW)
    out = _Tty()
    ctx = Context(args=argparse.Namespace(), color=True, stdout=out)
    status.show(ctx, [st], NOW, UTC, "UTC", history=False)
    text = out.getvalue()
    assert "\x1b[" in text and "schedule" in text and "flags" in text and "exited 2" in text and "failed" in text
    out.truncate(0)
    lanes = timeline.lanes([s], NOW, NOW + timedelta(days=1))
    timeline_cmd.show(ctx, lanes, [], NOW, NOW + timedelta(days=1), UTC, "UTC", 1, [])
    assert "\x1b[" in out.getvalue() and "│" in out.getvalue()

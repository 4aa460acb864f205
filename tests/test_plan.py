"""The plan's drift logic, pure: where a difference comes from, told without a state file."""

from __future__ import annotations

import pytest

from ecsched.model import ContainerOverride, EcsTarget, Schedule
from ecsched.plan import Live, make_plan

ARN = "arn:aws:ecs:us-east-1:123456789012"


def schedule(name: str = "job", *, enabled: bool = True, command: str = "run", expr: str = "cron(0 3 * * ? *)",
             tracking_id: str = "api") -> Schedule:
    target = EcsTarget(target_id=name, cluster_arn=f"{ARN}:cluster/api",
                       role_arn="arn:aws:iam::123456789012:role/ecsEventsRole",
                       task_definition_arn=f"{ARN}:task-definition/task1:1",
                       container_overrides=(ContainerOverride("app", command=(command,)),))
    return Schedule(name=name, expression=expr, target=target, region="us-east-1", enabled=enabled,
                    tracking_id=tracking_id)


def live(s: Schedule, recorded: Schedule | None, tracking_id: str | None = "api") -> Live:
    """`s` as it is in AWS; `recorded`: what ecsched last applied (its fingerprint tag)."""
    return Live(name=s.name, schedule=s, tracking_id=tracking_id,
                fingerprint=recorded.fingerprint() if recorded else None, target_ids=(s.target.target_id,))


APPLIED = schedule()


@pytest.mark.parametrize(("file", "aws", "origin", "drift"), [
    # changed in the file only: a reviewed change
    (schedule(command="run --full"), APPLIED, "file", False),
    (schedule(enabled=False), APPLIED, "file", False),
    # changed outside ecsched only (paused in the console): apply would revert it
    (APPLIED, schedule(enabled=False), "outside", True),
    (APPLIED, schedule(expr="cron(0 5 * * ? *)"), "outside", True),
    # both
    (schedule(command="run --full"), schedule(enabled=False), "both", True),
    # the file pauses what the console resumed... the file changed, and so did AWS
    (schedule(enabled=False), schedule(expr="cron(0 5 * * ? *)"), "both", True),
])
def test_origin_of_an_update(file: Schedule, aws: Schedule, origin: str, drift: bool) -> None:
    (ch,) = make_plan([file], {"job": live(aws, APPLIED)}).changes
    assert ch.action == "update"
    assert (ch.origin, ch.drift) == (origin, drift)
    assert ch.edited is (file != APPLIED)


def test_no_change_when_console_and_file_agree() -> None:
    (ch,) = make_plan([APPLIED], {"job": live(APPLIED, APPLIED)}).changes
    assert ch.action == "noop" and not ch.drift


def test_no_record_means_unknown_never_drift() -> None:
    """Rules ecschedule created carry no fingerprint: nothing to tell drift by."""
    (ch,) = make_plan([schedule(command="x")], {"job": live(APPLIED, None)}).changes
    assert (ch.action, ch.origin, ch.drift, ch.edited) == ("update", "unknown", False, None)


def test_another_owners_record_is_not_read_as_ours() -> None:
    lv = live(schedule(enabled=False), APPLIED, tracking_id=None)
    (ch,) = make_plan([APPLIED], {"job": lv}, adopt=True).changes
    assert ch.adopt and not ch.drift and ch.origin == "unknown"


def test_create_and_delete_come_from_the_file() -> None:
    gone = schedule("gone")
    plan = make_plan([schedule("new")], {"gone": live(gone, gone)}, prune=True)
    assert [(c.action, c.origin) for c in plan.changes] == [("create", "file"), ("delete", "file")]


def test_conflict_has_no_origin_and_is_no_pause() -> None:
    (ch,) = make_plan([APPLIED], {"job": live(schedule(enabled=False), APPLIED, tracking_id="other")}).changes
    assert ch.action == "conflict" and ch.origin == "" and not ch.drift
    assert not ch.resuming and not ch.pausing


def test_pausing_and_resuming_flags() -> None:
    (p,) = make_plan([schedule(enabled=False)], {"job": live(APPLIED, APPLIED)}).changes
    (r,) = make_plan([APPLIED], {"job": live(schedule(enabled=False), schedule(enabled=False))}).changes
    (c,) = make_plan([schedule(enabled=False)], {}).changes
    assert (p.pausing, p.resuming, p.state_only) == (True, False, True)
    assert (r.pausing, r.resuming) == (False, True)
    assert c.action == "create" and c.pausing

"""The plan's drift logic, pure: where a difference comes from, told without a state file."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest

from ecsched.model import CapacityProviderItem, ContainerOverride, EcsTarget, Schedule
from ecsched.plan import FieldChange, Live, field_changes, make_plan

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


# --- field changes: deepdiff, items matched by identity, paths in the file's names ----------------


def with_target(s: Schedule, **changes: object) -> Schedule:
    return replace(s, target=replace(s.target, **changes))


def test_adding_one_variable_to_one_container_reads_as_exactly_that() -> None:
    before = with_target(APPLIED, container_overrides=(
        ContainerOverride("app", command=("run",), environment=(("A", "x"),)), ContainerOverride("sidecar")))
    after = with_target(APPLIED, container_overrides=(
        ContainerOverride("app", command=("run",), environment=(("A", "x"), ("NEW_FLAG", "1"))),
        ContainerOverride("sidecar")))
    assert field_changes(before, after) == (FieldChange("containerOverrides[app].environment.NEW_FLAG", None, "1"),)


def test_items_are_matched_by_identity_not_position() -> None:
    app, side = ContainerOverride("app", command=("run",)), ContainerOverride("sidecar", command=("tail",))
    before = with_target(APPLIED, container_overrides=(app,),
                         capacity_provider_strategy=(CapacityProviderItem("FARGATE", 1, 1),
                                                     CapacityProviderItem("FARGATE_SPOT", 0, 1)))
    after = with_target(APPLIED, container_overrides=(side, replace(app, command=("run", "--full"))),
                        capacity_provider_strategy=(CapacityProviderItem("FARGATE", 1, 1),
                                                    CapacityProviderItem("FARGATE_SPOT", 0, 4)))
    assert field_changes(before, after) == (
        FieldChange("containerOverrides[app].command", ["run"], ["run", "--full"]),
        FieldChange("containerOverrides[sidecar]", None, {"command": ["tail"]}),
        FieldChange("capacityProviderStrategy[FARGATE_SPOT].weight", 1, 4),
    )


def test_defaults_are_values_and_reordering_is_reported() -> None:
    two = with_target(APPLIED, task_count=2)
    assert field_changes(two, APPLIED) == (FieldChange("taskCount", 2, 1),)
    assert field_changes(APPLIED, schedule(enabled=False)) == (FieldChange("disabled", False, True),)
    a, b = ContainerOverride("a"), ContainerOverride("b")
    assert field_changes(with_target(APPLIED, container_overrides=(a, b)),
                         with_target(APPLIED, container_overrides=(b, a))) == (
        FieldChange("containerOverrides", ["a", "b"], ["b", "a"]),)


def test_a_create_lists_its_keys_without_deepdiff() -> None:
    code = ("import sys; from ecsched.plan import make_plan; from tests.test_plan import schedule, live, APPLIED; "
            "make_plan([schedule('new')], {}); make_plan([APPLIED], {'job': live(APPLIED, APPLIED)}); "
            "print(sorted(m for m in sys.modules if m.startswith(('deepdiff', 'ecsched.config', 'boto'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"  # pure: no config code, no boto3, and deepdiff only for changed rules


# --- ownership, adoption and unfinished applies -----------------------------------------------------


def test_an_untagged_rule_on_the_files_cluster_is_adopted_without_asking() -> None:
    (ch,) = make_plan([APPLIED], {"job": live(APPLIED, None, tracking_id=None)}).changes
    assert (ch.action, ch.adopt, ch.fields) == ("update", True, ())
    other = with_target(APPLIED, cluster_arn=f"{ARN}:cluster/other")
    (ch,) = make_plan([APPLIED], {"job": live(other, None, tracking_id=None)}).changes
    assert ch.action == "conflict" and "--adopt would tag it" in ch.reason and "cluster/other" in ch.reason


def test_a_cluster_name_and_its_arn_are_one_owner() -> None:
    (ch,) = make_plan([APPLIED], {"job": live(APPLIED, APPLIED, tracking_id=f"{ARN}:cluster/api")}).changes
    assert ch.action == "noop"
    by_arn = replace(APPLIED, tracking_id=f"{ARN}:cluster/api")
    (ch,) = make_plan([by_arn], {"job": live(APPLIED, APPLIED)}).changes
    assert ch.action == "noop"


def test_what_an_interrupted_apply_left_is_unfinished_not_drift() -> None:
    marked = replace(live(schedule(enabled=False), APPLIED), applying=schedule(command="new").fingerprint())
    (ch,) = make_plan([schedule(command="new")], {"job": marked}).changes
    assert (ch.action, ch.origin, ch.drift) == ("update", "unfinished", False)
    untargeted = Live(name="job", schedule=None, tracking_id="api", unmanaged="it has no targets", enabled=False)
    (ch,) = make_plan([APPLIED], {"job": untargeted}).changes
    assert (ch.action, ch.origin) == ("update", "unfinished")
    # Everything written but the record: one TagResource, not a false drift later.
    (ch,) = make_plan([schedule(command="new")], {"job": live(schedule(command="new"), APPLIED)}).changes
    assert (ch.action, ch.origin, ch.fields) == ("update", "unfinished", ())


def test_prune_finishes_untargeted_rules_and_leaves_unmanaged_shapes_unless_named() -> None:
    half = Live(name="half", schedule=None, tracking_id="api", unmanaged="it has no targets")
    odd = Live(name="odd", schedule=None, tracking_id="api", unmanaged="it has 2 targets", target_ids=("a", "b"))
    foreign = Live(name="theirs", schedule=None, tracking_id="billing", unmanaged="x", target_ids=("a",))
    lives = {"half": half, "odd": odd, "theirs": foreign}
    plan = make_plan([APPLIED], lives, prune=True)
    assert [(c.name, c.action, c.unfinished) for c in plan.changes] == [
        ("job", "create", False), ("half", "delete", True), ("odd", "conflict", False)]
    named = make_plan([], lives, prune=True, owners={"api"}, prune_named=["odd"])
    assert [(c.name, c.action, c.remove_target_ids) for c in named.changes] == [("odd", "delete", ("a", "b"))]

"""Everything before RunTask: the task definition (essential containers, logs), the container that
--command/--env apply to, and the request itself. Nothing is started here."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ecsched import arns
from ecsched.errors import EcschedError
from ecsched.model import Schedule
from ecsched.run.request import Adjustments, build_request, target_container
from ecsched.run.retry import explain
from ecsched.run.taskdef import TaskDefinitionInfo, describe_task_definition

if TYPE_CHECKING:
    from ecsched.aws import Aws


def prepare(schedule: Schedule, aws: Aws, adj: Adjustments, *, task_definition: str | None = None,
            dry_run: bool = False, warn: Callable[[str], None] = lambda _: None,
            ) -> tuple[dict[str, Any], TaskDefinitionInfo | None]:
    """(the RunTask request, the task definition's info or None). `task_definition`: --task-definition,
    a family, family:revision or ARN. A dry run reads the task definition only when it must know the
    main container or check --container."""
    region = schedule.region
    if task_definition:
        adj.task_definition_arn = arns.task_definition_arn(task_definition, aws.account(), region)
    td_arn = adj.task_definition_arn or schedule.target.task_definition_arn
    td = None
    need_container = adj.touches_container and target_container(schedule.target, adj, None) is None
    if not dry_run or need_container or adj.container:
        try:
            td = describe_task_definition(aws.client("ecs", region), td_arn)
        except Exception as e:
            if need_container:
                raise EcschedError(f"cannot read task definition {td_arn} to find its main container "
                                   f"({explain(e)}); pass --container NAME") from e
            if not dry_run:
                warn(f"cannot read task definition {td_arn}: {explain(e)}")
    if td is not None and adj.container and adj.container not in td.names():
        raise EcschedError(f"--container {adj.container}: no such container in {td.arn or td_arn} "
                           f"(containers: {', '.join(td.names())})")
    request = build_request(schedule.target, rule=schedule.name, adj=adj,
                            container=target_container(schedule.target, adj, td))
    return request, td

"""What `run` needs from DescribeTaskDefinition: the essential containers and their awslogs settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LogConfig:
    group: str
    region: str | None
    prefix: str | None


@dataclass(frozen=True)
class ContainerInfo:
    name: str
    essential: bool
    log: LogConfig | None = None


@dataclass(frozen=True)
class TaskDefinitionInfo:
    arn: str
    containers: tuple[ContainerInfo, ...]

    @classmethod
    def from_response(cls, td: dict[str, Any]) -> TaskDefinitionInfo:
        out = []
        for c in td.get("containerDefinitions") or []:
            log = None
            lc = c.get("logConfiguration") or {}
            opts = lc.get("options") or {}
            if lc.get("logDriver") == "awslogs" and opts.get("awslogs-group"):
                log = LogConfig(group=str(opts["awslogs-group"]), region=opts.get("awslogs-region"),
                                prefix=opts.get("awslogs-stream-prefix"))
            # `essential` defaults to true in ECS.
            essential = c.get("essential", True) is not False
            out.append(ContainerInfo(name=str(c["name"]), essential=essential, log=log))
        return cls(arn=str(td.get("taskDefinitionArn", "")), containers=tuple(out))

    @property
    def essential(self) -> list[ContainerInfo]:
        return [c for c in self.containers if c.essential]

    def main_container(self) -> str | None:
        ess = self.essential
        return ess[0].name if ess else (self.containers[0].name if self.containers else None)

    def names(self) -> list[str]:
        return [c.name for c in self.containers]


def describe_task_definition(ecs: Any, arn: str) -> TaskDefinitionInfo:
    resp = ecs.describe_task_definition(taskDefinition=arn)
    return TaskDefinitionInfo.from_response(resp["taskDefinition"])

"""`dump` for sqsjkr: the rules that send jobs to a queue, in the file's spelling.

This is the first step of moving a Terraform-managed sqsjkr setup into the file: ListRuleNamesByTarget
finds every rule whose target is the queue (whoever made it), and each target is read back as a job.
Targets ecsched would not read as a job are reported with the reason, never dumped half-read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ecsched.sqsjkr.target import JobTarget, NotOurs, job_target_from_rule_target


@dataclass(frozen=True)
class FoundRule:
    rule: dict[str, Any]  # DescribeRule's answer (Name, ScheduleExpression, State, Description, Arn)
    target: JobTarget | NotOurs


def _pages(call: Callable[..., dict[str, Any]], key: str, **kwargs: Any) -> Iterator[Any]:
    while True:
        page = call(**kwargs)
        yield from page.get(key, [])
        token = page.get("NextToken")
        if not token:
            return
        kwargs["NextToken"] = token


def rules_for_queue(events: Any, queue_arn: str) -> list[FoundRule]:
    """Every rule with a target on the queue, each target read as a job or said why not. No `Limit` to
    ListTargetsByRule: moto's pager breaks when several targets share an ARN."""
    out: list[FoundRule] = []
    for name in sorted(set(_pages(events.list_rule_names_by_target, "RuleNames", TargetArn=queue_arn))):
        rule = events.describe_rule(Name=name)
        for t in _pages(events.list_targets_by_rule, "Targets", Rule=name):
            if t.get("Arn") == queue_arn:
                out.append(FoundRule(rule, job_target_from_rule_target(t)))
    return out

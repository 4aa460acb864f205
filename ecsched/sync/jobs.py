"""The engine's hooks for sqsjkr job rules (a rule whose target is an SQS queue: ecsched.sqsjkr).

- diff: per job rule, what is wrong with its queue (ecsched.sqsjkr.checks.queue_findings): it does not
  exist; on the rules backend, its policy does not let the rule send (an SQS target has no role, so every
  fire would fail quietly); FIFO, KMS and delay problems;
- `apply --fix-queue-policy`, once the rules are written: the one statement that lets each rule send,
  added to its queue's policy (checks.fix_queue_policies); nothing else in the policy changes.

ECS schedules cost no call here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecsched.model import Schedule
from ecsched.sqsjkr.target import JobTarget

if TYPE_CHECKING:
    from ecsched.aws import Aws
    from ecsched.sync.engine import Planned


def check_into(planned: Planned, aws: Aws, schedules: list[Schedule], *, fix: bool = False,
               skip: set[str] | None = None) -> None:
    """The run's queue notes (and, with `fix`, the policy fixes first) into `planned`. `skip`: rules whose
    write failed or was refused this run (no rule to let send). A failed read is a note, not an error:
    the plan itself is complete."""
    from ecsched.sqsjkr.checks import fix_queue_policies, queue_findings
    from ecsched.sync.read import describe

    jobs = [s for s in schedules if isinstance(s.target, JobTarget) and s.name not in (skip or set())]
    if not jobs:
        return
    try:
        if fix:
            planned.queue_fixed = fix_queue_policies(aws, jobs)
        planned.queue_notes = queue_findings(aws, jobs)
    except Exception as e:  # e.g. no sqs:GetQueueAttributes permission
        if fix:
            planned.queue_error = describe(e)
        planned.queue_notes = {s.name: [f"could not read its queue: {describe(e)}"] for s in jobs}

"""`ecsched run --rule JOB` for an sqsjkr job rule: the options mapped onto ecsched.run.job. Not a
subcommand of its own: commands/run.py hands job rules here."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from ecsched.context import Context
from ecsched.errors import EcschedError
from ecsched.model import Schedule

if TYPE_CHECKING:
    from ecsched.aws import Aws

ECS_ONLY = (("container", "--container"), ("count", "--count"), ("task_definition", "--task-definition"),
            ("no_logs", "--no-logs"), ("stop_on_timeout", "--stop-on-timeout"))


def settings(args: argparse.Namespace, cfg: Any) -> tuple[str | None, str | None]:
    """(lock table, log group): the flags, else the config's `sqsjkr:` mapping."""
    top = cfg.setting("sqsjkr") if cfg is not None else None
    top = top if isinstance(top, dict) else {}
    return (args.lock_table or top.get("lockTable") or None), (args.log_group or top.get("logGroup") or None)


def run_job_rule(args: argparse.Namespace, ctx: Context, cfg: Any, aws: Aws, schedule: Schedule,
                 overridden: bool) -> int:
    from ecsched.durations import parse_duration
    from ecsched.run.job import JobRunOptions, run_job
    from ecsched.run.runner import poll_interval
    from ecsched.sqsjkr.job import to_input

    t = schedule.job
    assert t is not None
    bad = [flag for dest, flag in ECS_ONLY if getattr(args, dest, None)]
    if overridden:
        bad.append("--command/--env")
    if bad:
        raise EcschedError(f"rule {schedule.name} sends an sqsjkr job: {', '.join(bad)} apply to ECS tasks only "
                           "(change the job in the file)")
    if args.dry_run:
        ctx.out(json.dumps({"QueueArn": t.queue_arn, "MessageBody": to_input(t.job),
                            **({"MessageGroupId": t.message_group_id} if t.message_group_id else {})}, indent=2))
        return 0
    lock_table, log_group = settings(args, cfg)
    opts = JobRunOptions(wait=args.wait, lock_table=lock_table,
                         log_group=log_group, poll=poll_interval(),
                         timeout=parse_duration(args.timeout, "--timeout", positive=True) if args.timeout else 3600.0,
                         settle=parse_duration(args.settle, "--settle"))
    json_out = args.format == "json"
    result = run_job(schedule, aws, opts, on_event=None if json_out else lambda e: ctx.info(f"ecsched: {e}"))
    if json_out:
        ctx.out(json.dumps(result.as_json(schedule.name), indent=2, ensure_ascii=False))
        return result.exit_code
    ctx.out(result.sent.message_id)
    o = result.outcome
    if o is not None:
        ctx.info(f"ecsched: {o.reason} (exit {o.exit_code})")
        if o.unknown:
            ctx.info(f"ecsched: {o.unknown}")
    return result.exit_code

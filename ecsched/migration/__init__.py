"""Moving rules to EventBridge Scheduler with no double run and no missed run (`ecsched migrate`).

Per rule, three steps. Each is detected from live state, so a rerun resumes wherever an interruption
left off:
  1. create the schedule DISABLED, with the full definition the file will give it after the move;
  2. at a quiet moment between two fire times: disable the rule, then enable the schedule;
  3. delete the rule (RemoveTargets, DeleteRule; only rules ecsched owns).
Then the config file gets `backend: scheduler` (per rule, or top-level once every rule in the file has
moved) by an edit that leaves every other byte of the file as it was.

Modules: `timing` (quiet moments, the clock), `items` (per-rule planning), `roles` (the IAM check),
`executor` (the steps), `rewrite` (the file), and `migrate` here, which runs them in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from ecsched.errors import EcschedError
from ecsched.migration.timing import Clock, Sink, SystemClock

if TYPE_CHECKING:
    from ecsched.aws import Aws
    from ecsched.config import Config

__all__ = ["Clock", "MigrateOptions", "Sink", "SystemClock", "migrate"]


@dataclass(frozen=True)
class MigrateOptions:
    rules: tuple[str, ...] = ()  # globs; empty: every rule in the file
    dry_run: bool = False
    max_wait: timedelta = timedelta(minutes=10)  # longest wait for a quiet moment


def migrate(cfg: Config, aws: Aws, sink: Sink, options: MigrateOptions, clock: Clock) -> int:
    """Move the chosen rules of `cfg`, then edit its files; the exit code (1 when any rule failed)."""
    from ecsched.errors import describe_aws_exception
    from ecsched.migration.executor import Executor
    from ecsched.migration.items import collect
    from ecsched.migration.rewrite import rewrite
    from ecsched.migration.roles import RoleCheck

    items = collect(cfg, aws.account(), aws.region, list(options.rules) or None)
    executor = Executor(sink, aws, items, options.max_wait, clock)
    executor.read()
    roles = RoleCheck(lambda: aws.client("iam"), sink.warn)
    failed = 0
    try:
        for it in items:
            problem = it.error
            if not problem and any(s in ("create", "switch", "enable") for s in it.steps):
                problem = roles.problem(it.schedule.target.role_arn)
            if problem:
                failed += 1
                sink.error(f"{it.name}: {problem}")
                continue
            head = f"{it.name}: rule -> schedule {it.where}"
            if not it.steps:
                sink.out(f"{head}: already moved")
                continue
            sink.out(head)
            if options.dry_run:
                for line in executor.describe(it):
                    sink.out(f"  {line}")
                continue
            try:
                executor.run(it)
            except EcschedError as e:
                failed += 1
                sink.error(str(e))
            except Exception as e:
                failed += 1
                sink.error(f"{it.name}: {describe_aws_exception(e) or e}; rerun to resume")
    finally:
        # The file follows every rule the schedule now runs, even after a failure or Ctrl-C.
        per_file: dict[str, dict[int, str]] = {}
        for it in items:
            ready = it.moved or (options.dry_run and not it.error)
            if ready and it.file_backend != "scheduler":
                per_file.setdefault(it.path, {})[it.index] = it.name
        for path, moved in per_file.items():
            rewrite(sink, path, moved, dry_run=options.dry_run)
    done = sum(1 for it in items if it.moved or (options.dry_run and it.steps and not it.error))
    sink.info(f"{'Would move' if options.dry_run else 'Moved'} {done} of {len(items)} rule"
             f"{'s' if len(items) != 1 else ''} to EventBridge Scheduler" + (f"; {failed} failed" if failed else "")
             + ".")
    return 1 if failed else 0

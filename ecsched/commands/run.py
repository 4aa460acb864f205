"""`ecsched run --rule NAME`: run a rule's task now, exactly as EventBridge would, and follow it to the end.

Exit codes follow `docker run`: the essential container's exit code; 125 when ecsched could not start the
task (unknown rule, bad option, RunTask error or failures), the task failed to start, or ecsched lost
track of it (--lost-timeout); 124 on --timeout; 130/143 after Ctrl-C/SIGTERM (the task is stopped first).
This module parses and maps the options; the engine is ecsched.run.
"""

from __future__ import annotations

import argparse
import difflib
import json
import shlex
from typing import TYPE_CHECKING

from ecsched.context import Context, assignments
from ecsched.errors import EcschedError

if TYPE_CHECKING:
    from ecsched.run.output import TermOutput

HELP = "run a rule's task (or send its sqsjkr job) now, exactly as scheduled, and follow it to the end"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rule", "-rule", metavar="NAME",
                   help="the rule to run (it may be disabled, or not applied yet)")
    # dest: `command` is the subcommand's name in the parsed arguments.
    p.add_argument("--command", dest="task_command", metavar="CMD",
                   help="the main container's command, split like a shell would (or give it after --)")
    p.add_argument("--env", action="append", metavar="K=V",
                   help="environment variable for the main container (repeatable; bare K reads $K)")
    p.add_argument("--container", metavar="NAME",
                   help="the container --command/--env apply to (default: the first container override, "
                        "else the task definition's first essential container)")
    p.add_argument("--count", type=int, metavar="N", help="number of tasks, 1-10 (default: the rule's)")
    p.add_argument("--task-definition", metavar="FAMILY[:REV]", help="run this task definition instead")
    p.add_argument("--dry-run", "-dry-run", action="store_true",
                   help="print the RunTask request as JSON and exit (no task is started)")
    p.add_argument("--no-wait", action="store_true", help="print the task ARN(s) and return at once")
    p.add_argument("--no-logs", action="store_true", help="do not stream the containers' CloudWatch Logs")
    p.add_argument("--timeout", metavar="DURATION",
                   help="stop waiting after e.g. 30m and exit 124 (the task keeps running)")
    p.add_argument("--stop-on-timeout", action="store_true", help="with --timeout: stop the task too")
    p.add_argument("--lost-timeout", metavar="DURATION", default="10m",
                   help="how long DescribeTasks may keep failing before ecsched gives up following the "
                        "task and exits 125, naming it (default: 10m)")
    p.add_argument("--format", choices=["text", "json"], default="text",
                   help="json: one result object on stdout (logs go to stderr)")
    job = p.add_argument_group("sqsjkr job rules (docs/sqsjkr.md)")
    job.add_argument("--wait", action="store_true",
                     help="follow the job through sqsjkr's lock item and the worker's log; exit with its status "
                          "(124 on --timeout, 125 when it ended but its status cannot be known)")
    job.add_argument("--lock-table", metavar="T", help="sqsjkr's lock table (default: the config's sqsjkr.lockTable)")
    job.add_argument("--log-group", metavar="G",
                     help="the workers' log group (default: the config's sqsjkr.logGroup)")
    job.add_argument("--settle", metavar="DURATION", default="15s",
                     help="after the lock's release, how long a failure line may take to arrive (default 15s)")
    p.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- CMD ARGS",
                   help="the main container's command, as separate arguments")


def _command(args: argparse.Namespace) -> list[str] | None:
    rest = list(args.argv or [])
    if rest and rest[0] == "--":
        rest = rest[1:]
    elif rest:
        raise EcschedError(f"unexpected argument `{rest[0]}`: give the container command after `--`")
    if rest and args.task_command is not None:
        raise EcschedError("give the command either with --command or after `--`, not both")
    if args.task_command is not None:
        try:
            return shlex.split(args.task_command)
        except ValueError as e:
            raise EcschedError(f"--command: {e}") from None
    return rest or None


def _unknown_rule(name: str | None, names: list[str]) -> EcschedError:
    if name is None:
        msg = "which rule? pass --rule NAME"
    else:
        msg = f"no rule `{name}` in the config"
        near = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        if near:
            return EcschedError(msg + "; did you mean " + " or ".join(f"`{n}`" for n in near) + "?")
    if names:
        shown = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
        msg += f" (rules: {shown})"
    else:
        msg += " (the config has no rules)"
    return EcschedError(msg)


def _output(args: argparse.Namespace, ctx: Context) -> TermOutput:
    from ecsched.run.output import TermOutput

    json_out = args.format == "json"
    # --format json draws no live line: it never imports rich.
    return TermOutput(ctx.stdout, ctx.err_term, logs_to_stderr=json_out, live=not json_out)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ecsched.durations import parse_duration
    from ecsched.errors import describe_aws_exception
    from ecsched.run.codes import NotStarted
    from ecsched.run.prepare import prepare
    from ecsched.run.request import Adjustments
    from ecsched.run.runner import Runner, RunOptions, poll_interval
    from ecsched.run.text import request_json, summary_lines

    json_out = args.format == "json"
    out = _output(args, ctx)
    try:
        command = _command(args)
        env = assignments(args.env, "--env")
        if args.count is not None and not 1 <= args.count <= 10:
            raise EcschedError(f"--count {args.count}: RunTask starts 1 to 10 tasks")
        if args.stop_on_timeout and not args.timeout:
            raise EcschedError("--stop-on-timeout needs --timeout")
        opts = RunOptions(wait=not args.no_wait, logs=not args.no_logs,
                          timeout=parse_duration(args.timeout, "--timeout", positive=True) if args.timeout else None,
                          stop_on_timeout=args.stop_on_timeout, poll=poll_interval(),
                          lost_timeout=parse_duration(args.lost_timeout, "--lost-timeout", positive=True))
        cfg = ctx.config()
        names = cfg.rule_names()
        if args.rule not in names:
            raise _unknown_rule(args.rule, names)
        aws = ctx.aws(cfg.region)
        schedule = next(s for s in cfg.schedules(aws.account(), aws.region) if s.name == args.rule)
        if schedule.job is not None:
            from ecsched.commands._run_job import run_job_rule

            return run_job_rule(args, ctx, cfg, aws, schedule, command is not None or bool(env))
        adj = Adjustments(command=command, env=env, container=args.container, count=args.count)
        request, td = prepare(schedule, aws, adj, task_definition=args.task_definition, dry_run=args.dry_run,
                              warn=out.warn)
    except EcschedError as e:
        _not_started_json(ctx, args, json_out, str(e))
        raise NotStarted(str(e)) from e
    except Exception as e:
        message = describe_aws_exception(e)
        if message is None:
            raise
        _not_started_json(ctx, args, json_out, message)
        raise NotStarted(message) from e

    if args.dry_run:
        ctx.out(request_json(request))
        return 0

    try:
        result = Runner(aws, schedule.region, opts, out).run(args.rule, request, td)
    except NotStarted as e:
        _not_started_json(ctx, args, json_out, str(e))
        raise
    if json_out:
        ctx.out(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    elif not result.waited:
        for arn in result.task_arns:
            ctx.out(arn)
    else:
        for line in summary_lines(result):
            ctx.info(f"ecsched: {line}")
    return result.exit_code


def _not_started_json(ctx: Context, args: argparse.Namespace, json_out: bool, message: str) -> None:
    if json_out and not args.dry_run:
        ctx.out(json.dumps({"rule": args.rule, "exitCode": 125, "error": message, "taskArns": []}, indent=2))

"""The words of `run`: the live status line and the end-of-run summary (stderr), the dry run's JSON."""

from __future__ import annotations

import json
from typing import Any

from ecsched.arns import task_id
from ecsched.durations import format_duration
from ecsched.run.result import RunResult


def status_text(result: RunResult, elapsed: float, *, stopping: bool = False,
                unreachable: float | None = None) -> str:
    """`rule: 0123456789ab RUNNING  1m5s`; several tasks are counted by status."""
    statuses = [str(result.status(a) or "?") for a in result.task_arns]
    if len(statuses) == 1:
        what = f"{task_id(result.task_arns[0])[:12]} {statuses[0]}"
    else:
        counts: dict[str, int] = {}
        for s in statuses:
            counts[s] = counts.get(s, 0) + 1
        what = f"{len(statuses)} tasks: " + ", ".join(f"{n} {s}" for s, n in counts.items())
    extra = " (stopping)" if stopping else ""
    if unreachable is not None:
        extra += f" (no answer from ECS for {format_duration(int(unreachable))})"
    return f"{result.rule}: {what}{extra}  {format_duration(int(elapsed))}"


def summary_lines(result: RunResult) -> list[str]:
    """The human end-of-run report: per task, status, stop code and reason, exit codes; then what ecsched
    did about --timeout, a signal, or losing track of the task."""
    lines = []
    for arn in result.task_arns:
        t = result.task_json(arn)
        head = f"task {task_id(arn)}: {t['lastStatus']}"
        if t["duration"] is not None:
            head += f" after {format_duration(t['duration'])}"
        lines.append(head)
        if t["stopCode"] or t["stoppedReason"]:
            lines.append(f"  stopCode: {t['stopCode'] or '-'}; stoppedReason: {t['stoppedReason'] or '-'}")
        for c in t["containers"] if t["lastStatus"] == "STOPPED" else []:
            code = "no exit code" if c["exitCode"] is None else f"exit code {c['exitCode']}"
            reason = f" ({c['reason']})" if c.get("reason") else ""
            ess = "" if c["essential"] else " (not essential)"
            lines.append(f"  {c['name']}{ess}: {code}{reason}")
    if result.timed_out:
        after = f" after {format_duration(result.timeout)}" if result.timeout else ""
        keeps = "the task keeps running (--stop-on-timeout would stop it)"
        lines.append(f"timed out{after}; " + (_stop_outcome(result) if _stop_tried(result) else keeps))
    if result.signal_name:
        lines.append(f"interrupted by {result.signal_name}; {_stop_outcome(result)}")
    if result.lost:
        lines.append(f"lost track of the task: {result.lost}")
        for arn in result.task_arns:
            if result.status(arn) != "STOPPED":
                lines.append(f"  {arn} was {result.status(arn) or 'starting'} when last seen and is probably "
                             f"still running: aws ecs describe-tasks --cluster {result.request.get('cluster')} "
                             f"--tasks {arn}")
    return lines


def _stop_tried(result: RunResult) -> bool:
    return result.stop_requested or bool(result.stop_errors)


def _stop_outcome(result: RunResult) -> str:
    running = [a for a in result.task_arns if result.status(a) != "STOPPED"]
    if not running:
        return "the task was stopped" if len(result.task_arns) == 1 else "the tasks were stopped"
    failed = [a for a in running if a in result.stop_errors]
    if failed:
        why = result.stop_errors[failed[0]]
        return f"StopTask failed ({why}): the task keeps running"
    if result.gave_up_stopping:
        return "stop requested; not waiting for the task to stop"
    if result.stop_waited is not None:
        return (f"stop requested, but the task had not stopped after {format_duration(result.stop_waited)}: "
                "it may still be running")
    return "stop requested"


def request_json(request: dict[str, Any]) -> str:
    return json.dumps(request, indent=2, ensure_ascii=False)

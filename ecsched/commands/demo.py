"""`ecsched demo`: the tour, in one process, against an embedded emulator. No AWS account needed."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from ecsched.context import Context

if TYPE_CHECKING:
    from ecsched.emulator import Emulator

HELP = "a guided tour of every command (and an sqsjkr job) against an embedded AWS emulator"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pause", metavar="RULE", help="the rule to pause in step 5 (default: the first)")
    p.add_argument("--run", metavar="RULE", help="the rule to run in step 8 (default: the paused one)")


@dataclass(frozen=True)
class Step:
    title: str
    argv: list[str]  # after `ecsched -c FILE`
    exit_code: int  # what the step must exit with


def tour(pause: str, target: str) -> list[Step]:
    """The steps, in order. A new view joins the tour here (e.g. `status` after the run)."""
    return [
        Step("validate the file, offline", ["validate"], 0),
        Step("diff: what apply would change (exit 2: there are changes)", ["diff", "--exit-code"], 2),
        Step("apply: create the rules", ["apply"], 0),
        Step("diff again: nothing left to change (exit 0; --verbose lists the unchanged rules)",
             ["diff", "--exit-code", "--verbose"], 0),
        Step(f"pause {pause} in a pull request: edits one line of the file", ["disable", pause, "--reason", "demo"], 0),
        Step("diff: the pause, as a reviewer sees it", ["diff", "--exit-code"], 2),
        Step("apply: one DisableRule call (and the fingerprint tag that tells drift apart)", ["apply"], 0),
        Step(f"run {target} now, exactly as scheduled, and wait for it", ["run", "--rule", target], 0),
        Step("status: next fires, the run just made, and flags (the emulator's rules never fire, so their "
             "past ticks show as missed)", ["status"], 0),
        Step("timeline: every fire over the next day, and where batches pile up", ["timeline", "--days", "1"], 0),
    ]


JOB_RULE = "orders-export"
JOB_QUEUE = "sqsjkr-jobs"


def job_config(region: str, cluster: str) -> str:
    """A second file for the sqsjkr part of the tour: one job rule, under its own trackingId."""
    return (f"region: {region}\ncluster: {cluster}\ntrackingId: ecsched-demo-jobs\nrules:\n"
            f"  - name: {JOB_RULE}\n    description: export the orders (an sqsjkr job)\n"
            f"    scheduleExpression: cron(0 * * * ? *)\n    queue: {JOB_QUEUE}\n    job:\n"
            "      command: php artisan export:orders\n      lock_id: export-orders\n      life_time: 10m\n"
            "      abort_if_locked: true\n")


def job_tour() -> list[Step]:
    return [
        Step(f"an sqsjkr job rule (jobs.yaml): {JOB_RULE} sends a job to the queue {JOB_QUEUE}",
             ["diff", "--exit-code"], 2),
        Step("apply: create the job rule (disabled, target, enabled, as for a task)", ["apply"], 0),
        Step(f"pause {JOB_RULE} in a pull request", ["disable", JOB_RULE, "--reason", "demo"], 0),
        Step("apply: one DisableRule call", ["apply"], 0),
        Step(f"run {JOB_RULE} now: the job is sent to the queue with its own event_id", ["run", "--rule", JOB_RULE],
             0),
    ]


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ecsched.arns import Account
    from ecsched.config import load
    from ecsched.emulator import ACCOUNT, Emulator

    source = getattr(args, "config", None)
    if source and len(source) != 1:
        ctx.error("demo takes one config file")
        return 1
    src = source[0] if source else str(resources.files("ecsched").joinpath("data/example.yaml"))
    workdir = tempfile.mkdtemp(prefix="ecsched-demo-")
    try:
        config = os.path.join(workdir, os.path.basename(src))
        shutil.copyfile(src, config)
        cfg = load([config])
        region = cfg.region or "us-east-1"
        emu = Emulator(region=region)
        emu.start()
        emu.activate()
        os.environ.setdefault("ECSCHED_POLL_INTERVAL", "0.2")  # moto tasks stop after a few polls
        try:
            ctx.out(f"Embedded AWS emulator on {emu.url} (account {ACCOUNT}, region {region}).")
            for line in emu.seed(cfg.schedules(Account(ACCOUNT), region)):
                ctx.out(f"  seeded {line}")
            names = cfg.rule_names()
            pause = args.pause or names[0]
            failed = _walk(ctx, config, tour(pause, args.run or pause))
            failed += _jobs(ctx, emu, workdir, region, str(cfg.setting("cluster") or "default"))
        finally:
            emu.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    ctx.out("\n" + ("Demo complete: every step behaved as expected." if not failed
                    else f"Demo finished with {failed} unexpected step(s)."))
    return 1 if failed else 0


def _jobs(ctx: Context, emu: Emulator, workdir: str, region: str, cluster: str) -> int:
    """The sqsjkr part: a job rule created, paused and run, and the message seen arriving in the queue
    (peeked, so a worker would still get it). The number of steps that did not behave."""
    from ecsched.arns import Account
    from ecsched.config import load
    from ecsched.emulator import ACCOUNT
    from ecsched.sqsjkr.sandbox import peek

    config = os.path.join(workdir, "jobs.yaml")
    with open(config, "w", encoding="utf-8") as f:
        f.write(job_config(region, cluster))
    for line in emu.seed(load([config]).schedules(Account(ACCOUNT), region)):
        ctx.out(f"  seeded {line}")
    failed = _walk(ctx, config, job_tour(), first=len(tour("", "")) + 1)
    sqs = emu.client("sqs", region)
    messages = peek(sqs, sqs.get_queue_url(QueueName=JOB_QUEUE)["QueueUrl"])
    ctx.out("\n" + ctx.term.paint(f"== {len(tour('', '')) + len(job_tour()) + 1}. the job arrived in the queue "
                                  f"{JOB_QUEUE} (peeked: a worker still gets it)", "heading"))
    sent = [m for m in messages if f'"{JOB_RULE}:manual:' in m["Body"]]
    for m in sent:
        ctx.out(f"  message {m['MessageId']}: {m['Body']}")
    if not sent:
        ctx.error(f"no message from {JOB_RULE} in {JOB_QUEUE}")
        failed += 1
    return failed


def _walk(ctx: Context, config: str, steps: list[Step], first: int = 1) -> int:
    """Run each step as a user would type it; the number of steps that exited otherwise than expected."""
    from ecsched.cli import main

    color = [] if ctx.color else ["--no-color"]
    failed = 0
    for i, step in enumerate(steps, first):
        ctx.out("\n" + ctx.term.paint(f"== {i}. {step.title}", "heading"))
        ctx.out(f"$ ecsched -c {os.path.basename(config)} {' '.join(step.argv)}")
        ctx.stdout.flush()
        try:
            code = main(["-c", config, *color, *step.argv])
        except SystemExit as e:  # argparse refusing the step's arguments
            code = int(e.code or 0)
        if code != step.exit_code:
            failed += 1
            ctx.error(f"step {i} exited {code}, expected {step.exit_code}")
    return failed

"""`ecsched demo`: the tour, in one process, against an embedded emulator. No AWS account needed."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources

from ecsched.context import Context

HELP = "a guided tour (validate, diff, apply, pause, run, status, timeline) against an embedded AWS emulator"


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
        finally:
            emu.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    ctx.out("\n" + ("Demo complete: every step behaved as expected." if not failed
                    else f"Demo finished with {failed} unexpected step(s)."))
    return 1 if failed else 0


def _walk(ctx: Context, config: str, steps: list[Step]) -> int:
    """Run each step as a user would type it; the number of steps that exited otherwise than expected."""
    from ecsched.cli import main

    color = [] if ctx.color else ["--no-color"]
    failed = 0
    for i, step in enumerate(steps, 1):
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

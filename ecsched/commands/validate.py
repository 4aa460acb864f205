"""`ecsched validate`: check the config fully offline. No AWS call; boto3 is never imported.

Problems go to stdout, one line each (`FILE:LINE:COL: rule NAME: message`), as linters print them;
warnings and the summary go to stderr.
"""

from __future__ import annotations

import argparse

from ecsched.context import Context
from ecsched.errors import ConfigError

HELP = "check the config offline (no AWS calls): every problem, one line each"


def add_arguments(p: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace, ctx: Context) -> int:
    try:
        cfg = ctx.config()
    except ConfigError as e:
        for w in e.warnings:
            ctx.warn(str(w))
        for problem in e.problems:
            ctx.out(str(problem))
        n = len(e.problems)
        ctx.info(f"{n} problem{'s' if n != 1 else ''} found")
        return 1
    n = len(cfg.rule_names())
    ctx.info(f"ok: {n} rule{'s' if n != 1 else ''} in {', '.join(f.path for f in cfg.files)}")
    return 0

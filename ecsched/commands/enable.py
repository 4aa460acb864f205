"""`ecsched enable NAME...`: resume paused batches by removing their `disabled:` line from the config file.
`--now` also enables the live rules at once, owned rules only. See ecsched.commands.disable."""

from __future__ import annotations

import argparse

from ecsched.commands.disable import add_toggle_arguments, toggle
from ecsched.context import Context

HELP = "resume rules: remove `disabled: true` from the config file (nothing else changes); --now also in AWS"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_toggle_arguments(p, pausing=False)


def run(args: argparse.Namespace, ctx: Context) -> int:
    return toggle(args, ctx, pausing=False)

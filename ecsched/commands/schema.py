"""`ecsched schema`: print the JSON Schema of the config file (draft 2020-12), for editors.

It is the schema `ecsched validate` enforces, shipped once inside the package; its `$id` is stable.
Save it where your editor finds it: `ecsched schema > .ecsched.schema.json`.
"""

from __future__ import annotations

import argparse

from ecsched.context import Context

HELP = "print the config's JSON Schema (for editors; the one validate enforces)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ecsched.config.schema import SCHEMA_FILE

    with open(SCHEMA_FILE, encoding="utf-8") as f:
        ctx.out(f.read().rstrip("\n"))
    return 0

"""Options shared by several commands, in ecsched's and ecschedule's spellings."""

from __future__ import annotations

import argparse
import os

from ecsched.aws import DEFAULT_PARALLEL


def _env_int(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name) or default))
    except ValueError:
        return default


def add_selection(p: argparse.ArgumentParser) -> None:
    p.add_argument("--all", "-all", action="store_true", help="every rule in the file (the default)")
    p.add_argument("--rule", "-rule", action="append", metavar="NAME",
                   help="only this rule (repeatable; globs such as 'report-*')")
    p.add_argument("--changed-since", metavar="REF",
                   help="only rules whose definition differs from git REF (e.g. origin/main), plus rules "
                        "deleted since (pruned only with --prune); a nightly full diff still catches drift")
    p.add_argument("--prune", "-prune", action="store_true",
                   help="also delete rules that ecsched owns and the file no longer has")
    p.add_argument("--adopt", action="store_true",
                   help="take ownership of existing single-ECS-target rules of the same name")
    add_pacing(p)


def add_pacing(p: argparse.ArgumentParser) -> None:
    p.add_argument("--parallel", type=int, default=_env_int("ECSCHED_PARALLEL", DEFAULT_PARALLEL), metavar="N",
                   help=f"concurrent AWS calls (default {DEFAULT_PARALLEL}, or $ECSCHED_PARALLEL)")
    p.add_argument("--quota", metavar="N",
                   help="AWS requests per second per API action to stay under (default 50, EventBridge's "
                        "default quota, or $ECSCHED_QUOTA; 0: no client-side pacing)")

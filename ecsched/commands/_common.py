"""Options shared by several commands, in ecsched's and ecschedule's spellings."""

from __future__ import annotations

import argparse


def add_selection(p: argparse.ArgumentParser) -> None:
    p.add_argument("--all", "-all", action="store_true", help="every rule in the file (the default)")
    p.add_argument("--rule", "-rule", action="append", metavar="NAME",
                   help="only this rule (repeatable; globs such as 'report-*')")
    p.add_argument("--prune", "-prune", action="store_true",
                   help="also delete rules that ecsched owns and the file no longer has")
    p.add_argument("--adopt", action="store_true",
                   help="take ownership of existing single-ECS-target rules of the same name")
    p.add_argument("--parallel", type=int, default=8, metavar="N", help="concurrent AWS reads/writes (default 8)")

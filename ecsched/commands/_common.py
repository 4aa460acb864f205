"""Options shared by several commands, in ecsched's and ecschedule's spellings."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from ecsched.aws import DEFAULT_PARALLEL

if TYPE_CHECKING:
    from ecsched.sync.lease import LeaseOptions
    from ecsched.sync.options import SyncOptions


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


def sync_options(args: argparse.Namespace) -> SyncOptions:
    """The engine's options from the selection and pacing flags."""
    from ecsched.sync.options import SyncOptions

    return SyncOptions(rules=tuple(args.rule or ()), prune=bool(args.prune), adopt=bool(args.adopt),
                       changed_since=args.changed_since, parallel=max(1, int(args.parallel or DEFAULT_PARALLEL)),
                       quota=args.quota)



def add_lease(p: argparse.ArgumentParser) -> None:
    """The apply lease (the config's lockTable): for apply, migrate, disable/enable --now."""
    p.add_argument("--lock-timeout", type=float, default=0.0, metavar="SECONDS",
                   help="wait this long for another apply of the same trackingId and region to finish "
                        "(default 0: exit 75 at once, naming it)")
    p.add_argument("--no-lock", action="store_true",
                   help="do not take the lease in the config's lockTable (emergencies only)")


def lease_options(args: argparse.Namespace) -> LeaseOptions:
    from ecsched.sync.lease import LeaseOptions

    return LeaseOptions(enabled=not args.no_lock, wait=max(0.0, float(args.lock_timeout or 0.0)))

"""`ecsched disable NAME...`: pause batches by editing the config file (one `disabled:` line per rule),
for a pull request. `--now` also disables the live rules at once (emergency), owned rules only.
`ecsched enable` shares this module."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ecsched.context import Context
from ecsched.errors import EcschedError

if TYPE_CHECKING:
    from ecsched.backends import Backend
    from ecsched.edit import FileEdit
    from ecsched.model import Live, Schedule

HELP = "pause rules: add `disabled: true` to the config file (nothing else changes); --now also in AWS"

_GREEN, _RED, _RESET = "\033[32m", "\033[31m", "\033[0m"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_toggle_arguments(p, pausing=True)


def add_toggle_arguments(p: argparse.ArgumentParser, *, pausing: bool) -> None:
    verb = "disable" if pausing else "enable"
    p.add_argument("names", nargs="+", metavar="NAME", help="rule name (repeatable; globs such as 'report-*')")
    if pausing:
        p.add_argument("--reason", metavar="TEXT",
                       help="kept as a comment on the line: `disabled: true  # paused DATE: TEXT`")
    p.add_argument("--now", action="store_true",
                   help=f"also {verb} the live rules at once (owned rules only), so file and AWS agree on merge")
    p.add_argument("--dry-run", action="store_true", help="show the edit; write nothing, call nothing")


def run(args: argparse.Namespace, ctx: Context) -> int:
    return toggle(args, ctx, pausing=True)


def toggle(args: argparse.Namespace, ctx: Context, *, pausing: bool) -> int:
    from ecsched import edit
    from ecsched.config import expand_paths

    paths = expand_paths(ctx.config_paths)
    try:
        edits = edit.set_disabled(paths, list(args.names), pausing, reason=getattr(args, "reason", None),
                                  resolve=_resolver(ctx, paths))
        named = [n for fe in edits for n in [*(e.name for e in fe.edits), *fe.unchanged]]
    except edit.NotRewritten as e:
        if not args.now:  # a generated Jsonnet rule: the message says how to pause it in the source
            raise
        ctx.warn(str(e))  # --now still flips it live; the file is left for the author
        edits, named = [], list(e.names)
    flips: list[tuple[Backend, Schedule, Live]] = []
    if args.now:
        flips = _live_targets(ctx, named, pausing)  # refusals surface here, before anything is written
    word = "paused" if pausing else "resumed"
    for fe in edits:
        if fe.changed and not args.dry_run:
            fe.write()
        _report(ctx, fe, word, args.dry_run)
    changed = sum(len(fe.edits) for fe in edits)
    if args.dry_run:
        ctx.info(f"dry run: {changed} rule{'s' if changed != 1 else ''} would be {word} in the file; nothing written")
    elif changed:
        ctx.info(f"{word.capitalize()} {changed} rule{'s' if changed != 1 else ''} in the file. Commit it and open "
                 "a pull request; `ecsched apply` from main then " + ("disables" if pausing else "enables")
                 + " " + ("them" if changed != 1 else "it") + " in AWS"
                 + ("." if args.now else " (or rerun with --now to do it at once)."))
    if args.now:
        return _flip(ctx, flips, pausing, args.dry_run)
    return 0


def _resolver(ctx: Context, paths: list[str]) -> Any:
    """Rule names as loaded, for files whose names are template calls, or Jsonnet. Not validated: a pause
    must not be blocked by an unrelated problem elsewhere in the file."""
    cache: dict[str, list[str]] = {}

    def resolve(path: str) -> list[str]:
        if not cache:
            cfg = ctx.load_config(paths, validate=False)
            for f in cfg.files:
                cache[f.path] = [str(r.get("name", "")) if isinstance(r, dict) else ""
                                 for r in f.data.get("rules") or []]
        return cache.get(path, [])

    return resolve


def _report(ctx: Context, fe: FileEdit, word: str, dry_run: bool) -> None:
    for e in fe.edits:
        if e.after is not None and e.before is not None:
            lines = [("-", e.before), ("+", e.after)]
        elif e.after is not None:
            lines = [("+", e.after)]
        else:
            lines = [("-", e.before or "")]
        for sign, text in lines:
            line = f"{fe.path}:{e.line}: {e.name}: {sign} {text}"
            if ctx.color:
                line = f"{_GREEN if sign == '+' else _RED}{line}{_RESET}"
            ctx.out(line)
    for name in fe.unchanged:
        ctx.info(f"{fe.path}: {name}: already {word} in the file (unchanged)")


def _live_targets(ctx: Context, names: list[str], pausing: bool) -> list[tuple[Backend, Schedule, Live]]:
    """The live rules to flip: every named rule that exists live must be ours."""
    from collections import defaultdict

    from ecsched.backends import get_backend
    from ecsched.ownership import owns

    cfg = ctx.config()
    aws = ctx.aws(cfg.region)
    wanted = set(names)
    schedules = [s for s in cfg.schedules(aws.account(), aws.region) if s.name in wanted]
    groups: dict[tuple[str, str], list[Schedule]] = defaultdict(list)
    for s in schedules:
        groups[(s.backend, s.region)].append(s)
    out: list[tuple[Backend, Schedule, Live]] = []
    refused: list[str] = []
    for (backend_name, region), group in sorted(groups.items()):
        backend = get_backend(backend_name, aws, region)
        live = backend.read({s.name for s in group}, {s.target.cluster_arn for s in group}, prune=False)
        for s in group:
            lv = live.get(s.name)
            if lv is None:
                continue
            if not owns(s, lv):
                owner = f"trackingId `{lv.tracking_id}`" if lv.tracking_id else "no ecschedule:tracking-id tag"
                refused.append(f"rule {s.name}: the live rule is not ecsched's ({owner}, not `{s.tracking_id}`); "
                               "--now changes only rules ecsched owns")
                continue
            out.append((backend, s, lv))
    if refused:
        raise EcschedError("\n".join(refused) + "\nNothing was written and nothing changed in AWS.")
    missing = wanted - {s.name for _, s, _ in out}
    for name in sorted(missing):
        ctx.warn(f"rule {name}: not in AWS yet; `ecsched apply` creates it "
                 + ("paused" if pausing else "running"))
    return out


def _flip(ctx: Context, flips: list[tuple[Backend, Schedule, Live]], pausing: bool, dry_run: bool) -> int:
    call = "DisableRule" if pausing else "EnableRule"
    failed = 0
    for backend, s, lv in flips:
        if lv.schedule is not None and lv.schedule.enabled != pausing:
            ctx.info(f"{s.name}: already {'disabled' if pausing else 'enabled'} in AWS")
            continue
        if dry_run:
            ctx.info(f"{s.name}: would call {call} now")
            continue
        try:
            backend.set_state(s.name, not pausing, fingerprint=lv.fingerprint_after(not pausing))
        except Exception as e:
            from ecsched.errors import describe_aws_exception

            failed += 1
            ctx.error(f"rule {s.name}: {call} failed: {describe_aws_exception(e) or e} (the file is edited; "
                      "rerun with --now, or let `ecsched apply` do it)")
            continue
        ctx.info(f"{s.name}: {'disabled' if pausing else 'enabled'} in AWS now ({call})")
    return 1 if failed else 0


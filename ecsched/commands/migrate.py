"""`ecsched migrate --to scheduler`: move rules to EventBridge Scheduler with no double and no missed run.

Per rule, three steps. Each is detected from live state, so a rerun resumes wherever an interruption
left off:
  1. create the schedule DISABLED, with the full definition the file will give it after the move;
  2. at a quiet moment between two fire times: disable the rule, then enable the schedule;
  3. delete the rule (RemoveTargets, DeleteRule; only rules ecsched owns).
Then the config file gets `backend: scheduler` (per rule, or top-level once every rule in the file has
moved) by a line edit that leaves every other byte of the file as it was.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ecsched import expressions
from ecsched.context import Context
from ecsched.edit import FileEdit
from ecsched.errors import ConfigError, EcschedError
from ecsched.model import Schedule
from ecsched.plan import Change, Live

if TYPE_CHECKING:
    from ecsched.config.loader import ConfigFile

HELP = "move rules to EventBridge Scheduler: no double run, no missed run; resumable; edits the file"

# A rule fires within a minute of its time, so switch only this long after a fire time...
AFTER_FIRE = timedelta(seconds=90)
# ...and with this much to spare before the next one (two API calls take well under a second).
BEFORE_FIRE = timedelta(seconds=30)


class Clock:
    """Wall time and waiting, in one place so that tests can drive them."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


CLOCK = Clock()


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--to", required=True, choices=["scheduler"], help="the backend to move to")
    p.add_argument("--rule", "-rule", action="append", metavar="NAME",
                   help="only this rule (repeatable; globs); default: every rule in the file")
    p.add_argument("--dry-run", "-dry-run", action="store_true", help="show the steps and the file edit only")
    p.add_argument("--max-wait", type=int, default=600, metavar="SECONDS",
                   help="longest wait for a quiet moment between two runs (default 600)")


# --- the quiet moment ----------------------------------------------------------------------------


def quiet_moment(timed: list[tuple[expressions.Expression, str]], now: datetime,
                 max_wait: timedelta) -> datetime | None:
    """The first moment from `now` with no fire time in [moment - AFTER_FIRE, moment + BEFORE_FIRE],
    for every (expression, zone); None when there is none within `max_wait`."""
    t = now
    while t - now <= max_wait:
        fires = [f for e, tz in timed for f in e.next_fire_times(1, after=t - AFTER_FIRE, tz=tz)]
        nxt = min((f.astimezone(UTC) for f in fires), default=None)
        if nxt is None or nxt > t + BEFORE_FIRE:
            return t
        t = nxt + AFTER_FIRE
    return None


def _fires(s: Schedule) -> tuple[expressions.Expression, str] | None:
    expr = expressions.parse(s.expression, allow_at=True)
    # rate() has no fixed fire times (it counts from when it was created): there is nothing to avoid.
    return None if expr.kind == "rate" else (expr, s.timezone or "UTC")


def _fmt(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# --- one rule ------------------------------------------------------------------------------------


@dataclass
class Item:
    name: str
    path: str
    index: int
    file_backend: str
    schedule: Schedule  # what the file will say after the move
    rule: Schedule | None  # what the file says now, as a rule (None when it cannot be one)
    live_rule: Live | None = None
    live_schedule: Live | None = None
    steps: list[str] = field(default_factory=list)
    error: str | None = None
    moved: bool = False  # the schedule runs it now (switched, or done before)


def _forced(f: ConfigFile, i: int, backend: str) -> ConfigFile:
    """The file as if rule i said `backend:` — both forms come from build.py, so they match apply's."""
    from ecsched.config.loader import ConfigFile

    rules = list(f.data["rules"])
    rules[i] = {**rules[i], "backend": backend}
    return ConfigFile(path=f.path, data={**f.data, "rules": rules}, locations=f.locations)


def _items(ctx: Context, patterns: list[str] | None) -> list[Item]:
    from ecsched.config.build import build_rule
    from ecsched.plan import select

    cfg = ctx.config()
    aws = ctx.aws(cfg.region)
    account, region = aws.account(), aws.region
    names = cfg.rule_names()
    chosen = select(names, patterns)
    if patterns and not chosen:
        near = sorted({m for p in patterns for m in difflib.get_close_matches(p, names, n=3)})
        raise EcschedError(f"no rule in the file matches {', '.join(patterns)}"
                           + (f"; did you mean {', '.join(near)}?" if near else ""))
    items = []
    for f in cfg.files:
        for i, r in enumerate(f.data.get("rules") or []):
            if str(r["name"]) not in chosen:
                continue
            schedule = build_rule(_forced(f, i, "scheduler"), i, account, region)
            try:
                rule: Schedule | None = build_rule(_forced(f, i, "rules"), i, account, region)
            except (ConfigError, expressions.ExpressionError):
                rule = None  # e.g. a DST zone, written after the file already moved to scheduler
            backend = str(r.get("backend") or f.data.get("backend") or "rules")
            items.append(Item(str(r["name"]), f.path, i, backend, schedule, rule))
    return items


def _decide(it: Item) -> None:
    """The steps left for this rule, from live state. Sets `error` when it cannot move safely."""
    rule, sch, want = it.live_rule, it.live_schedule, it.schedule
    tid = want.tracking_id
    if sch is not None and sch.tracking_id != tid:
        it.error = f"a schedule named {it.name} exists in a schedule group of trackingId `{sch.tracking_id}`"
        return
    if sch is not None and sch.schedule is None:
        it.error = f"schedule {it.name} exists, but ecsched does not manage its shape: {sch.unmanaged}"
        return
    if rule is None:
        if sch is None:
            it.error = (f"neither a rule nor a schedule named {it.name} is live: nothing to move. Run `ecsched "
                        "apply` first (with `backend: scheduler` in the file, apply creates the schedule directly)")
        else:
            it.moved = True  # done before
        return
    if rule.tracking_id != tid:
        who = f"trackingId `{rule.tracking_id}`" if rule.tracking_id else "no ecschedule:tracking-id tag"
        it.error = f"rule {it.name} is not ecsched's ({who}, not `{tid}`): migrate moves only rules it owns"
        return
    if rule.schedule is None:
        it.error = f"ecsched does not manage this rule's shape: {rule.unmanaged}"
        return
    rule_on = rule.schedule.enabled
    sch_on = bool(sch and sch.schedule and sch.schedule.enabled)
    if rule_on and sch_on:
        it.steps = ["disable-rule", "delete"]  # both run now: stop the rule at once
    elif not rule_on and sch_on:
        it.steps = ["delete"]  # switched already
    elif not rule_on and sch is not None:
        # Rule off, schedule off: a switch was interrupted (the file wants it on), or the rule is paused.
        it.steps = ["enable", "delete"] if want.enabled else ["delete"]
    else:
        if it.rule is not None and rule.schedule != it.rule:
            paths = sorted({fc.path.split(".")[0].split("[")[0] for fc in _field_changes(rule.schedule, it.rule)})
            it.error = (f"the live rule differs from the file ({', '.join(paths) or 'its definition'}): run "
                        f"`ecsched apply --rule {it.name}` first, so that the move keeps exactly what the file says")
            return
        first = [] if sch is not None else ["create"]
        it.steps = [*first, "switch", "delete"] if rule_on else [*first, "delete"]
    it.moved = it.steps[:1] == ["delete"]


def _field_changes(a: Schedule, b: Schedule) -> Any:
    from ecsched.plan import field_changes

    return field_changes(a, b)


_ROLE_CHECKS: dict[str, str | None] = {}


def _role_check(ctx: Context, it: Item) -> str | None:
    """EventBridge Scheduler must be allowed to assume the role, or every run would fail to start."""
    arn = it.schedule.target.role_arn
    if arn not in _ROLE_CHECKS:
        _ROLE_CHECKS[arn] = _read_role(ctx, arn)
    return _ROLE_CHECKS[arn]


def _read_role(ctx: Context, arn: str) -> str | None:
    iam = ctx.aws().client("iam")
    try:
        doc = iam.get_role(RoleName=arn.rsplit("/", 1)[-1])["Role"].get("AssumeRolePolicyDocument")
    except iam.exceptions.NoSuchEntityException:
        return f"role {arn} does not exist"
    except Exception as e:  # no iam:GetRole permission: say so, and go on
        ctx.warn(f"cannot read role {arn} ({type(e).__name__}); make sure its trust policy allows "
                 "scheduler.amazonaws.com")
        return None
    text = doc if isinstance(doc, str) else json.dumps(doc)
    if "scheduler.amazonaws.com" not in text:
        return (f"role {arn} does not trust scheduler.amazonaws.com, so the schedule could not start the task: "
                'add "scheduler.amazonaws.com" to Principal.Service in its trust policy, then rerun')
    return None


STEP_TEXT = {
    "create": "1. create the schedule {where}, DISABLED",
    "switch": "2. at a quiet moment between two runs: disable the rule, enable the schedule",
    "enable": "2. enable the schedule now (the rule is already disabled: a switch was interrupted)",
    "disable-rule": "2. disable the rule now (rule and schedule are both enabled)",
    "delete": "3. delete the rule",
}


class Migration:
    def __init__(self, ctx: Context, items: list[Item], max_wait: timedelta) -> None:
        from ecsched.backends.rules import RulesBackend
        from ecsched.backends.scheduler import SchedulerBackend

        self.ctx = ctx
        self.items = items
        self.max_wait = max_wait
        aws = ctx.aws()
        regions = sorted({it.schedule.region for it in items})
        self.rules = {r: RulesBackend(aws, r) for r in regions}
        self.scheduler = {r: SchedulerBackend(aws, r) for r in regions}
        for backend in self.scheduler.values():
            backend.guard_rules = False  # the rules are what migrate moves

    def read(self) -> None:
        for region in self.rules:
            names = {it.name for it in self.items if it.schedule.region == region}
            live_rules = self.rules[region].read(names, set(), prune=False)
            live_schedules = self.scheduler[region].read(names, set(), prune=False)
            for it in self.items:
                if it.schedule.region == region:
                    it.live_rule = live_rules.get(it.name)
                    it.live_schedule = live_schedules.get(it.name)
                    _decide(it)

    def where(self, it: Item) -> str:
        return f"{it.schedule.schedule_group}/{it.name}"

    def describe(self, it: Item) -> list[str]:
        lines = []
        for step in it.steps:
            text = STEP_TEXT[step].format(where=self.where(it))
            if step == "switch":
                timed = [t for t in (self._timed(it)) if t]
                when = quiet_moment(timed, CLOCK.now(), self.max_wait) if timed else CLOCK.now()
                text += f" (now: {_fmt(when)})" if when else " (no quiet moment within --max-wait)"
            lines.append(text)
        return lines

    def _timed(self, it: Item) -> list[tuple[expressions.Expression, str] | None]:
        assert it.live_rule is not None and it.live_rule.schedule is not None
        return [_fires(it.live_rule.schedule), _fires(it.schedule)]

    def run(self, it: Item) -> None:
        """Carry out the steps left, printing each as it completes."""
        region = it.schedule.region
        rules, sched = self.rules[region], self.scheduler[region]
        out = self.ctx.out
        for step in it.steps:
            label = STEP_TEXT[step].format(where=self.where(it))
            if step == "create":
                calls = sched.apply(Change("create", it.name, desired=it.schedule.with_enabled(False),
                                           backend="scheduler"))
                out(f"  {label}: {', '.join(calls)}")
            elif step == "switch":
                self._switch(it)
            elif step in ("enable", "disable-rule"):
                calls = self._enable(it) if step == "enable" else self._disable_rule(it)
                it.moved = True
                out(f"  {label}: {', '.join(calls)}")
            elif step == "delete":
                it.moved = True  # the schedule is in charge now, whether or not the delete succeeds
                lr = it.live_rule
                assert lr is not None
                calls = rules.apply(Change("delete", it.name, live=lr.schedule, remove_target_ids=lr.target_ids))
                out(f"  {label}: {', '.join(calls)}")

    def _enable(self, it: Item) -> list[str]:
        region = it.schedule.region
        live = it.live_schedule.schedule if it.live_schedule else it.schedule.with_enabled(False)
        # The whole definition goes with it: UpdateSchedule replaces everything.
        return self.scheduler[region].apply(Change("update", it.name, desired=it.schedule, live=live,
                                                   backend="scheduler"))

    def _disable_rule(self, it: Item) -> list[str]:
        self.rules[it.schedule.region].set_state(it.name, False)
        return ["DisableRule"]

    def _switch(self, it: Item) -> None:
        timed = [t for t in self._timed(it) if t]
        now = CLOCK.now()
        when = quiet_moment(timed, now, self.max_wait) if timed else now
        if when is None:
            wait, window = int(self.max_wait.total_seconds()), int((AFTER_FIRE + BEFORE_FIRE).total_seconds())
            raise EcschedError(f"{it.name}: no quiet moment between two runs within {wait}s "
                               f"(it runs too often for a {window}s "
                               "window): pause it in the file (`disabled: true`), apply, migrate, then unpause; "
                               "or raise --max-wait. The schedule stays DISABLED; rerun to resume")
        if when > now:
            self.ctx.info(f"  waiting {int((when - now).total_seconds())}s for a quiet moment between two runs "
                          f"(until {_fmt(when)})")
            CLOCK.sleep((when - now).total_seconds())
        start = CLOCK.now()
        calls = self._disable_rule(it)
        it.moved = True  # from here on the rule is off: the file must follow, even if the next call fails
        calls += self._enable(it)
        end = CLOCK.now()
        self.ctx.out(f"  {STEP_TEXT['switch']}: {', '.join(calls)} at {_fmt(end)}")
        missed = [f for e, tz in timed for f in e.next_fire_times(1, after=start - AFTER_FIRE, tz=tz)
                  if f.astimezone(UTC) <= end + BEFORE_FIRE]
        if missed:
            self.ctx.warn(f"{it.name}: the switch came close to the run at {_fmt(min(missed))}: check that it ran once")


# --- the config edit -----------------------------------------------------------------------------


def _split(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _newline(lines: list[str]) -> str:
    return "\r\n" if lines and lines[0].endswith("\r\n") else "\n"


def _set_value(line: str, key: str) -> str | None:
    """`key: rules` -> `key: scheduler` on one line, keeping quotes, comment and line ending."""
    body = line.rstrip("\r\n")
    new, n = re.subn(rf"^(\s*(?:-\s+)?{key}\s*:\s*)(['\"]?)rules\2(?=\s*(?:#.*)?$)", r"\1\2scheduler\2", body)
    return new + line[len(body):] if n else None


def edit_config(text: str, data: dict[str, Any], locations: dict[Any, tuple[int, int]],
                moved: set[int]) -> tuple[str, bool]:
    """`backend: scheduler` for the rules at indexes `moved`, or at the top level once every rule in the
    file runs on Scheduler. Only the lines that say it change. Returns (text, whether the top level was
    edited). Raises ValueError when the layout is not one this can edit (the caller verifies the result by
    loading it)."""
    lines = _split(text)
    nl = _newline(lines)
    rules = data.get("rules") or []
    top = data.get("backend")

    def backend_of(i: int) -> str:
        return str(rules[i].get("backend") or top or "rules")

    moving = {i for i in moved if backend_of(i) != "scheduler"}
    if not moving:
        return text, False
    everything = all(i in moving or backend_of(i) == "scheduler" for i in range(len(rules)))
    inserts: dict[int, str] = {}  # 0-based line index -> text to insert before it
    for i in sorted(moving):
        if "backend" in rules[i]:  # an explicit `backend: rules` on the rule: change its value
            line_no = locations[("rules", i, "backend")][0] - 1
            new = _set_value(lines[line_no], "backend")
            if new is None:
                raise ValueError(f"rule {rules[i].get('name')}: cannot edit its `backend:` line")
            lines[line_no] = new
        elif not everything:
            line_no, col = locations[("rules", i, "name")]
            inserts[line_no] = " " * (col - 1) + "backend: scheduler" + nl
    if everything:
        if top is not None:
            line_no = locations[("backend",)][0] - 1
            new = _set_value(lines[line_no], "backend")
            if new is None:
                raise ValueError("cannot edit the top-level `backend:` line")
            lines[line_no] = new
        else:
            at = locations[("rules",)][0] - 1
            while at > 0 and lines[at - 1].lstrip().startswith("#"):
                at -= 1  # above the comment that introduces `rules:`
            inserts[at] = "backend: scheduler" + nl
    for at in sorted(inserts, reverse=True):
        if at > 0 and not lines[at - 1].endswith("\n"):
            lines[at - 1] += nl
        lines.insert(at, inserts[at])
    return "".join(lines), everything


def _expected(data: dict[str, Any], moved: set[int], edited_top: bool) -> dict[str, Any]:
    rules = [dict(r) for r in data.get("rules") or []]
    out = {**data, "rules": rules}
    if edited_top:
        out["backend"] = "scheduler"
    for i in moved:
        if "backend" in rules[i] or not edited_top:
            rules[i]["backend"] = "scheduler"
    return out


def _probe(ctx: Context, path: str, new: str, *, beside: bool) -> dict[str, Any] | None:
    """`new` loaded as the file at `path` would be, or None. Written to a private temp directory under the
    same name (same format); beside the config only when `beside` (plugins resolve relative to it)."""
    base = os.path.basename(path)
    try:
        if beside:
            fd, probe = tempfile.mkstemp(prefix=f".{base}.", suffix=f".ecsched-migrate{os.path.splitext(base)[1]}",
                                         dir=os.path.dirname(os.path.abspath(path)))
            try:
                with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                    fh.write(new)
                return ctx.load_config([probe], validate=False).files[0].data
            finally:
                os.remove(probe)
        with tempfile.TemporaryDirectory(prefix="ecsched-migrate-") as tmp:
            probe = os.path.join(tmp, base)
            with open(probe, "w", encoding="utf-8", newline="") as fh:
                fh.write(new)
            return ctx.load_config([probe], validate=False).files[0].data
    except Exception:
        return None


def rewrite(ctx: Context, path: str, moved: set[int], *, dry_run: bool) -> None:
    """Edit one config file in place, after proving that the edit loads as intended."""
    from ecsched.config.loader import parse_yaml

    f = next(f for f in ctx.config().files if f.path == path)
    names = ", ".join(str(f.data["rules"][i]["name"]) for i in sorted(moved))
    by_hand = f"add `backend: scheduler` to {names} in {path} yourself"
    if os.path.splitext(path)[1].lower() in (".json", ".jsonnet"):
        ctx.warn(f"{path}: ecsched edits YAML files only; {by_hand}")
        return
    with open(path, "rb") as fh:
        raw = fh.read()
    bom = raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    try:
        _, locations = parse_yaml(path, text)  # positions in the file as written
    except Exception:
        locations = f.locations  # template calls: same lines once rendered, checked below
    try:
        new, edited_top = edit_config(text, f.data, locations, moved)
    except (ValueError, KeyError, IndexError) as e:
        ctx.warn(f"{path}: cannot edit this file's layout ({e}); {by_hand}")
        return
    if new == text:
        return
    # Prove it: the edited file must load as the old one plus exactly the new backend keys.
    checked = True
    if "plugins" in (f.data or {}) and dry_run:
        # Plugin paths resolve beside the config, so the probe would have to be written there: not for a look.
        checked = False
    else:
        got = _probe(ctx, path, new, beside="plugins" in (f.data or {}))
        if got != _expected(f.data, moved, edited_top):
            ctx.warn(f"{path}: the edit would not load as intended; {by_hand}")
            return
    diff = difflib.unified_diff(_split(text), _split(new), path, path)
    if dry_run:
        ctx.out(f"would edit {path}:" + ("" if checked else " (not test-loaded: the file uses plugins; "
                                                             "the real run checks the edit before writing)"))
        ctx.out("".join(diff).rstrip("\n"))
        return
    try:
        FileEdit(path=path, old=text, new=new, bom=bom).write()  # temp file + os.replace, mode kept
    except OSError as e:
        ctx.warn(f"{path}: cannot write the edit ({e.strerror}); {by_hand}")
        return
    ctx.out(f"edited {path}: backend: scheduler for {names}")


# --- the command ---------------------------------------------------------------------------------


def run(args: argparse.Namespace, ctx: Context) -> int:
    _ROLE_CHECKS.clear()  # one GetRole per role per run
    items = _items(ctx, args.rule)
    migration = Migration(ctx, items, timedelta(seconds=max(0, args.max_wait)))
    migration.read()
    failed = 0
    try:
        for it in items:
            head = f"{it.name}: rule -> schedule {migration.where(it)}"
            if it.error:
                failed += 1
                ctx.error(f"{it.name}: {it.error}")
                continue
            if not it.steps:
                ctx.out(f"{head}: already moved")
                continue
            if any(s in ("create", "switch", "enable") for s in it.steps):
                problem = _role_check(ctx, it)
                if problem:
                    failed += 1
                    ctx.error(f"{it.name}: {problem}")
                    continue
            ctx.out(head)
            if args.dry_run:
                for line in migration.describe(it):
                    ctx.out(f"  {line}")
                continue
            try:
                migration.run(it)
            except EcschedError as e:
                failed += 1
                ctx.error(str(e))
            except Exception as e:
                from ecsched.errors import describe_aws_exception

                failed += 1
                ctx.error(f"{it.name}: {describe_aws_exception(e) or e}; rerun to resume")
    finally:
        # The file follows every rule the schedule now runs, even after a failure or Ctrl-C.
        per_file: dict[str, set[int]] = {}
        for it in items:
            ready = it.moved or (args.dry_run and not it.error)
            if ready and it.file_backend != "scheduler":
                per_file.setdefault(it.path, set()).add(it.index)
        for path, moved in per_file.items():
            rewrite(ctx, path, moved, dry_run=args.dry_run)
    done = sum(1 for it in items if it.moved or (args.dry_run and it.steps and not it.error))
    ctx.info(f"{'Would move' if args.dry_run else 'Moved'} {done} of {len(items)} rule"
             f"{'s' if len(items) != 1 else ''} to EventBridge Scheduler" + (f"; {failed} failed" if failed else "")
             + ".")
    return 1 if failed else 0

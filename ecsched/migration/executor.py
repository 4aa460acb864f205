"""Carrying out the steps of one rule: create the schedule DISABLED, switch at a quiet moment (disable
the rule, then enable the schedule), delete the rule. Each step prints as it completes."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import ecsched.migration.timing as timing
from ecsched.errors import EcschedError
from ecsched.migration.items import Item, decide
from ecsched.plan import Change

if TYPE_CHECKING:
    from ecsched.aws import Aws

STEP_TEXT = {
    "create": "1. create the schedule {where}, DISABLED",
    "switch": "2. at a quiet moment between two runs: disable the rule, enable the schedule",
    "enable": "2. enable the schedule now (the rule is already disabled: a switch was interrupted)",
    "disable-rule": "2. disable the rule now (rule and schedule are both enabled)",
    "delete": "3. delete the rule",
}


class Executor:
    def __init__(self, sink: timing.Sink, aws: Aws, items: list[Item], max_wait: timedelta,
                 clock: timing.Clock) -> None:
        from ecsched.backends.rules import RulesBackend
        from ecsched.backends.scheduler import SchedulerBackend

        self.sink = sink
        self.items = items
        self.max_wait = max_wait
        self.clock = clock
        regions = sorted({it.schedule.region for it in items})
        self.rules = {r: RulesBackend(aws, r) for r in regions}
        self.scheduler = {r: SchedulerBackend(aws, r) for r in regions}
        for backend in self.scheduler.values():
            backend.guard_rules = False  # the rules are what migrate moves

    def read(self) -> None:
        """Live state of every item, and from it the steps left."""
        for region in self.rules:
            names = {it.name for it in self.items if it.schedule.region == region}
            live_rules = self.rules[region].read(names, set(), prune=False)
            live_schedules = self.scheduler[region].read(names, set(), prune=False)
            for it in self.items:
                if it.schedule.region == region:
                    it.live_rule = live_rules.get(it.name)
                    it.live_schedule = live_schedules.get(it.name)
                    decide(it)

    def describe(self, it: Item) -> list[str]:
        """The steps left, as the dry run shows them."""
        lines = []
        for step in it.steps:
            text = STEP_TEXT[step].format(where=it.where)
            if step == "switch":
                now = self.clock.now()
                timed = self._timed(it)
                when = timing.quiet_moment(timed, now, self.max_wait) if timed else now
                text += f" (now: {timing.fmt(when)})" if when else " (no quiet moment within --max-wait)"
            lines.append(text)
        return lines

    def _timed(self, it: Item) -> list[timing.Timed]:
        assert it.live_rule is not None and it.live_rule.schedule is not None
        return [t for t in (timing.timed(it.live_rule.schedule), timing.timed(it.schedule)) if t]

    def run(self, it: Item) -> None:
        """Carry out the steps left, printing each as it completes."""
        region = it.schedule.region
        rules, sched = self.rules[region], self.scheduler[region]
        for step in it.steps:
            label = STEP_TEXT[step].format(where=it.where)
            if step == "create":
                calls = sched.apply(Change("create", it.name, desired=it.schedule.with_enabled(False),
                                           backend="scheduler"))
            elif step == "switch":
                self._switch(it)
                continue
            elif step in ("enable", "disable-rule"):
                calls = self._enable(it) if step == "enable" else self._disable_rule(it)
                it.moved = True
            else:  # delete
                it.moved = True  # the schedule is in charge now, whether or not the delete succeeds
                lr = it.live_rule
                assert lr is not None
                calls = rules.apply(Change("delete", it.name, live=lr.schedule, remove_target_ids=lr.target_ids))
            self.sink.out(f"  {label}: {', '.join(calls)}")

    def _enable(self, it: Item) -> list[str]:
        live = it.live_schedule.schedule if it.live_schedule else it.schedule.with_enabled(False)
        # The whole definition goes with it: UpdateSchedule replaces everything.
        return self.scheduler[it.schedule.region].apply(Change("update", it.name, desired=it.schedule, live=live,
                                                               backend="scheduler"))

    def _disable_rule(self, it: Item) -> list[str]:
        self.rules[it.schedule.region].set_state(it.name, False)
        return ["DisableRule"]

    def _switch(self, it: Item) -> None:
        timed = self._timed(it)
        now = self.clock.now()
        when = timing.quiet_moment(timed, now, self.max_wait) if timed else now
        if when is None:
            wait = int(self.max_wait.total_seconds())
            window = int((timing.AFTER_FIRE + timing.BEFORE_FIRE).total_seconds())
            raise EcschedError(f"{it.name}: no quiet moment between two runs within {wait}s "
                               f"(it runs too often for a {window}s "
                               "window): pause it in the file (`disabled: true`), apply, migrate, then unpause; "
                               "or raise --max-wait. The schedule stays DISABLED; rerun to resume")
        if when > now:
            self.sink.info(f"  waiting {int((when - now).total_seconds())}s for a quiet moment between two runs "
                          f"(until {timing.fmt(when)})")
            self.clock.sleep((when - now).total_seconds())
        start = self.clock.now()
        calls = self._disable_rule(it)
        it.moved = True  # from here on the rule is off: the file must follow, even if the next call fails
        calls += self._enable(it)
        end = self.clock.now()
        self.sink.out(f"  {STEP_TEXT['switch']}: {', '.join(calls)} at {timing.fmt(end)}")
        missed = timing.near_misses(timed, start, end)
        if missed:
            self.sink.warn(f"{it.name}: the switch came close to the run at {timing.fmt(min(missed))}: "
                          "check that it ran once")

"""One run's outcomes, and the exit code they make: for apply, and for any command that writes rules
(migrate, disable/enable --now).

    report = Report("Applied")
    report.record("job-a", "update", calls=["PutTargets", "TagResource"])
    report.record("job-b", "create", error="PutRule failed: ...")
    report.refuse("job-c", "it belongs to trackingId `web`")
    report.skip("job-d", "ListTargetsByRule failed: InternalFailure (HTTP 500)")
    report.print_to(ctx)          # one line per rule; errors on stderr
    ctx.info(report.summary())    # "Applied 1 change, 1 failed, 1 refused, 1 not read."
    return report.exit_code       # 0 all done; 1 anything failed, was refused or not read

Thread-safe: writers record from worker threads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

EXIT_OK = 0
EXIT_INCOMPLETE = 1  # something failed, was refused, or could not be read: run again after fixing it

SYMBOL = {"create": "+", "update": "~", "delete": "-", "conflict": "!", "noop": "="}
_PAST = {"create": "created", "update": "updated", "delete": "deleted", "pause": "paused", "resume": "resumed",
         "migrate": "migrated", "adopt": "adopted", "enable": "enabled", "disable": "disabled"}


class Out(Protocol):
    def info(self, message: str) -> None: ...

    def error(self, message: str) -> None: ...


@dataclass(frozen=True)
class Outcome:
    name: str
    action: str  # create, update, delete, pause, migrate...
    calls: tuple[str, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def line(self) -> str:
        if self.error is not None:
            return f"rule {self.name}: {self.action} failed: {self.error}"
        calls = f" ({', '.join(self.calls)})" if self.calls else ""
        return f"{SYMBOL.get(self.action, '*')} {self.name}: {_PAST.get(self.action, self.action + 'd')}{calls}"


@dataclass
class Report:
    verb: str = "Applied"  # the summary's first word
    outcomes: list[Outcome] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (rule, why)
    unread: list[tuple[str, str]] = field(default_factory=list)  # (rule or "", why): not planned this run
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, name: str, action: str, calls: list[str] | tuple[str, ...] = (),
               error: str | None = None) -> Outcome:
        out = Outcome(name, action, tuple(calls), error)
        with self._lock:
            self.outcomes.append(out)
        return out

    def skip_all(self, unread: Iterable[Any]) -> Report:
        """`skip` each of the engine's `Unread` (name, error); returns the report."""
        for u in unread:
            self.skip(u.name or "", u.error)
        return self

    def refuse(self, name: str, reason: str) -> None:
        with self._lock:
            self.refused.append((name, reason))

    def skip(self, name: str, reason: str) -> None:
        """A rule left alone because its live state could not be read ("" for the prune listing)."""
        with self._lock:
            self.unread.append((name, reason))

    @property
    def done(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.ok]

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    def counts(self) -> dict[str, int]:
        return {"done": len(self.done), "failed": len(self.failed), "refused": len(self.refused),
                "unread": len(self.unread)}

    @property
    def exit_code(self) -> int:
        return EXIT_INCOMPLETE if self.failed or self.refused or self.unread else EXIT_OK

    def summary(self) -> str:
        n = len(self.done)
        text = f"{self.verb} {n} change{'s' if n != 1 else ''}"
        for count, word in ((len(self.failed), "failed"), (len(self.refused), "refused"),
                            (len(self.unread), "not read")):
            if count:
                text += f", {count} {word}"
        if self.unread:
            text += " (run it again: those rules were left as they are)"
        return text + "."

    def print_to(self, out: Out) -> None:
        """A line per rule: what was done (info), what failed, was refused or not read (error)."""
        for o in self.outcomes:
            (out.info if o.ok else out.error)(o.line())
        for name, why in self.refused:
            out.error(f"rule {name}: refused: {why}")
        for name, why in self.unread:
            what = f"rule {name}" if name else "the rules to prune"
            out.error(f"{what}: could not read its live state, so it is not in the plan: {why}")

    def as_json(self) -> dict[str, Any]:
        results: list[dict[str, Any]] = []
        for o in self.outcomes:
            item: dict[str, Any] = {"rule": o.name, "action": o.action, "ok": o.ok}
            item.update({"calls": list(o.calls)} if o.ok else {"error": o.error})
            results.append(item)
        return {"results": results,
                "conflicts": [{"rule": n, "reason": r} for n, r in self.refused],
                "unread": [{"rule": n or None, "error": r} for n, r in self.unread],
                "summary": self.counts(), "exit_code": self.exit_code}

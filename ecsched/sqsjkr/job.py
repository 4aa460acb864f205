"""The sqsjkr job body, read and written exactly as sqsjkr's Go code does (kayac/sqsjkr job.go).

sqsjkr decodes the SQS body with encoding/json into `MessageBody`:

- field names match case-insensitively (an exact match wins), unknown fields are ignored, and when a
  key appears twice the last one wins;
- a value of the wrong type fails the whole decode, and the worker then deletes the message: the job
  is lost without a trace beyond one error line. `parse_input` raises `JobError` for those bodies;
- `life_time` is whole seconds (a JSON integer) or a Go duration string; `null` fails the decode;
- `event_id` defaults to the SQS MessageId; an empty `lock_id` means no lock.

Two jobs are equal when sqsjkr would run them identically: `life_time` 60, `"60s"` and `"1m"` are one
value, and a field at its zero value equals a field left out. Key order never matters.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlparse

from ecsched.errors import EcschedError

FIELDS = ("command", "envs", "event_id", "lock_id", "life_time", "abort_if_locked", "disable_life_time_trigger")
SCHEDULED_AT = "scheduled_at"  # added by ecsched's dedupe; sqsjkr ignores it
MAX_INPUT = 8192  # EventBridge's limit on Input / InputTemplate, in characters

_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9,
       "h": 3600 * 10**9}
_GO_PART = re.compile(r"(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)")
_GO_MAX = 2**63 - 1  # time.Duration is an int64 of nanoseconds


class JobError(EcschedError):
    """A body sqsjkr cannot decode: it would log one error and delete the message."""


def go_duration_ns(text: str) -> int:
    """Go's time.ParseDuration, in nanoseconds: `300ms`, `1.5h`, `1h30m`, `-2m`, `0`. No `d` unit."""
    s = text
    sign = 1
    if s[:1] in "+-" and s:
        sign, s = (-1 if s[0] == "-" else 1), s[1:]
    if s == "0":
        return 0
    if not s:
        raise ValueError(f"{text!r} is not a Go duration")
    total, pos = Decimal(0), 0
    while pos < len(s):
        m = _GO_PART.match(s, pos)
        if not m or not (m.group(1) or m.group(2)):
            raise ValueError(f"{text!r} is not a Go duration (units: ns, us, ms, s, m, h; e.g. 90s, 10m, 1h30m)")
        try:
            number = Decimal(f"{m.group(1) or '0'}.{m.group(2) or '0'}")
        except InvalidOperation:
            raise ValueError(f"{text!r} is not a Go duration") from None
        total += number * _NS[m.group(3)]
        pos = m.end()
    ns = int(total)
    if ns > _GO_MAX:
        raise ValueError(f"{text!r} is longer than Go's time.Duration can hold")
    return sign * ns


def life_time_ns(value: object) -> int:
    """What sqsjkr's `Duration.UnmarshalJSON` makes of a JSON value. ValueError when it would fail."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{json.dumps(value)} is neither whole seconds nor a Go duration")
    if isinstance(value, int):
        if abs(value) * 10**9 > _GO_MAX:
            raise ValueError(f"{value} seconds is longer than Go's time.Duration can hold")
        return value * 10**9
    if isinstance(value, str):
        return go_duration_ns(value)
    # json.Number.Int64: 1.5 or 1e3 fail the decode.
    raise ValueError(f"{json.dumps(value)} is not whole seconds (Go reads an int64) nor a Go duration string")


@dataclass(frozen=True, eq=False)
class Job:
    """One job body. `envs` and `extra` are sorted pairs, so a Job is hashable and deterministic;
    `extra` holds fields sqsjkr ignores, with their values as compact JSON."""

    command: str
    envs: tuple[tuple[str, str], ...] = ()
    event_id: str = ""
    lock_id: str = ""
    life_time: int | str = 0  # as written: whole seconds or a Go duration
    abort_if_locked: bool = False
    disable_life_time_trigger: bool = False
    extra: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        life_time_ns(self.life_time)  # refuse what sqsjkr could not decode

    @property
    def life_time_seconds(self) -> float:
        return life_time_ns(self.life_time) / 1e9

    def _key(self) -> tuple[Any, ...]:
        return (self.command, self.envs, self.event_id, self.lock_id, life_time_ns(self.life_time),
                self.abort_if_locked, self.disable_life_time_trigger, self.extra)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Job) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    @classmethod
    def from_config(cls, data: dict[str, Any]) -> Job:
        """From the file's `job:` mapping, already validated (see validate.job_problems)."""
        return cls(
            command=str(data["command"]),
            envs=tuple(sorted((str(k), "" if v is None else str(v)) for k, v in (data.get("envs") or {}).items())),
            event_id=str(data.get("event_id") or ""),
            lock_id=str(data.get("lock_id") or ""),
            life_time=data.get("life_time") or 0,
            abort_if_locked=bool(data.get("abort_if_locked")),
            disable_life_time_trigger=bool(data.get("disable_life_time_trigger")),
        )

    def body(self) -> dict[str, Any]:
        """The body in a fixed key order, zero values left out (sqsjkr treats both alike)."""
        out: dict[str, Any] = {"command": self.command}
        if self.envs:
            out["envs"] = dict(self.envs)
        if self.event_id:
            out["event_id"] = self.event_id
        if self.lock_id:
            out["lock_id"] = self.lock_id
        if life_time_ns(self.life_time):
            out["life_time"] = self.life_time
        if self.abort_if_locked:
            out["abort_if_locked"] = True
        if self.disable_life_time_trigger:
            out["disable_life_time_trigger"] = True
        for k, v in self.extra:
            out[k] = json.loads(v)
        return out

    def to_config(self) -> dict[str, Any]:
        """The `job:` mapping `dump` prints (sqsjkr's own field names)."""
        return self.body()


def to_input(job: Job, *, scheduled_at_placeholder: str | None = None) -> str:
    """The target's Input (or InputTemplate): compact, deterministic JSON. With a placeholder
    (`<time>` on rules, `<aws.scheduler.scheduled-time>` on Scheduler) the body carries `scheduled_at`."""
    body = job.body()
    if scheduled_at_placeholder is not None:
        body[SCHEDULED_AT] = scheduled_at_placeholder
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def _field_of(key: str) -> str | None:
    if key in FIELDS:
        return key
    folded = key.casefold()
    return next((f for f in FIELDS if f.casefold() == folded), None)


def _decode(name: str, value: Any) -> Any:
    """One field as Go would decode it; JobError for a type mismatch (the decode fails)."""
    if name == "life_time":
        try:
            life_time_ns(value)
        except ValueError as e:
            raise JobError(f"life_time: {e}") from None
        return value
    if value is None:  # null into a string, bool or map leaves the zero value
        return {} if name == "envs" else (False if name in ("abort_if_locked", "disable_life_time_trigger") else "")
    if name == "envs":
        if not isinstance(value, dict):
            raise JobError(f"envs: {json.dumps(value)} is not an object of strings")
        bad = [k for k, v in value.items() if v is not None and not isinstance(v, str)]
        if bad:
            raise JobError(f"envs.{bad[0]}: {json.dumps(value[bad[0]])} is not a string (sqsjkr reads only strings)")
        return value
    if name in ("abort_if_locked", "disable_life_time_trigger"):
        if not isinstance(value, bool):
            raise JobError(f"{name}: {json.dumps(value)} is not true or false")
        return value
    if not isinstance(value, str):
        raise JobError(f"{name}: {json.dumps(value)} is not a string")
    return value


def parse_body(data: Any) -> Job:
    """A decoded JSON body → Job, as sqsjkr's decoder sees it. JobError when sqsjkr would drop it."""
    if not isinstance(data, dict):
        raise JobError("the body is not a JSON object")
    got: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in data.items():
        name = _field_of(key)
        if name is None:
            extra[key] = value
        else:
            got[name] = _decode(name, value)  # the last of several spellings wins, as in Go
    if not str(got.get("command") or "").strip():
        # sqsjkr decodes it, then refuses to run it ("Job command undefined.").
        raise JobError("the body has no command")
    envs = got.get("envs") or {}
    return Job(
        command=got["command"],
        envs=tuple(sorted((k, v or "") for k, v in envs.items())),
        event_id=got.get("event_id") or "",
        lock_id=got.get("lock_id") or "",
        life_time=got.get("life_time") or 0,
        abort_if_locked=bool(got.get("abort_if_locked")),
        disable_life_time_trigger=bool(got.get("disable_life_time_trigger")),
        extra=tuple(sorted((k, json.dumps(v, sort_keys=True, separators=(",", ":"))) for k, v in extra.items())),
    )


def parse_input(text: str) -> Job:
    """A target's Input → Job. Compared as parsed JSON, so key order and spacing make no difference."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        raise JobError("the body is not JSON") from None
    return parse_body(data)


def without_scheduled_at(job: Job) -> Job:
    return replace(job, extra=tuple(kv for kv in job.extra if kv[0] != SCHEDULED_AT))


# --- queues ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRef:
    name: str
    account: str
    region: str
    partition: str = "aws"

    @property
    def arn(self) -> str:
        return f"arn:{self.partition}:sqs:{self.region}:{self.account}:{self.name}"

    @property
    def url(self) -> str:
        suffix = ".cn" if self.partition == "aws-cn" else ""
        return f"https://sqs.{self.region}.amazonaws.com{suffix}/{self.account}/{self.name}"

    @property
    def fifo(self) -> bool:
        return self.name.endswith(".fifo")


_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_URL_HOST = (re.compile(r"^sqs\.(?P<r>[a-z0-9-]+)\.amazonaws\.com(\.cn)?$"),
             re.compile(r"^(?P<r>[a-z0-9-]+)\.queue\.amazonaws\.com(\.cn)?$"))


def queue_ref(value: str, account: str, region: str, partition: str = "aws") -> QueueRef:
    """A queue as the file names it: a name, a queue URL or an ARN. ValueError when it is none of those."""
    v = value.strip()
    if v.startswith("arn:"):
        parts = v.split(":", 5)
        if len(parts) != 6 or parts[2] != "sqs" or not parts[3] or not parts[4]:
            raise ValueError(f"{value!r} is not an SQS queue ARN (arn:aws:sqs:REGION:ACCOUNT:NAME)")
        ref = QueueRef(parts[5], parts[4], parts[3], parts[1])
    elif "://" in v:
        u = urlparse(v)
        path = [p for p in u.path.split("/") if p]
        if len(path) != 2:
            raise ValueError(f"{value!r} is not a queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)")
        host = u.hostname or ""
        found = next((m.group("r") for p in _URL_HOST if (m := p.match(host))), None)
        if host == "queue.amazonaws.com":
            found = "us-east-1"
        part = "aws-cn" if host.endswith(".cn") else partition
        ref = QueueRef(path[1], path[0], found or region, part)  # a local endpoint: the config's region
    else:
        ref = QueueRef(v, account, region, partition)
    base = ref.name[:-5] if ref.fifo else ref.name
    if not _QUEUE_NAME.match(base) or len(ref.name) > 80:
        raise ValueError(f"{ref.name!r} is not a queue name (1-80 of A-Z a-z 0-9 - _, FIFO names end in .fifo)")
    return ref

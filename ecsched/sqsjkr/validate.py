"""Checks of a job rule as the file spells it (`queue`, `job`, `messageGroupId`, `dedupe`).

Each check returns `Issue`s carrying the key path (`job.envs.PORT`), so the config validator can put the
file's line on them. Nothing here imports boto3: `validate` stays offline.

What AWS and sqsjkr would not tell us in time: sqsjkr deletes a body it cannot decode (the job is lost
silently), and EventBridge takes any Input up to 8,192 characters. So the type of every field is checked
here, the way Go's decoder would see it.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from ecsched.sqsjkr.job import FIELDS, MAX_INPUT, SCHEDULED_AT, Job, life_time_ns, to_input

RULE_PLACEHOLDER_EXPANDED = "2026-12-31T23:59:00Z"  # what `<time>` becomes: the longest form EventBridge sends
SCHEDULER_PLACEHOLDER = "<aws.scheduler.scheduled-time>"
_GROUP_ID = re.compile(r"^[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}$")
ECS_KEYS = ("taskDefinition",)  # an ECS target's required key


@dataclass(frozen=True)
class Issue:
    path: str  # key path inside the rule, e.g. "job.life_time"
    message: str
    level: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def is_job_rule(rule: dict[str, Any]) -> bool:
    return "queue" in rule or "job" in rule


def job_problems(job: Any, path: str = "job") -> list[Issue]:
    """The `job:` mapping: what sqsjkr could not decode, and mistakes it would silently ignore."""
    if not isinstance(job, dict):
        return [Issue(path, "must be a mapping of sqsjkr's job fields (command, envs, lock_id, life_time, ...)")]
    out: list[Issue] = []
    for key in job:
        if key in FIELDS:
            continue
        k = str(key)
        if k == "env":
            out.append(Issue(f"{path}.env", "sqsjkr reads `envs`, not `env` (its README says env, its code reads "
                                            "only envs): rename the key to envs"))
        elif k == SCHEDULED_AT:
            out.append(Issue(f"{path}.{k}", "ecsched adds scheduled_at itself with `dedupe: true`; remove it"))
        elif k.casefold() in FIELDS:
            out.append(Issue(f"{path}.{k}", f"write it as `{k.casefold()}` (sqsjkr's own spelling)"))
        else:
            close = difflib.get_close_matches(k, FIELDS, n=1, cutoff=0.75)
            if close:
                out.append(Issue(f"{path}.{k}", f"unknown job field; did you mean `{close[0]}`? sqsjkr would "
                                                "ignore it silently"))
            else:
                out.append(Issue(f"{path}.{k}", "sqsjkr ignores this field", "warning"))
    cmd = job.get("command")
    if not isinstance(cmd, str) or not cmd.strip():
        out.append(Issue(f"{path}.command", "must be a non-empty string (run by the worker with `sh -c`)"))
    envs = job.get("envs")
    if envs is not None:
        if not isinstance(envs, dict):
            out.append(Issue(f"{path}.envs", "must be a mapping of NAME: value"))
        else:
            for k, v in envs.items():
                if not isinstance(k, str) or not k or "=" in k:
                    out.append(Issue(f"{path}.envs", f"{k!r} is not a variable name"))
                elif v is not None and not isinstance(v, str):
                    out.append(Issue(f"{path}.envs.{k}", f"{json.dumps(v)} is not a string: sqsjkr would drop the "
                                                         f"whole job; quote it ({k}: \"{_yaml_text(v)}\")"))
    for name in ("event_id", "lock_id"):
        v = job.get(name)
        if v is not None and not isinstance(v, str):
            out.append(Issue(f"{path}.{name}", "must be a string"))
    if isinstance(job.get("event_id"), str) and job["event_id"]:
        out.append(Issue(f"{path}.event_id", "a fixed event_id is shared by every fire, so `run --wait` and "
                                             "`locks release` cannot tell runs apart; leave it out (sqsjkr then "
                                             "uses the SQS MessageId)", "warning"))
    for name in ("abort_if_locked", "disable_life_time_trigger"):
        v = job.get(name)
        if v is not None and not isinstance(v, bool):
            out.append(Issue(f"{path}.{name}", "must be true or false"))
    ns = 0
    if "life_time" in job:
        lt = job["life_time"]
        try:
            ns = life_time_ns(lt)
        except ValueError as e:
            hint = " (Go durations have no `d`: write 48h)" if isinstance(lt, str) and lt.endswith("d") else ""
            out.append(Issue(f"{path}.life_time", f"{e}{hint}"))
        else:
            if ns < 0:
                out.append(Issue(f"{path}.life_time", "must not be negative: every job would be over its life time"))
    if (isinstance(job.get("lock_id"), str) and job["lock_id"] and ns == 0
            and job.get("abort_if_locked") is not True):
        out.append(Issue(f"{path}.lock_id", "with life_time 0 and no abort_if_locked, a job that finds the lock "
                                            "held retries every 5 s for ever (and a leftover lock is never freed): "
                                            "set life_time or abort_if_locked: true", "warning"))
    return out


def _yaml_text(v: Any) -> str:
    return json.dumps(v) if not isinstance(v, str) else v


def rule_problems(rule: dict[str, Any], *, backend: str = "rules") -> list[Issue]:
    """A whole rule that has `queue` or `job`: either an ECS target or a job, the queue, FIFO, size."""
    if not is_job_rule(rule):
        return []
    out: list[Issue] = []
    both = [k for k in ECS_KEYS if k in rule]
    if both:
        out.append(Issue("", "a rule has either taskDefinition (an ECS task) or queue + job (an sqsjkr job), "
                             "never both"))
    if "queue" not in rule:
        out.append(Issue("queue", "a job rule needs `queue:` (the sqsjkr queue's name, URL or ARN)"))
    if "job" not in rule:
        out.append(Issue("job", "a rule with `queue:` needs `job:` (the body sqsjkr runs)"))
    queue = rule.get("queue")
    fifo = False
    if "queue" in rule:
        if not isinstance(queue, str) or not queue.strip():
            out.append(Issue("queue", "must be the queue's name, URL or ARN"))
        else:
            from ecsched.sqsjkr.job import queue_ref

            try:
                fifo = queue_ref(queue, "000000000000", "us-east-1").fifo
            except ValueError as e:
                out.append(Issue("queue", str(e)))
    group = rule.get("messageGroupId")
    if group is not None and (not isinstance(group, str) or not _GROUP_ID.match(group)):
        out.append(Issue("messageGroupId", "must be 1-128 letters, digits or punctuation"))
    elif fifo and group is None:
        out.append(Issue("messageGroupId", "a FIFO queue (.fifo) needs messageGroupId: every message goes in a "
                                           "group, and SQS rejects the send without one"))
    elif group is not None and isinstance(queue, str) and not fifo:
        out.append(Issue("messageGroupId", "the queue is not FIFO (its name does not end in .fifo): a standard "
                                           "queue uses a group only for fair queueing", "warning"))
    dedupe = rule.get("dedupe")
    if dedupe is not None and not isinstance(dedupe, bool):
        out.append(Issue("dedupe", "must be true or false"))
    job_issues = job_problems(rule["job"]) if "job" in rule else []
    out += job_issues
    if "job" in rule and not any(i.level == "error" for i in job_issues):
        out += size_problems(Job.from_config(rule["job"]), dedupe=dedupe is True, backend=backend)
    return out


def size_problems(job: Job, *, dedupe: bool, backend: str) -> list[Issue]:
    """The Input (and what it expands to) must fit in EventBridge's 8,192 characters."""
    texts = [to_input(job)]
    if dedupe:
        texts = ([to_input(job, scheduled_at_placeholder="<time>"),
                  to_input(job, scheduled_at_placeholder=RULE_PLACEHOLDER_EXPANDED)] if backend == "rules"
                 else [to_input(job, scheduled_at_placeholder=SCHEDULER_PLACEHOLDER),
                       to_input(job, scheduled_at_placeholder=RULE_PLACEHOLDER_EXPANDED)])
    size = max(len(t) for t in texts)
    if size > MAX_INPUT:
        return [Issue("job", f"the job's JSON is {size:,} characters; EventBridge takes at most {MAX_INPUT:,}: "
                             "shorten the command or move envs into the worker's environment")]
    return []


# --- JSON Schema (draft 2020-12) for schema.json ------------------------------------------------------

_DURATION = r"^[+-]?(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$"

JOB_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$comment": "Rule properties of an sqsjkr job target; paste `properties` into the rule's properties and "
                "`allOf` into the rule schema. Types mirror what sqsjkr's Go decoder accepts.",
    "properties": {
        "queue": {
            "type": "string", "minLength": 1,
            "description": "The sqsjkr queue: a name, a queue URL or an ARN. FIFO queues (.fifo) need messageGroupId.",
        },
        "messageGroupId": {
            "type": "string", "minLength": 1, "maxLength": 128,
            "description": "SqsParameters.MessageGroupId, for a FIFO queue.",
        },
        "job": {
            "type": "object",
            "description": "The job body sqsjkr runs, in sqsjkr's own field names.",
            "required": ["command"],
            "properties": {
                "command": {"type": "string", "minLength": 1, "description": "Run by the worker with sh -c."},
                "envs": {"type": "object", "additionalProperties": {"type": ["string", "null"]},
                         "description": "Environment variables (sqsjkr reads `envs`, not `env`)."},
                "event_id": {"type": "string", "description": "Defaults to the SQS MessageId; best left out."},
                "lock_id": {"type": "string", "description": "DynamoDB lock key: jobs sharing it never overlap."},
                "life_time": {
                    "oneOf": [{"type": "integer", "minimum": 0},
                              {"type": "string", "pattern": _DURATION}],
                    "description": "Whole seconds or a Go duration (10m, 1h30m); 0 = no limit, from SentTimestamp.",
                },
                "abort_if_locked": {"type": "boolean", "description": "Give up instead of retrying every 5 s."},
                "disable_life_time_trigger": {"type": "boolean",
                                              "description": "Do not run the worker's trigger when over life_time."},
            },
            "$comment": "Other keys are left to rule_problems: it errs on `env` and near-misses with a hint, "
                        "and warns on the rest (sqsjkr ignores unknown fields).",
        },
    },
    "allOf": [
        {"not": {"required": ["taskDefinition", "job"]}},
        {"not": {"required": ["taskDefinition", "queue"]}},
        {"dependentRequired": {"queue": ["job"], "job": ["queue"], "messageGroupId": ["queue"]}},
    ],
}

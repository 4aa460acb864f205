"""No spurious diffs for job rules: generated job rules (every job field, FIFO groups, dedupe, retry, DLQ,
both backends) are applied to moto, then diff is empty and a second apply makes zero write calls."""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ACCOUNT, REGION, Result, client, moto_reset
from tests.test_backend_rules import WRITES
from tests.test_roundtrip_property import assert_round_trip

SCHEDULER_WRITES = WRITES | {"CreateSchedule", "UpdateSchedule", "DeleteSchedule", "CreateScheduleGroup"}
ident = st.text(string.ascii_lowercase + string.digits + "-", min_size=1, max_size=12)
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
life_times = st.one_of(st.integers(1, 86_400), st.sampled_from(["90s", "10m", "1h30m", "1.5h", "300ms"]))


@st.composite
def job_rules(draw: st.DrawFn, name: str, backend: str) -> dict[str, Any]:
    fifo = draw(st.booleans())
    job: dict[str, Any] = {"command": draw(st.text(string.printable, min_size=1, max_size=40).filter(str.strip))}
    if draw(st.booleans()):
        job["envs"] = draw(st.dictionaries(st.text(string.ascii_uppercase + "_", min_size=1, max_size=8), text,
                                           max_size=3))
    if draw(st.booleans()):
        job["lock_id"] = draw(ident)
        job["abort_if_locked"] = True
    if draw(st.booleans()):
        job["life_time"] = draw(life_times)
    if draw(st.booleans()):
        job["disable_life_time_trigger"] = draw(st.booleans())
    r: dict[str, Any] = {"name": name, "scheduleExpression": draw(st.sampled_from(
        ["cron(0 * * * ? *)", "rate(1 hour)", "cron(30 18 ? * MON-FRI *)"])),
        "queue": "jobs.fifo" if fifo else draw(st.sampled_from(["jobs", f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs"])),
        "job": job}
    if fifo:
        r["messageGroupId"] = draw(ident)
    if draw(st.booleans()):
        r["dedupe"] = True
    if draw(st.booleans()):
        r["disabled"] = True
    if draw(st.booleans()):
        r["description"] = draw(st.text(string.ascii_letters + " ", max_size=30))
    if draw(st.booleans()):
        r["dead_letter_config"] = {"sqs": "dlq"}
    if draw(st.booleans()):
        r["retryPolicy"] = {"maximumRetryAttempts": draw(st.integers(0, 185))}
    if backend == "rules" and draw(st.booleans()):
        r["targetId"] = draw(ident)
    return r


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    backend = draw(st.sampled_from(["rules", "scheduler"]))
    doc: dict[str, Any] = {"region": REGION, "trackingId": "batch",
                           "rules": [draw(job_rules(f"job-{i}", backend)) for i in range(draw(st.integers(1, 3)))]}
    if backend == "scheduler":
        doc.update(backend="scheduler", role="sqsjkr-sender")
    return doc


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=configs())
def test_job_rules_apply_then_diff_is_empty_and_reapply_writes_nothing(
        aws: str, cli: Callable[..., Result], tmp_path: Path, calls: Counter[str], doc: dict[str, Any]) -> None:
    moto_reset(aws)
    sqs = client("sqs")
    for q in ("jobs", "dlq"):
        sqs.create_queue(QueueName=q)
    sqs.create_queue(QueueName="jobs.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})
    assert_round_trip(cli, calls, tmp_path, doc, SCHEDULER_WRITES)

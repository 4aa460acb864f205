"""The job body as sqsjkr's Go decoder reads it: durations, equality, JSON out and back, queue references."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecsched.sqsjkr.job import (
    Job,
    JobError,
    go_duration_ns,
    parse_input,
    queue_ref,
    to_input,
)

S = 10**9


@pytest.mark.parametrize(("text", "ns"), [
    ("0", 0), ("1m", 60 * S), ("1h30m", 5400 * S), ("1.5h", 5400 * S), ("300ms", 3 * 10**8), ("-2m", -120 * S),
    (".5s", S // 2), ("1.s", S), ("2us", 2000), ("2µs", 2000), ("2μs", 2000), ("1h0m0s", 3600 * S), ("+5s", 5 * S),
    ("1m30s", 90 * S), ("10ns", 10),
])
def test_go_durations_as_go_reads_them(text: str, ns: int) -> None:
    assert go_duration_ns(text) == ns


@pytest.mark.parametrize("text", ["", "1", "2d", "1 m", "m", ".s", "1m-1s", "+", "1e3s", "10M", "3000000h"])
def test_not_go_durations(text: str) -> None:
    with pytest.raises(ValueError):
        go_duration_ns(text)


def test_life_time_forms_are_one_value() -> None:
    assert Job("x", life_time=60) == Job("x", life_time="60s") == Job("x", life_time="1m")
    assert Job("x", life_time=60) != Job("x", life_time=61)
    assert hash(Job("x", life_time=5400)) == hash(Job("x", life_time="1.5h"))


def test_zero_values_equal_absent_fields() -> None:
    text = '{"abort_if_locked":false,"envs":{},"life_time":0,"lock_id":"","event_id":"","command":"php artisan x"}'
    assert parse_input(text) == Job("php artisan x")
    assert to_input(parse_input(text)) == '{"command":"php artisan x"}'


def test_input_is_compact_and_in_a_fixed_order() -> None:
    job = Job("php artisan export:orders", envs=(("APP_ENV", "production"), ("B", "2")), lock_id="export-orders",
              life_time="10m", abort_if_locked=True)
    assert to_input(job) == ('{"command":"php artisan export:orders","envs":{"APP_ENV":"production","B":"2"},'
                             '"lock_id":"export-orders","life_time":"10m","abort_if_locked":true}')
    assert json.loads(to_input(job, scheduled_at_placeholder="<time>"))["scheduled_at"] == "<time>"


def test_field_names_match_case_insensitively_and_the_last_wins() -> None:
    job = parse_input('{"Command":"a","LOCK_ID":"L","command":"b","Abort_If_Locked":true}')
    assert (job.command, job.lock_id, job.abort_if_locked) == ("b", "L", True)


def test_unknown_fields_are_kept_apart_and_compared() -> None:
    a = parse_input('{"command":"x","note":{"b":1,"a":[1,2]}}')
    b = parse_input('{"note":{"a":[1,2],"b":1},"command":"x"}')
    assert a == b and a.extra == (("note", '{"a":[1,2],"b":1}'),)
    assert a != Job("x")


@pytest.mark.parametrize(("body", "says"), [
    ('{"command":"x","life_time":null}', "life_time"),
    ('{"command":"x","life_time":1.5}', "life_time"),
    ('{"command":"x","life_time":"2d"}', "life_time"),
    ('{"command":"x","life_time":true}', "life_time"),
    ('{"command":"x","envs":{"PORT":8080}}', "envs.PORT"),
    ('{"command":"x","envs":["A=1"]}', "envs"),
    ('{"command":"x","abort_if_locked":"true"}', "abort_if_locked"),
    ('{"command":5}', "command"),
    ('{"command":"x","lock_id":7}', "lock_id"),
    ('["command"]', "not a JSON object"),
    ("command: x", "not JSON"),
    ('{"envs":{"A":"1"}}', "no command"),
    ('{"command":"   "}', "no command"),
])
def test_bodies_sqsjkr_would_drop(body: str, says: str) -> None:
    with pytest.raises(JobError, match=says.replace(".", r"\.")):
        parse_input(body)


def test_a_job_refuses_a_life_time_sqsjkr_cannot_decode() -> None:
    with pytest.raises(ValueError):
        Job("x", life_time="2d")


# --- property: any job, any key order, any spacing: the same job, the same Input ---------------------

_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)
_name = st.from_regex(r"[A-Z][A-Z0-9_]{0,8}", fullmatch=True)
_units = st.sampled_from([("s", 1), ("m", 60), ("h", 3600)])


@st.composite
def _life_time(draw: st.DrawFn) -> tuple[int | str, int]:
    """(as written, seconds)."""
    n = draw(st.integers(0, 10**6))
    unit, mul = draw(_units)
    return draw(st.sampled_from([n * mul, f"{n}{unit}"])), n * mul


@st.composite
def jobs(draw: st.DrawFn) -> Job:
    lt, _ = draw(_life_time())
    envs = draw(st.dictionaries(_name, st.text(max_size=10), max_size=4))
    return Job(
        command=draw(_text.filter(lambda s: s.strip() != "")),
        envs=tuple(sorted(envs.items())),
        event_id=draw(st.sampled_from(["", "e-1"])),
        lock_id=draw(st.one_of(st.just(""), _text)),
        life_time=lt,
        abort_if_locked=draw(st.booleans()),
        disable_life_time_trigger=draw(st.booleans()),
    )


def _shuffled(value: object, rnd: random.Random) -> object:
    if isinstance(value, dict):
        items = list(value.items())
        rnd.shuffle(items)
        return {k: _shuffled(v, rnd) for k, v in items}
    return value


@settings(max_examples=150, deadline=None)
@given(jobs(), st.integers(0, 2**32), st.sampled_from([None, 2]))
def test_round_trip_has_no_spurious_difference(job: Job, seed: int, indent: int | None) -> None:
    text = to_input(job)
    reordered = json.dumps(_shuffled(json.loads(text), random.Random(seed)), indent=indent, ensure_ascii=seed % 2 == 0)
    back = parse_input(reordered)
    assert back == job
    assert to_input(back) == text  # so a second apply writes nothing


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 10**6))
def test_every_spelling_of_a_life_time_is_equal(seconds: int) -> None:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    go = f"{h}h{m}m{s}s"
    assert Job("x", life_time=seconds) == Job("x", life_time=go) == Job("x", life_time=f"{seconds}s")
    assert Job("x", life_time=seconds) == parse_input(json.dumps({"life_time": go, "command": "x"}))


# --- queue references ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "name", "account", "region"), [
    ("sqsjkr-jobs", "sqsjkr-jobs", "111122223333", "eu-west-1"),
    ("arn:aws:sqs:ap-northeast-1:444455556666:jobs.fifo", "jobs.fifo", "444455556666", "ap-northeast-1"),
    ("https://sqs.ap-northeast-1.amazonaws.com/444455556666/jobs", "jobs", "444455556666", "ap-northeast-1"),
    ("https://us-west-2.queue.amazonaws.com/444455556666/jobs", "jobs", "444455556666", "us-west-2"),
    ("https://queue.amazonaws.com/444455556666/jobs", "jobs", "444455556666", "us-east-1"),
    ("http://127.0.0.1:5000/123456789012/jobs", "jobs", "123456789012", "eu-west-1"),
])
def test_queue_references(value: str, name: str, account: str, region: str) -> None:
    ref = queue_ref(value, "111122223333", "eu-west-1")
    assert (ref.name, ref.account, ref.region) == (name, account, region)
    assert ref.arn == f"arn:aws:sqs:{region}:{account}:{name}"
    assert ref.url == f"https://sqs.{region}.amazonaws.com/{account}/{name}"
    assert ref.fifo == name.endswith(".fifo")
    assert queue_ref(ref.arn, "0", "x") == ref == queue_ref(ref.url, "0", "x")


@pytest.mark.parametrize("value", ["arn:aws:sns:us-east-1:1:topic", "https://sqs.us-east-1.amazonaws.com/jobs",
                                   "bad name", "x" * 81, ".fifo"])
def test_not_queues(value: str) -> None:
    with pytest.raises(ValueError):
        queue_ref(value, "111122223333", "us-east-1")

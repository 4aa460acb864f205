"""Bad job bodies through `ecsched validate`: exit 1, one located message per problem, nothing imported
from AWS. The checks themselves are tested in test_sqsjkr_validate.py; here, that they reach the file."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Result

BAD = """\
region: us-east-1
trackingId: batch
rules:
  - name: orders-export
    scheduleExpression: cron(0 * * * ? *)
    queue: sqsjkr-jobs
    job:
      command: php artisan export:orders
      envs: {APP_ENV: production, PORT: 8080}
      life_time: 2d
      abort_if_locked: "yes"
      env: {A: b}
      lockid: x
      colour: blue
  - name: fifo
    scheduleExpression: rate(1 hour)
    queue: jobs.fifo
    taskCount: 2
    job: {command: ""}
  - name: both
    scheduleExpression: rate(1 hour)
    queue: q
    taskDefinition: td
    job: {command: x}
  - name: nojob
    scheduleExpression: rate(1 hour)
    queue: q
    role: sender
  - name: ecs-without-task
    scheduleExpression: rate(1 hour)
    cluster: api
"""


def test_bad_job_bodies_are_located_errors(cli: Callable[..., Result], tmp_path: Path) -> None:
    path = tmp_path / "ecsched.yaml"
    path.write_text(BAD)
    res = cli("-c", str(path), "validate")
    assert res.code == 1
    lines = res.out.splitlines()
    expected = [
        (9, "orders-export", "job.envs.PORT: 8080 is not a string"),
        (10, "orders-export", "job.life_time: '2d' is not a Go duration"),
        (11, "orders-export", "job.abort_if_locked: must be true or false"),
        (12, "orders-export", "job.env: sqsjkr reads `envs`, not `env`"),
        (13, "orders-export", "job.lockid: unknown job field; did you mean `lock_id`?"),
        (15, "fifo", "messageGroupId: a FIFO queue (.fifo) needs messageGroupId"),
        (18, "fifo", "taskCount applies to ECS task rules"),
        (19, "fifo", "job.command: must be a non-empty string"),
        (20, "both", "never both"),
        (25, "nojob", "job: a rule with `queue:` needs `job:`"),
    ]
    for line, rule, text in expected:
        assert any(f"ecsched.yaml:{line}:" in x and f"rule {rule}:" in x and text in x for x in lines), (line, text)
    assert any("rule ecs-without-task" in x and "taskDefinition" in x for x in lines)  # an ECS rule still needs it
    assert "job.colour: sqsjkr ignores this field" in res.err  # a warning, not an error
    assert "ecsched.yaml:28:5: rule nojob: role is ignored" in res.err


def test_a_good_job_rule_validates_offline(cli: Callable[..., Result], tmp_path: Path) -> None:
    path = tmp_path / "ecsched.yaml"
    path.write_text(textwrap.dedent("""\
        region: us-east-1
        trackingId: batch
        sqsjkr: {lockTable: sqsjkr-lock, logGroup: /ecs/sqsjkr}
        rules:
          - name: orders-export
            scheduleExpression: cron(0 * * * ? *)
            queue: https://sqs.us-east-1.amazonaws.com/123456789012/jobs.fifo
            messageGroupId: exports
            dedupe: true
            job:
              command: php artisan export:orders
              envs: {APP_ENV: production, PORT: "8080"}
              lock_id: export-orders
              life_time: 1h30m
              abort_if_locked: true
        """))
    res = cli("-c", str(path), "validate")
    assert res.code == 0, res.out + res.err
    assert res.err.count("warning") == 0

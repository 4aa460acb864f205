"""sqsjkr jobs as schedules (kayac/sqsjkr): an EventBridge rule (or schedule) sends a JSON job to an SQS
queue, and a resident worker runs it with `sh -c`, under an optional DynamoDB lock.

- `job`       the job body as sqsjkr's Go decoder reads it; Input JSON out and back; queue references;
- `validate`  the file's `queue`/`job`/`messageGroupId` checks, and their JSON-Schema fragment;
- `target`    the rule and Scheduler target for a job (and dedupe), and a live target back to a job;
- `policy`    whether the queue policy lets EventBridge send for a rule, and the one-statement fix;
- `send`      `run` for a job: send it now, follow its lock and the worker's log lines;
- `locks`     sqsjkr's lock items: list, release (conditional), and the key layout for a lease;
- `rule`      a job rule between the file's spelling and `JobTarget` (build; dump and diff);
- `discover`  the rules that target a queue (dump, migrating from Terraform);
- `sandbox`   the queue and lock table for `sandbox` and `demo`, and a peek at arriving messages.

Nothing here imports boto3: callers pass clients in.
"""

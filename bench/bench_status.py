"""`ecsched status` at scale: 200 schedules, 500 recent tasks, against moto behind the AWS-like layer
(25 ms latency, 50 requests/s per action). Prints the calls per action, the budget, the time and the bound.

    python bench/bench_status.py                      # 200 schedules, 500 tasks
    python bench/bench_status.py --schedules 50 --tasks 120

Budget (issue 14): 3·ceil(T/100) + ceil(3N/500) + 3 calls. Bound: a client needs at least
max(0, (K - burst) / rate) seconds for the K calls of its busiest action, plus one latency per call on
the longest chain of calls that wait for each other (GetCallerIdentity, the ListTasks pages of a cluster,
a DescribeTasks batch). "gather" is that part of `status`, timed in-process from the first call to the
last answer; "process" is the whole `python -m ecsched status` as CI runs it (Python start-up included).
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_scale import write_config  # noqa: E402
from bench.quota_server import Limits, QuotaServer  # noqa: E402

REGION = "us-east-1"


def seed(n: int, tasks: int) -> None:
    """A cluster with `tasks` tasks started as EventBridge starts them; half of them stopped."""
    import boto3

    ecs, ec2, cw = boto3.client("ecs"), boto3.client("ec2"), boto3.client("cloudwatch")
    ecs.create_cluster(clusterName="bench")
    ecs.register_task_definition(family="app", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                                 cpu="256", memory="512", containerDefinitions=[
                                     {"name": "app", "image": "x", "memory": 512, "essential": True}])
    subnet = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"][0]["SubnetId"]
    sg = ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"]
    started: list[str] = []
    i = 0
    while len(started) < tasks:
        count = min(10, tasks - len(started), 3)
        resp = ecs.run_task(cluster="bench", taskDefinition="app", launchType="FARGATE", count=count,
                            startedBy=f"events-rule/job-{i % n:05d}", networkConfiguration={
                                "awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [sg]}})
        started += [t["taskArn"] for t in resp["tasks"]]
        i += 1
    for arn in started[::2]:
        ecs.stop_task(cluster="bench", task=arn, reason="done")
    now = datetime.now(UTC)
    for k in range(0, n, 20):  # some metrics, so GetMetricData answers with data
        cw.put_metric_data(Namespace="AWS/Events", MetricData=[{
            "MetricName": "TriggeredRules", "Dimensions": [{"Name": "RuleName", "Value": f"job-{k:05d}"}],
            "Timestamp": now - timedelta(minutes=30), "Value": 1}])


class ServerClock:
    """Wraps the moto app inside the quota layer and records when it was busy with a request (latency and
    quota excluded). The union of those intervals is the emulator's own time, which no client can go below."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.spans: list[tuple[float, float]] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        t0 = time.perf_counter()
        body = list(self.app(environ, start_response))
        with self._lock:
            self.spans.append((t0, time.perf_counter()))
        return body

    @property
    def seconds(self) -> float:
        total, end = 0.0, float("-inf")
        for a, b in sorted(self.spans):
            if b > end:
                total += b - max(a, end)
                end = b
        return total


def gather(cfg: Path) -> float:
    """The AWS part of `status`, in-process: account, tasks, metrics. The clients are made first (botocore
    reads its service models once per process: start-up, not calls)."""
    from ecsched.aws import Aws
    from ecsched.config import load
    from ecsched.insight.report import Extras, read_sources

    c = load([str(cfg)])
    aws = Aws(region=REGION)
    for service in ("sts", "ecs", "cloudwatch"):
        aws.client(service)
    t0 = time.perf_counter()
    schedules = c.schedules(aws.account(), REGION)
    read_sources(aws, schedules, {s.name: Extras() for s in schedules}, datetime.now(UTC), history_group=None)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--schedules", type=int, default=200)
    ap.add_argument("--tasks", type=int, default=500)
    ap.add_argument("--latency", type=float, default=0.025)
    ap.add_argument("--quota", type=float, default=50.0)
    args = ap.parse_args()
    n, t = args.schedules, args.tasks
    with QuotaServer(latency=0.0, rate=None) as srv, tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ECSCHED_"))}
        env.update(AWS_ENDPOINT_URL=srv.url, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                   AWS_DEFAULT_REGION=REGION, AWS_REGION=REGION, AWS_CONFIG_FILE=os.devnull,
                   AWS_SHARED_CREDENTIALS_FILE=os.devnull, NO_COLOR="1", PYTHONPATH=str(ROOT))
        os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
        cfg = write_config(Path(tmp) / "ecsched.yaml", n)  # the scale benchmark's realistic Fargate rules
        seed(n, t)
        clock = ServerClock(srv.layer.app)
        srv.layer.app = clock
        srv.layer.limits = Limits(latency=args.latency, rate=args.quota, burst=args.quota)
        srv.layer.reset()
        if os.environ.get("BENCH_PROFILE"):
            import cProfile

            cProfile.runctx("gather(cfg)", globals(), {"cfg": cfg}, sort="cumtime")
        gather_s = gather(cfg)
        calls = dict(srv.layer.calls)
        server_s = clock.seconds
        throttled = sum(srv.layer.throttled.values())
        srv.layer.reset()
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "ecsched", "-c", str(cfg), "status", "--format", "json"],
                              env=env, capture_output=True, text=True, check=False)
        process_s = time.perf_counter() - t0
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return 1
    total = sum(calls.values())
    budget = 3 * math.ceil(t / 100) + math.ceil(3 * n / 500) + 3
    busiest = max(calls.values())
    list_pages = calls.get("ecs:ListTasks", 0)
    chain = 1 + list_pages + 1  # GetCallerIdentity, the ListTasks pages one after another, one DescribeTasks round
    quota_s = max(0.0, (busiest - args.quota) / args.quota)
    bound = max(quota_s + chain * args.latency, server_s)
    print(f"status: {n} schedules, {t} tasks (half stopped); latency {args.latency * 1000:.0f} ms, "
          f"quota {args.quota:g}/s per action")
    for k, v in sorted(calls.items()):
        print(f"  {k:32} {v}")
    print(f"calls {total} (budget 3*ceil(T/100) + ceil(3N/500) + 3 = {budget}): {'OK' if total <= budget else 'OVER'}")
    print(f"throttled {throttled}")
    print(f"emulator busy {server_s:.3f} s (moto's own time answering these calls); quota bound {quota_s:.3f} s; "
          f"chain {chain} calls x {args.latency * 1000:.0f} ms")
    print(f"gather {gather_s:.3f} s; bound max(quota + chain, emulator) {bound:.3f} s; "
          f"gather / bound {gather_s / bound:.2f} ({'OK' if gather_s <= 1.5 * bound else 'OVER'} 1.5x)")
    print(f"process (python -m ecsched status --format json) {process_s:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

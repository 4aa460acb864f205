"""Measure how `ecsched run` rides out a DescribeTasks outage (issue 16 §5), as a real child process with
botocore's default retries, against moto behind the fault layer. Not a test: a measurement.

    PYTHONPATH=$PWD:$PWD/tests python tests/run_helpers/outage.py --outage 20 --mode 500
    PYTHONPATH=$PWD:$PWD/tests python tests/run_helpers/outage.py --outage 0 --lost-timeout 30s  # for ever

It starts the task, waits until it is RUNNING, fails every DescribeTasks for --outage seconds (0: never
stops failing), then lets the task end. It prints ecsched's exit code, wall time, and the calls.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from run_helpers import ROOT, ecsched_argv, hold, release, wait_for_task, write_config

sys.path.insert(0, str(ROOT / "tests"))


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--outage", type=float, default=20.0, help="seconds of failing DescribeTasks; 0: for ever")
    p.add_argument("--mode", default="500", choices=["500", "reset", "throttle", "slow"])
    p.add_argument("--lost-timeout", default=None)
    p.add_argument("--poll", default="6", help="ECSCHED_POLL_INTERVAL")
    p.add_argument("--max-attempts", default=None, help="AWS_MAX_ATTEMPTS of the child (default: ecsched's)")
    p.add_argument("--root", default=str(ROOT), help="the ecsched checkout the child runs (to compare)")
    args = p.parse_args()

    from conftest import seed_ecs
    from fault_server import FaultServer
    from moto.server import ThreadedMotoServer

    srv = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    srv.start()
    host, port = srv.get_host_and_port()
    url = f"http://{host}:{port}"
    os.environ.update(AWS_ENDPOINT_URL=url, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x",
                      AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1")
    seeded = seed_ecs()
    tmp = Path(tempfile.mkdtemp())
    config = write_config(tmp)
    hold(url)
    with FaultServer(url) as fs:
        env = dict(os.environ, AWS_ENDPOINT_URL=fs.url, SUBNET=seeded["subnets"][0], SG=seeded["security_group"],
                   ECSCHED_POLL_INTERVAL=args.poll, NO_COLOR="1",
                   PYTHONPATH=args.root + os.pathsep + os.environ.get("PYTHONPATH", ""))
        if args.max_attempts:
            env["AWS_MAX_ATTEMPTS"] = args.max_attempts
        extra = ["--lost-timeout", args.lost_timeout] if args.lost_timeout else []
        start = time.monotonic()
        proc = subprocess.Popen(ecsched_argv("-c", str(config), "run", "--rule", "nightly-report", "--no-logs",
                                             *extra), env=env, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        wait_for_task("api", "ecsched/nightly-report")
        time.sleep(1.0)
        fs.add("DescribeTasks", args.mode, delay=30.0)
        began = time.monotonic()

        def end_outage() -> None:
            time.sleep(args.outage)
            fs.clear()
            time.sleep(2.0)
            release(url)

        if args.outage > 0:
            threading.Thread(target=end_outage, daemon=True).start()
        _out, err = proc.communicate(timeout=3600)
        took = time.monotonic() - start
    release(url)
    srv.stop()
    print(err, end="")
    print(f"--- outage {args.outage or 'for ever'} s ({args.mode}), poll {args.poll} s, "
          f"lost-timeout {args.lost_timeout or 'default'}, AWS_MAX_ATTEMPTS {args.max_attempts or 'default'}: "
          f"exit {proc.returncode} after {took:.1f} s ({time.monotonic() - began:.1f} s since the outage "
          f"began); DescribeTasks calls {fs.calls['DescribeTasks']}, failed {fs.faults['DescribeTasks']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

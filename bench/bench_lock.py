"""Timings for `ecsched lock` against a local moto server (prints numbers; tests never assert timings).

moto is not DynamoDB: the absolute latencies say little about AWS. What this shows is ecsched's own
overhead per run, and how long a stale lease blocks after its holder is SIGKILLed.

Run: python3 bench/bench_lock.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TABLE = "bench-locks"


def _median_ms(samples: list[float]) -> str:
    return f"median {statistics.median(samples) * 1000:.0f} ms (min {min(samples) * 1000:.0f}, max " \
           f"{max(samples) * 1000:.0f}, n={len(samples)})"


def _timed(argv: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ns = ap.parse_args()

    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {**os.environ, "AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    os.environ.update(env)
    ecsched = [sys.executable, "-m", "ecsched"]
    subprocess.run([*ecsched, "lock", "--create-table", "--table", TABLE], env=env, check=True,
                   stderr=subprocess.DEVNULL)

    bare = [_timed([sys.executable, "-c", "pass"], env) for _ in range(ns.runs)]
    locked = [_timed([*ecsched, "lock", "--table", TABLE, "--key", "b", "--", "true"], env)
              for _ in range(ns.runs)]
    print(f"python -c pass:                  {_median_ms(bare)}")
    print(f"ecsched lock -- true (whole run): {_median_ms(locked)}")

    from ecsched.aws import Aws
    from ecsched.lock import LockTable, dynamodb_client

    table = LockTable(dynamodb_client(Aws(region="us-east-1"), 60), TABLE, "us-east-1")
    cycles = []
    for i in range(ns.runs * 10):
        t = time.perf_counter()
        ok, _, _ = table.acquire("cycle", "bench", f"t{i}", 60)
        table.release("cycle", f"t{i}")
        cycles.append(time.perf_counter() - t)
        assert ok
    print(f"acquire + release (in-process):   {_median_ms(cycles)}")

    # Stale lease: SIGKILL the holder, then time until a waiting contender's command starts.
    with tempfile.TemporaryDirectory() as tmp:
        for lease in (2, 5):
            ready = Path(tmp, f"ready{lease}")
            holder = subprocess.Popen([*ecsched, "lock", "--table", TABLE, "--key", f"stale{lease}", "--lease",
                                       f"{lease}s", "--", "sh", "-c", f"touch {ready}; exec sleep 600"], env=env,
                                      stderr=subprocess.DEVNULL)
            while not ready.exists():
                time.sleep(0.01)
            holder.kill()
            holder.wait()
            killed = time.time()
            started = Path(tmp, f"started{lease}")
            subprocess.run([*ecsched, "lock", "--table", TABLE, "--key", f"stale{lease}", "--lease", f"{lease}s",
                            "--on-locked", "wait", "--", "sh", "-c", f"date +%s.%N > {started}"], env=env,
                           check=True, stderr=subprocess.DEVNULL)
            print(f"SIGKILLed holder, --lease {lease}s:   a waiting contender started its command "
                  f"{float(started.read_text()) - killed:.1f} s after the kill")
    server.stop()


if __name__ == "__main__":
    main()

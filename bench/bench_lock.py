"""Timings for `ecsched lock` against a local moto server (prints numbers; tests never assert timings).

moto is not DynamoDB: the absolute latencies say little about AWS. What this shows is ecsched's own
overhead per run (the watchdog included), how long a stale lease blocks after its holder is SIGKILLed,
and, for each way of breaking a holder (issue 16 §3), whether a contender ever ran while the first copy
still did: `--overlap-runs N` repeats each scenario N times with `--lease 2s`.

Run: PYTHONPATH=. python3 bench/bench_lock.py [--runs 10] [--overlap-runs 10]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TABLE = "bench-locks"
HELPERS = Path(__file__).resolve().parents[1] / "tests" / "lock_helpers"
PY = [sys.executable, "-I", "-S"]
SCENARIOS = ["sigstop + sh -c with 2 grandchildren", "ctrl-z (SIGTSTP of the job)",
             "sigstop + child ignoring SIGTERM", "sigkill + sh -c with 2 grandchildren",
             "sigkill + grandchildren ignoring SIGTERM", "blocked stderr + DynamoDB cut"]


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
    ap.add_argument("--overlap-runs", type=int, default=0, help="runs of each overlap scenario (0: none)")
    ns = ap.parse_args()

    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log per request

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
    from ecsched.lock import open_table
    from ecsched.lock.process import Watchdog

    starts = []
    for _ in range(ns.runs):
        t = time.perf_counter()
        Watchdog.start("bench", 15.0, time.time() + 60).close()
        starts.append(time.perf_counter() - t)
    print(f"watchdog start + stop:            {_median_ms(starts)}")

    table = open_table(Aws(region="us-east-1"), TABLE, 60)
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
    if ns.overlap_runs:
        overlaps(ecsched, env, ns.overlap_runs)
    server.stop()


def _pids(folder: Path) -> list[int]:
    return [int(p.name.split(".")[1]) for p in folder.glob("pid.*")]


def _ticks(folder: Path) -> list[int]:
    return [int(line) for f in folder.glob("ticks.*") for line in f.read_text().split() if line.isdigit()]


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def one_scenario(ecsched: list[str], env: dict[str, str], folder: Path, scenario: int, key: str
                 ) -> tuple[bool, float, float, float | None]:
    """(overlap, s from the fault to the first copy's last tick, s from that tick to the second's start,
    s from a SIGKILL of the holder until every process of the first copy is gone)."""
    sys.path.insert(0, str(HELPERS.parent))
    from lock_helpers.harness import TcpProxy

    folder.mkdir()
    batch = [*PY, str(HELPERS / "batch.py"), str(folder)]
    flags = {2: ["--ignore-term"], 4: ["--ignore-term"], 5: ["--flood-stderr"]}.get(scenario, [])
    one = " ".join(batch + flags)
    command = [*batch, *flags] if scenario in (1, 2, 5) else ["sh", "-c", f"{one} & {one} & wait"]
    proxy = TcpProxy(env["AWS_ENDPOINT_URL"]) if scenario == 5 else None
    first_env = {**env, **({"AWS_ENDPOINT_URL_DYNAMODB": proxy.url} if proxy else {})}
    pid_file = folder / "holder.pid"
    job = subprocess.Popen([*PY, str(HELPERS / "job.py"), str(pid_file), *ecsched, "lock", "--table", TABLE,
                            "--key", key, "--lease", "2s", "--", *command], env=first_env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE if scenario == 5 else subprocess.DEVNULL,
                           start_new_session=True)
    while len(_pids(folder)) < (1 if scenario in (1, 2, 5) else 2) or not pid_file.exists():
        time.sleep(0.01)
    holder = int(pid_file.read_text())
    fault = time.time_ns()
    if proxy is not None:
        proxy.cut()
    else:
        os.kill(holder, {0: signal.SIGSTOP, 1: signal.SIGTSTP, 2: signal.SIGSTOP}.get(scenario, signal.SIGKILL))
    gone_after = None
    second = subprocess.Popen([*ecsched, "lock", "--table", TABLE, "--key", key, "--lease", "2s", "--on-locked",
                               "wait", "--", *PY, str(HELPERS / "second.py"), str(folder)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if scenario in (3, 4):
        while any(_alive(p) for p in _pids(folder)):
            time.sleep(0.005)
        gone_after = (time.time_ns() - fault) / 1e9
    second.wait(timeout=120)
    with contextlib.suppress(ProcessLookupError):
        os.kill(holder, signal.SIGCONT)
    job.kill()
    with contextlib.suppress(ProcessLookupError):
        os.kill(holder, signal.SIGKILL)
    job.wait()
    start, *running = (folder / "second").read_text().split()
    last = max(_ticks(folder))
    return bool(running) or last >= int(start), (last - fault) / 1e9, (int(start) - last) / 1e9, gone_after


def overlaps(ecsched: list[str], env: dict[str, str], runs: int) -> None:
    print(f"\noverlap scenarios, --lease 2s (watchdog margin 0.5 s: SIGTERM at expiry - 0.5 s, SIGKILL "
          f"0.25 s later), {runs} runs each:")
    with tempfile.TemporaryDirectory() as tmp:
        for n, name in enumerate(SCENARIOS):
            results = [one_scenario(ecsched, env, Path(tmp, f"s{n}r{r}"), n, f"overlap{n}-{r}")
                       for r in range(runs)]
            bad = sum(o for o, _, _, _ in results)
            ran_on = [r for _, r, _, _ in results]
            gaps = [g for _, _, g, _ in results]
            line = (f"  {name:42} overlap {bad}/{runs}; first copy ran on for {min(ran_on):.2f}-"
                    f"{max(ran_on):.2f} s after the fault; second started {min(gaps):.2f}-{max(gaps):.2f} s "
                    f"after its last tick")
            killed = [k for _, _, _, k in results if k is not None]
            if killed:
                line += f"; all gone {min(killed) * 1000:.0f}-{max(killed) * 1000:.0f} ms after the SIGKILL"
            print(line)


if __name__ == "__main__":
    main()

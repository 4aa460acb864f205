"""ecsched at scale, against moto behind an AWS-like latency and quota (prints numbers; tests never assert
timings).

    python bench/bench_scale.py                    # the full default run (a few minutes on 2 cores)
    python bench/bench_scale.py --rules 100 --changed-since-rules 300 --rss-rules 0   # a quick one

Every ecsched command runs as a whole process (`python -m ecsched ...`), as CI runs it. Between timed runs
the server's buckets are refilled, as if the previous run were long ago. Seeding runs without latency or
quota. See docs/performance.md for what the columns mean.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.quota_server import WRITE_ACTIONS, Limits, QuotaServer  # noqa: E402

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's


# --- configs -----------------------------------------------------------------------------------


NET = ("{aws_vpc_configuration: {subnets: [subnet-0a1, subnet-0a2], security_groups: [sg-0b1], "
       "assign_public_ip: DISABLED}}")


def rule_yaml(i: int, revision: int = 1, paused: bool = False) -> str:
    minute, hour = (i * 7) % 60, (i // 60) % 24
    lines = [
        f"  - name: job-{i:05d}",
        f"    description: bench job {i}",
        f"    scheduleExpression: cron({minute} {hour} * * ? *)",
        "    taskDefinition: app:3",
        "    launch_type: FARGATE",
        "    platform_version: LATEST",
        f"    network_configuration: {NET}",
        "    containerOverrides:",
        "      - name: app",
        f"        command: [php, artisan, 'job:{i}']",
        "        environment:",
        "          APP_ENV: production",
        f"          REVISION: '{revision}'",
    ]
    if paused:
        lines.append("    disabled: true")
    return "\n".join(lines) + "\n"


def write_config(path: Path, n: int, revision: int = 1, paused: frozenset[int] = frozenset()) -> Path:
    """N realistic Fargate rules; `revision` changes every rule's target, `paused` disables some."""
    head = f"region: {REGION}\ncluster: bench\nrole: ecsEventsRole\nrules:\n"
    path.write_text(head + "".join(rule_yaml(i, revision, i in paused) for i in range(n)), encoding="utf-8")
    return path


# --- processes -----------------------------------------------------------------------------------


@dataclass
class Run:
    label: str
    code: int
    wall: float
    out: str
    err: str
    maxrss_kb: int = 0
    cpu: float = 0.0  # user + system seconds of the process: what the machine's load does not inflate
    calls: Counter[str] = field(default_factory=Counter)
    throttled: Counter[str] = field(default_factory=Counter)
    quota: float | None = None
    burst: float = 0.0

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def writes(self) -> int:
        return sum(n for k, n in self.calls.items() if k.split(":", 1)[-1] in WRITE_ACTIONS)

    @property
    def bound(self) -> float | None:
        """The quota bound: (largest per-action count - burst) / rate seconds."""
        if not self.quota or not self.calls:
            return None
        return max(0.0, (max(self.calls.values()) - self.burst) / self.quota)


def aws_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ECSCHED_"))}
    env.update(AWS_ENDPOINT_URL=url, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION=REGION, AWS_REGION=REGION, AWS_CONFIG_FILE=os.devnull,
               AWS_SHARED_CREDENTIALS_FILE=os.devnull, NO_COLOR="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    return env


def run_process(label: str, argv: list[str], env: dict[str, str], cwd: Path, timeout: float = 900) -> Run:
    """Run one command to completion; reaped with wait4 for its own CPU time and peak RSS."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=err, text=True)
        killer = threading.Timer(timeout, proc.kill)  # bounded: a hung run is killed, not waited for
        killer.start()
        peak = [0]
        watcher = threading.Thread(target=_watch_hwm, args=(proc.pid, argv, peak), daemon=True)
        watcher.start()
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        watcher.join(timeout=1)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        return Run(label, proc.returncode, wall, out.read(), err.read(), maxrss_kb=peak[0],
                   cpu=usage.ru_utime + usage.ru_stime)


def _watch_hwm(pid: int, argv: list[str], peak: list[int]) -> None:
    """The child's peak RSS (VmHWM) from /proc until it exits. Not wait4's ru_maxrss: that counts the
    harness's own pages, copied at fork before the exec; so is /proc until the exec (checked by cmdline)."""
    path, cmdline = f"/proc/{pid}/status", "\0".join(argv).encode()
    for _ in range(100_000):  # bounded; about half an hour at 20 ms
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as c:
                if not c.read().startswith(cmdline):
                    time.sleep(0.001)
                    continue
            with open(path) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak[0] = max(peak[0], int(line.split()[1]))
                        break
                else:
                    return  # a zombie: it has exited
        except OSError:
            return
        time.sleep(0.02)


def seed_direct(config: Path) -> None:
    """Write the config's rules into moto's own backend, exactly as `apply` creates them (PutRule with
    the tracking and fingerprint tags, PutTargets with target_params)."""
    from moto.events.models import events_backends

    from ecsched.arns import Account
    from ecsched.backends.rules import put_rule_params, target_params
    from ecsched.config import load
    from ecsched.model import FINGERPRINT_TAG, TRACKING_TAG

    account = Account(ACCOUNT)
    backend = events_backends[ACCOUNT][REGION]
    for s in load([str(config)]).schedules(account, REGION):
        p = put_rule_params(s)
        tags = [{"Key": TRACKING_TAG, "Value": s.tracking_id}, {"Key": FINGERPRINT_TAG, "Value": s.fingerprint()}]
        backend.put_rule(p["Name"], description=p["Description"], scheduled_expression=p["ScheduleExpression"],
                         state=p["State"], tags=tags)
        backend.put_targets(s.name, None, [target_params(s)])


def ecsched(*args: str) -> list[str]:
    return [sys.executable, "-m", "ecsched", *args]


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.limits = Limits(latency=args.latency, rate=args.quota, burst=args.burst)
        self.server = QuotaServer(latency=args.latency, rate=args.quota, burst=args.burst).start()
        self.env = aws_env(self.server.url)
        if args.parallel:
            self.env["ECSCHED_PARALLEL"] = str(args.parallel)
        self.results: list[Run] = []
        self.notes: list[str] = []

    # --- server modes --------------------------------------------------------------------------
    def fast(self) -> None:
        self.server.layer.limits = Limits(latency=0.0, rate=None, burst=0.0)
        self.server.layer.reset()

    def real(self) -> None:
        self.server.layer.limits = Limits(self.limits.latency, self.limits.rate, self.limits.burst)
        self.server.layer.reset()

    def timed(self, label: str, argv: list[str], cwd: Path, rss: bool = False) -> Run:
        self.real()
        run = run_process(label, argv, self.env, cwd)
        run.calls = Counter(self.server.layer.calls)
        run.throttled = Counter(self.server.layer.throttled)
        run.quota, run.burst = self.limits.rate, self.limits.burst
        self.results.append(run)
        print(f"  {label}: {run.wall:.2f} s, exit {run.code}, {run.total_calls} calls, "
              f"{sum(run.throttled.values())} throttled", flush=True)
        if self.args.profile and argv[1:3] == ["-m", "ecsched"]:
            self.profile(label, argv, cwd)
        return run

    def profile(self, label: str, argv: list[str], cwd: Path) -> None:
        """The same command again under pyinstrument (a dev tool: pip install pyinstrument)."""
        out = Path(self.args.profile).resolve()
        out.mkdir(parents=True, exist_ok=True)
        name = "".join(c if c.isalnum() else "-" for c in label)[:60].strip("-") + ".txt"
        self.real()
        prof = [argv[0], "-m", "pyinstrument", "-r", "text", "-o", str(out / name), *argv[1:]]
        run_process(f"profile {label}", prof, self.env, cwd)
        print(f"    profile: {out / name}", flush=True)

    def seed(self, cwd: Path, config: str, n: int) -> None:
        """apply from the generated config without latency or quota, then verify that diff is clean.

        Above --apply-seed-max rules, the rules are written straight into moto (in this process) in the
        very form apply writes them: seeding through HTTP would take minutes. The timed diff verifies it.
        """
        self.fast()
        t0 = time.perf_counter()
        if n > self.args.apply_seed_max:
            seed_direct(cwd / config)
            print(f"  seeded {n} rules in {time.perf_counter() - t0:.1f} s (straight into moto)", flush=True)
            return
        r = run_process("seed", ecsched("-c", config, "apply", "--parallel", "16"), self.env, cwd)
        if r.code != 0:
            raise SystemExit(f"seeding {n} rules failed:\n{r.err[-2000:]}")
        v = run_process("verify", ecsched("-c", config, "diff", "--exit-code"), self.env, cwd)
        if v.code != 0:
            raise SystemExit(f"after seeding, diff is not clean (exit {v.code}):\n{v.out[-2000:]}{v.err[-2000:]}")
        print(f"  seeded {n} rules in {time.perf_counter() - t0:.1f} s (apply + verifying diff)", flush=True)

    # --- scenarios -----------------------------------------------------------------------------
    def scale(self, tmp: Path) -> None:
        n = self.args.rules
        print(f"[{n} rules] latency {self.limits.latency * 1000:.0f} ms, quota {self.limits.rate}/s "
              f"burst {self.limits.burst:.0f}", flush=True)
        self.server.reset_moto()
        write_config(tmp / "v1.yaml", n, revision=1)
        write_config(tmp / "v2.yaml", n, revision=2)
        self.seed(tmp, "v1.yaml", n)
        d = self.timed(f"diff --all, {n} rules, nothing to change", ecsched("-c", "v1.yaml", "diff", "--all"), tmp)
        self._check(d, expect_code=0)
        a = self.timed(f"apply, {n} rules, nothing to change", ecsched("-c", "v1.yaml", "apply"), tmp)
        self._check(a, expect_code=0)
        names = tmp / "names.txt"
        names.write_text("".join(f"job-{i:05d}\n" for i in range(n)), encoding="utf-8")
        e = self.timed(f"ecschedule's pattern, {n} rules (boto3, sequential)",
                       [sys.executable, str(ROOT / "bench" / "ecschedule_pattern.py"), str(names)], tmp)
        if e.code == 0:
            e.wall = float(json.loads(e.out)["seconds"])  # calls only: a Go binary starts in milliseconds
        dc = self.timed(f"diff --all, {n} rules changed", ecsched("-c", "v2.yaml", "diff", "--all"), tmp)
        self._check(dc, expect_code=0)
        c = self.timed(f"apply, {n} rules changed", ecsched("-c", "v2.yaml", "apply"), tmp)
        self._check(c, expect_code=0)
        self.fast()
        v = run_process("verify", ecsched("-c", "v2.yaml", "diff", "--exit-code"), self.env, tmp)
        if v.code != 0:
            self.notes.append(f"after `apply` of {n} changed rules, diff is not clean (exit {v.code})")
        self.diff_run, self.pattern_run = d, e

    def validate_and_help(self, tmp: Path) -> None:
        n = self.args.validate_rules
        write_config(tmp / "big.yaml", n)
        best: Run | None = None
        for _ in range(self.args.repeat):
            r = run_process(f"validate, {n} rules", ecsched("-c", "big.yaml", "validate"), self.env, tmp)
            if best is None or r.wall < best.wall:
                best = r
        assert best is not None
        self._check(best, expect_code=0)
        self.results.append(best)
        print(f"  {best.label}: {best.wall:.3f} s (best of {self.args.repeat})", flush=True)
        best = None
        for _ in range(self.args.repeat):
            r = run_process("--help", ecsched("--help"), self.env, tmp)
            if best is None or r.wall < best.wall:
                best = r
        assert best is not None
        imp = run_process("--help importtime", [sys.executable, "-X", "importtime", "-m", "ecsched", "--help"],
                          self.env, tmp)
        loaded = [m for m in ("boto3", "botocore") if f"| {m}\n" in imp.err or f"|   {m}\n" in imp.err
                  or any(line.rstrip().endswith(f" {m}") for line in imp.err.splitlines())]
        best.label = "--help" + (f" (imports {', '.join(loaded)}!)" if loaded else " (boto3 not imported)")
        self.results.append(best)
        print(f"  {best.label}: {best.wall:.3f} s (best of {self.args.repeat})", flush=True)

    def changed_since(self, tmp: Path) -> None:
        n = self.args.changed_since_rules
        repo = tmp / "repo"
        repo.mkdir()
        print(f"[{n} rules] diff --changed-since origin/main, a PR pausing 1 rule", flush=True)
        self.server.reset_moto()
        write_config(repo / "ecsched.yaml", n)
        git = ["git", "-C", str(repo), "-c", "user.email=bench@localhost", "-c", "user.name=bench"]
        for cmd in (["init", "-q", "-b", "main"], ["add", "ecsched.yaml"], ["commit", "-q", "-m", "rules"],
                    ["update-ref", "refs/remotes/origin/main", "HEAD"]):
            subprocess.run([*git, *cmd], check=True)
        self.seed(repo, "ecsched.yaml", n)
        write_config(repo / "ecsched.yaml", n, paused=frozenset({n // 2}))
        r = self.timed(f"diff --changed-since origin/main, {n} rules, 1 paused",
                       ecsched("diff", "--changed-since", "origin/main", "--exit-code"), repo)
        self._check(r, expect_code=2)  # 2: changes found (the paused rule)
        if f"job-{n // 2:05d}" not in r.out or f"1 of {n} rules changed" not in r.err:
            self.notes.append("--changed-since did not select exactly the paused rule")

    def rss(self, tmp: Path) -> None:
        n = self.args.rss_rules
        print(f"[{n} rules] peak memory of a diff (no latency, no quota on either side: memory is the point)",
              flush=True)
        self.server.reset_moto()
        write_config(tmp / "huge.yaml", n)
        self.seed(tmp, "huge.yaml", n)
        self.fast()
        # --quota 0: no client-side pacing either, or 10,000 reads would take 100 s at 50/s per action.
        r = run_process(f"diff --all, {n} rules (peak RSS; no quota)",
                        ecsched("-c", "huge.yaml", "diff", "--all", "--exit-code", "--quota", "0"), self.env, tmp)
        r.calls = Counter(self.server.layer.calls)
        self._check(r, expect_code=0)
        self.results.append(r)
        print(f"  {r.label}: {r.maxrss_kb / 1024:.0f} MB, {r.wall:.1f} s", flush=True)

    def _check(self, r: Run, expect_code: int) -> None:
        if r.code != expect_code:
            self.notes.append(f"{r.label}: exit {r.code}, expected {expect_code}: {r.err.strip()[-500:]}")
        if "Throttling" in r.err or "Rate exceeded" in r.err:
            self.notes.append(f"{r.label}: a throttling error reached the user")

    # --- report --------------------------------------------------------------------------------
    def report(self) -> str:
        lines = ["| run | wall s | CPU s | API calls | largest per action | quota bound s | wall / bound "
                 "| throttled | writes | peak RSS MB |", "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
        for r in self.results:
            top = max(r.calls.items(), key=lambda kv: kv[1]) if r.calls else None
            bound = r.bound
            lines.append("| {} | {:.2f} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
                r.label, r.wall, f"{r.cpu:.2f}" if r.cpu else "", r.total_calls or "",
                f"{top[0].split(':')[-1]} {top[1]}" if top else "",
                f"{bound:.2f}" if bound is not None else "", f"{r.wall / bound:.2f}" if bound else "",
                sum(r.throttled.values()) if r.calls else "", r.writes if r.calls else "",
                f"{r.maxrss_kb / 1024:.0f}" if r.maxrss_kb else ""))
        out = ["\n".join(lines), ""]
        for r in self.results:
            if r.calls:
                per = ", ".join(f"{k.split(':')[-1]} {v}" for k, v in sorted(r.calls.items()))
                out.append(f"- {r.label}: {per}")
        d, e = getattr(self, "diff_run", None), getattr(self, "pattern_run", None)
        if d and e and d.wall:
            n = self.args.rules
            budget = 2 * n + 2 * math.ceil(n / 100) + 2
            out.append("")
            out.append(f"- ecschedule's pattern / ecsched diff: {e.wall / d.wall:.1f}x "
                       f"({e.wall:.2f} s of calls vs {d.wall:.2f} s whole process)")
            out.append(f"- API calls for the diff: {d.total_calls} (budget 2N + 2*ceil(N/100) + 2 = {budget})")
        for note in self.notes:
            out.append(f"- NOTE: {note}")
        return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rules", type=int, default=200, help="rules for diff/apply and ecschedule's pattern")
    p.add_argument("--changed-since-rules", type=int, default=1000, help="0 skips")
    p.add_argument("--validate-rules", type=int, default=1000)
    p.add_argument("--rss-rules", type=int, default=5000, help="0 skips")
    p.add_argument("--latency", type=float, default=0.025, help="seconds per round trip (default 0.025)")
    p.add_argument("--quota", type=float, default=50.0, help="requests/s per API action (default 50)")
    p.add_argument("--burst", type=float, default=50.0)
    p.add_argument("--parallel", type=int, default=0, help="ECSCHED_PARALLEL for ecsched (default: its own)")
    p.add_argument("--repeat", type=int, default=3, help="best of N for validate and --help")
    p.add_argument("--apply-seed-max", type=int, default=500,
                   help="seed up to this many rules with `ecsched apply` (then verify); more go straight into moto")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--profile", metavar="DIR", help="also run each timed ecsched command under pyinstrument")
    args = p.parse_args(argv)
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))  # many server threads at once
    bench = Bench(args)
    t0 = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="ecsched-bench-") as d:
            tmp = Path(d)
            if args.rules:
                bench.scale(tmp)
            bench.validate_and_help(tmp)
            if args.changed_since_rules:
                bench.changed_since(tmp)
            if args.rss_rules:
                bench.rss(tmp)
    finally:
        bench.server.stop()
    print()
    print(f"python {' '.join(['bench/bench_scale.py', *(argv if argv is not None else sys.argv[1:])])}"
          f"  ({time.perf_counter() - t0:.0f} s in all, {os.cpu_count()} CPUs, load average at the end "
          f"{os.getloadavg()[0]:.1f})")
    print()
    print(bench.report())
    if args.json:
        Path(args.json).write_text(json.dumps([{
            "label": r.label, "wall": r.wall, "code": r.code, "calls": dict(r.calls), "throttled": dict(r.throttled),
            "bound": r.bound, "writes": r.writes, "maxrss_kb": r.maxrss_kb, "cpu": r.cpu} for r in bench.results],
            indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

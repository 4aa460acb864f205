"""How long `ecsched validate` takes on a large config, as a whole process (prints numbers; tests never
assert timings). Target: 1,000 rules well under 0.5 s.

Run: python3 bench/bench_validate.py [--rules 1000] [--runs 7]

Prints the median wall time of whole processes (interpreter start included) for `--help`, bare
`python -c pass` for reference, and `validate` on generated YAML, JSON and Jsonnet files; then where
the time goes inside one in-process load (parse, schema, limits).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def rules(n: int) -> list[dict[str, Any]]:
    """Realistic and varied: FARGATE with networking, overrides, environment, every few a retry policy."""
    out = []
    for i in range(n):
        r: dict[str, Any] = {
            "name": f"batch-{i:05d}",
            "description": f"nightly job {i}",
            "scheduleExpression": f"cron({i % 60} {i % 24} ? * MON-FRI *)" if i % 3 else f"rate({2 + i % 50} minutes)",
            "taskDefinition": f"task{i % 7}:{1 + i % 3}",
            "launch_type": "FARGATE",
            "platform_version": "1.4.0",
            "network_configuration": {"aws_vpc_configuration": {
                "subnets": ["subnet-01234567", "subnet-12345678"], "security_groups": ["sg-11111111"],
                "assign_public_ip": "DISABLED"}},
            "containerOverrides": [{"name": "app", "command": ["php", "artisan", f"job:{i}"],
                                    "environment": {"JOB_ID": str(i), "APP_ENV": "production"}}],
            "propagateTags": "TASK_DEFINITION",
        }
        if i % 5 == 0:
            r["retryPolicy"] = {"maximumRetryAttempts": 3, "maximumEventAgeInSeconds": 3600}
        if i % 10 == 0:
            r["timezone"] = "Asia/Tokyo"
        out.append(r)
    return out


def write_files(folder: Path, n: int) -> dict[str, Path]:
    import yaml

    doc = {"region": "us-east-1", "cluster": "api", "role": "ecsEventsRole", "rules": rules(n)}
    files = {"yaml": folder / "big.yaml", "json": folder / "big.json", "jsonnet": folder / "big.jsonnet"}
    files["yaml"].write_text(yaml.safe_dump(doc, sort_keys=False))
    files["json"].write_text(json.dumps(doc, indent=2))
    # Jsonnet as people write it: a function per kind of job, called for each. Strings are joined with
    # `+`: the C++ jsonnet library runs `%` (std.format) in its interpreted stdlib, about 50 times slower
    # per call (1,000 rules formatted with `%` take over 10 s there).
    files["jsonnet"].write_text(
        "local net = { aws_vpc_configuration: { subnets: ['subnet-01234567', 'subnet-12345678'],\n"
        "  security_groups: ['sg-11111111'], assign_public_ip: 'DISABLED' } };\n"
        "local job(i) = {\n"
        "  name: 'batch-' + i, description: 'nightly job ' + i,\n"
        "  scheduleExpression: if i % 3 != 0 then 'cron(' + (i % 60) + ' ' + (i % 24) + ' ? * MON-FRI *)'\n"
        "    else 'rate(' + (2 + i % 50) + ' minutes)',\n"
        "  taskDefinition: 'task' + (i % 7) + ':' + (1 + i % 3), launch_type: 'FARGATE', platform_version: '1.4.0',\n"
        "  network_configuration: net, propagateTags: 'TASK_DEFINITION',\n"
        "  containerOverrides: [{ name: 'app', command: ['php', 'artisan', 'job:' + i],\n"
        "    environment: { JOB_ID: std.toString(i), APP_ENV: 'production' } }],\n"
        "} + (if i % 5 == 0 then { retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 } }\n"
        "     else {}) + (if i % 10 == 0 then { timezone: 'Asia/Tokyo' } else {});\n"
        "{ region: 'us-east-1', cluster: 'api', role: 'ecsEventsRole',\n"
        f"  rules: [job(i) for i in std.range(0, {n - 1})] }}\n")
    # Templates on every rule: the path ecschedule users take for per-environment values.
    files["yaml+templates"] = folder / "templated.yaml"
    files["yaml+templates"].write_text(files["yaml"].read_text().replace(
        "APP_ENV: production", 'APP_ENV: {{ env "ECSCHED_BENCH_ENV" "production" }}'))
    return files


def median_process(argv: list[str], runs: int, cwd: Path) -> tuple[float, float, float, float]:
    """(median wall, min wall, max wall, median CPU) seconds of `argv` as a whole process. CPU (user +
    system) hardly depends on what else the machine runs; wall time does."""
    import resource

    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        r = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if r.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr[-500:]}")
    return statistics.median(walls), min(walls), max(walls), statistics.median(cpus)


def in_process(path: Path) -> dict[str, float]:
    """Where the time goes in one load: read + parse, schema, AWS limits."""
    from ecsched.config import validate
    from ecsched.config.loader import LoadOptions, load_file

    validate.compiled()  # compiled once per process; counted apart
    t0 = time.perf_counter()
    f = load_file(str(path), LoadOptions())
    t1 = time.perf_counter()
    validate.schema_errors(f.data)
    t2 = time.perf_counter()
    for i, r in enumerate(f.data["rules"]):
        validate._check_rule(f, i, r, f.data)
    t3 = time.perf_counter()
    return {"parse": t1 - t0, "schema": t2 - t1, "limits": t3 - t2}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rules", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=7)
    opts = ap.parse_args()
    py = sys.executable
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"ecsched validate, {opts.rules} rules; median of {opts.runs} whole processes "
          f"({os.cpu_count()} CPUs, load average {load:.1f})")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = write_files(folder, opts.rules)
        rows = [("python -c pass (interpreter only)", [py, "-c", "pass"]),
                ("ecsched --help", [py, "-m", "ecsched", "--help"])]
        rows += [(f"ecsched validate ({kind})", [py, "-m", "ecsched", "-c", p.name, "validate"])
                 for kind, p in files.items()]
        for label, argv in rows:
            med, lo, hi, cpu = median_process(argv, opts.runs, folder)
            print(f"  {label:<38} {med * 1000:6.0f} ms wall (min {lo * 1000:.0f}, max {hi * 1000:.0f}), "
                  f"{cpu * 1000:.0f} ms CPU")
        parts = in_process(files["yaml"])
        print("  in process, YAML: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in parts.items()))


if __name__ == "__main__":
    main()

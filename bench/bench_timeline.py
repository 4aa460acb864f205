"""`ecsched timeline` for 1,000 schedules over 7 days (target: under 1 s). Prints the numbers.

    python bench/bench_timeline.py                  # 1,000 schedules, 7 days
    python bench/bench_timeline.py --schedules 5000 --days 14

The estate: 70% daily crons spread over the day, 15% hourly, 10% weekly, 5% every 15 minutes; a tenth
paused. "compute" is lanes + peaks + the terminal lanes + the HTML, in-process, after the config is
loaded; "process" is the whole `python -m ecsched timeline --days N --html FILE` (no AWS call is made).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def expression(i: int) -> str:
    kind = i % 20
    if kind < 14:
        return f"cron({(i * 7) % 60} {(i // 3) % 24} * * ? *)"
    if kind < 17:
        return f"cron({i % 60} * * * ? *)"
    if kind < 19:
        return f"cron({i % 60} {i % 24} ? * {('MON', 'WED', 'FRI')[i % 3]} *)"
    return f"cron({i % 15}/15 * * * ? *)"


def write_config(path: Path, n: int) -> Path:
    lines = ["region: us-east-1", "cluster: bench", "role: ecsEventsRole", "timezone: Asia/Tokyo", "rules:"]
    for i in range(n):
        lines += [f"  - name: job-{i:05d}", f"    scheduleExpression: {expression(i)}", "    taskDefinition: app:3"]
        if i % 10 == 9:
            lines.append("    disabled: true")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def compute(cfg: Path, days: int) -> tuple[float, float, float, int, int, int]:
    from ecsched.arns import Account
    from ecsched.config import load
    from ecsched.insight import html, timeline

    t0 = time.perf_counter()
    schedules = load([str(cfg)]).schedules(Account("000000000000"), "us-east-1")
    loaded = time.perf_counter() - t0
    tz = ZoneInfo("Asia/Tokyo")
    start = datetime.now(UTC).replace(second=0, microsecond=0)
    end = start + timedelta(days=days)
    t0, c0 = time.perf_counter(), time.process_time()
    lanes = timeline.lanes(schedules, start, end)
    peaks = timeline.peaks(lanes, tz)
    text = [timeline.strip(timeline.columns(lane.fires, start, end, 100)) for lane in lanes]
    page = html.render(lanes, peaks, start, end, tz, "Asia/Tokyo")
    took, cpu = time.perf_counter() - t0, time.process_time() - c0
    return loaded, took, cpu, sum(len(lane.fires) for lane in lanes), len(peaks), len(page) + len(text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--schedules", type=int, default=1000)
    ap.add_argument("--days", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = write_config(Path(tmp) / "ecsched.yaml", args.schedules)
        loaded, took, cpu, fires, peaks, size = compute(cfg, args.days)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
        runs = []
        for extra in ([], ["--html", str(Path(tmp) / "t.html")]):
            t0, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
            proc = subprocess.run([sys.executable, "-m", "ecsched", "-c", str(cfg), "timeline", "--days",
                                   str(args.days), "--tz", "Asia/Tokyo", *extra],
                                  env=env, capture_output=True, text=True, check=False)
            wall = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                return 1
            cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            runs.append((" ".join(["timeline", "--days", str(args.days), *extra[:1]]), wall, cpu_s))
    print(f"timeline: {args.schedules} schedules over {args.days} days: {fires:,} fires, {peaks} peaks, "
          f"{size / 1e6:.1f} MB of output")
    print(f"config load + build {loaded:.3f} s; compute (lanes, peaks, terminal, HTML) {took:.3f} s wall, "
          f"{cpu:.3f} s CPU")
    for label, wall, cpu_s in runs:
        print(f"process (python -m ecsched {label}) {wall:.2f} s wall, {cpu_s:.2f} s CPU: "
              f"{'OK' if cpu_s < 1.0 else 'OVER'} the 1 s target (CPU: wall follows the machine's load)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""apply under sustained 5xx (issue 16 §4): how many runs until AWS matches the file, and what each run
left undone. moto behind tests/fault_server.py; every ecsched run is a whole process.

    python bench/bench_faults.py                       # 200 rules, 35% 5xx on every action, 5 runs
    python bench/bench_faults.py --root /other/checkout   # the same against another ecsched tree
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_scale import aws_env, run_process, write_config  # noqa: E402
from tests.fault_server import FaultServer  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rules", type=int, default=200)
    p.add_argument("--rate", type=float, default=0.35, help="fault rate per request (default 0.35)")
    p.add_argument("--mode", default="500", help="fault mode (500, 500-after-commit, reset, throttle)")
    p.add_argument("--action", default="*", help="the action to fault (default: every one)")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--root", default=str(ROOT), help="the ecsched checkout to run (default: this one)")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    rows = []
    try:
        with FaultServer(f"http://{host}:{port}", seed=args.seed) as fs, \
                tempfile.TemporaryDirectory(prefix="ecsched-faults-") as d:
            tmp = Path(d)
            env = aws_env(fs.url)
            env["PYTHONPATH"] = args.root
            ecsched = [sys.executable, "-m", "ecsched"]
            write_config(tmp / "v1.yaml", args.rules)
            write_config(tmp / "v2.yaml", args.rules, revision=2)
            seed = run_process("seed", [*ecsched, "-c", "v1.yaml", "apply", "--quota", "0"], env, tmp)
            assert seed.code == 0, seed.err[-2000:]

            def left() -> int:
                fs.clear()
                r = run_process("check", [*ecsched, "-c", "v2.yaml", "diff", "--format", "json", "--quota", "0"],
                                env, tmp)
                return sum(1 for c in json.loads(r.out)["changes"] if c["action"] != "noop")

            for i in range(1, args.runs + 1):
                fs.clear()
                fs.calls.clear()
                fs.faults.clear()
                fs.add(args.action, args.mode, rate=args.rate)
                r = run_process(f"apply {i}", [*ecsched, "-c", "v2.yaml", "apply", "--quota", "0"], env, tmp)
                calls, faults = sum(fs.calls.values()), sum(fs.faults.values())
                undone = left()
                rows.append((i, r.code, r.wall, calls, faults, undone))
                print(f"  run {i}: exit {r.code}, {r.wall:.1f} s, {calls} requests, {faults} faults, "
                      f"{undone} of {args.rules} rules left undone", flush=True)
                if undone == 0:
                    break
    finally:
        moto.stop()
    print()
    print(f"python bench/bench_faults.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    print(f"{args.rules} rules changed, {args.rate:.0%} `{args.mode}` on {args.action}")
    print()
    print("| run | exit | wall s | requests | faults injected | rules left undone |")
    print("|---:|---:|---:|---:|---:|---:|")
    for i, code, wall, calls, faults, undone in rows:
        print(f"| {i} | {code} | {wall:.1f} | {calls} | {faults} | {undone} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

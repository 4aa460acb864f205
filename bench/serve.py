"""The benchmark's server on its own, for profiling one command by hand (stops by itself).

    python bench/serve.py --seed 200 --dir /tmp/b &      # prints `export ...` lines, seeds /tmp/b/v1.yaml
    eval "$(cat /tmp/b/env)"; cd /tmp/b
    python -m pyinstrument -m ecsched -c v1.yaml diff    # or: py-spy record -- python -m ecsched ...
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_scale import aws_env, ecsched, write_config  # noqa: E402
from bench.quota_server import Limits, QuotaServer  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--latency", type=float, default=0.025)
    p.add_argument("--quota", type=float, default=50.0)
    p.add_argument("--burst", type=float, default=50.0)
    p.add_argument("--seed", type=int, default=0, help="apply N generated rules first (dir/v1.yaml)")
    p.add_argument("--dir", default=".", help="where to write v1.yaml, v2.yaml and env")
    p.add_argument("--minutes", type=float, default=30, help="stop after this long")
    args = p.parse_args()
    d = Path(args.dir)
    d.mkdir(parents=True, exist_ok=True)
    srv = QuotaServer(latency=0.0, rate=None).start()
    env = aws_env(srv.url)
    exports = "".join(f"export {k}={env[k]}\n" for k in sorted(env) if k.startswith("AWS_"))
    (d / "env").write_text(exports)
    print(exports, flush=True)
    if args.seed:
        write_config(d / "v1.yaml", args.seed)
        write_config(d / "v2.yaml", args.seed, revision=2)
        subprocess.run(ecsched("-c", "v1.yaml", "apply", "--parallel", "16"), env=env, cwd=d, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    srv.layer.limits = Limits(args.latency, args.quota, args.burst)
    print(f"serving on {srv.url} for {args.minutes:g} minutes; counts reset whenever `reset` is touched in "
          f"{d}", flush=True)
    deadline = time.monotonic() + args.minutes * 60
    marker = d / "reset"
    try:
        while time.monotonic() < deadline:
            if marker.exists():
                print(dict(srv.layer.calls), dict(srv.layer.throttled), flush=True)
                marker.unlink()
                srv.layer.reset()
            time.sleep(0.2)
    finally:
        srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

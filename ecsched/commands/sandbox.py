"""`ecsched sandbox`: an AWS emulator on 127.0.0.1, seeded from the config, for trying ecsched safely."""

from __future__ import annotations

import argparse
import os
import signal
import threading

from ecsched.context import Context

HELP = "run a local AWS emulator (moto) seeded from the config; prints the export line"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", type=int, default=4566, help="port on 127.0.0.1 (default 4566; 0 picks a free one)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ecsched.arns import Account
    from ecsched.emulator import ACCOUNT, Emulator

    have_config = bool(getattr(args, "config", None)) or os.path.exists(ctx.config_paths[0])
    cfg = ctx.config() if have_config else None
    region = getattr(args, "region", None) or (cfg.region if cfg else None) or os.environ.get("AWS_REGION") \
        or "us-east-1"
    emu = Emulator(port=args.port, region=region)
    url = emu.start()
    try:
        if cfg:
            for line in emu.seed(cfg.schedules(Account(ACCOUNT), region)):
                ctx.info(f"  seeded {line}")
        env = emu.environ()
        ctx.out("export " + " ".join(f"{k}={v}" for k, v in env.items()))
        ctx.info(f"AWS emulator listening on {url} (account {ACCOUNT}, region {region}).")
        ctx.info("Paste the export line above into another shell; every ecsched command then uses the emulator.")
        ctx.info("Ctrl-C stops it; its state is in memory only.")
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        stop.wait()
    finally:
        emu.stop()
    return 0

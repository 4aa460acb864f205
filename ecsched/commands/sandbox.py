"""`ecsched sandbox`: an AWS emulator on 127.0.0.1, seeded from the config, for trying ecsched safely.

The emulator starts first and this process uses it, so that a config whose plugins read AWS (a tfstate
in S3, SSM parameters) loads from what `--s3` and `--ssm` put there."""

from __future__ import annotations

import argparse
import os
import signal
import threading

from ecsched.context import Context
from ecsched.errors import ConfigError

HELP = "run a local AWS emulator (moto) seeded from the config; prints the export line"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", type=int, default=4566, help="port on 127.0.0.1 (default 4566; 0 picks a free one)")
    p.add_argument("--s3", action="append", metavar="s3://BUCKET/KEY=FILE",
                   help="put a local file in the emulator's S3 before the config is read, e.g. the state a "
                        "tfstate plugin reads (repeatable)")
    p.add_argument("--ssm", action="append", metavar="NAME=VALUE",
                   help="an SSM String parameter for the ssm plugin (repeatable)")
    p.add_argument("--ssm-secure", action="append", metavar="NAME=VALUE",
                   help="an SSM SecureString parameter (repeatable)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ecsched.arns import Account
    from ecsched.emulator import ACCOUNT, Emulator, parse_s3_seed, parse_ssm_seed, region_in

    objects = [parse_s3_seed(spec) for spec in args.s3 or []]  # bad input: refused before anything starts
    parameters = [parse_ssm_seed(spec, secure=False) for spec in args.ssm or []]
    parameters += [parse_ssm_seed(spec, secure=True) for spec in args.ssm_secure or []]
    have_config = bool(getattr(args, "config", None)) or os.path.exists(ctx.config_paths[0])
    chosen = getattr(args, "region", None)
    region = chosen or (region_in(ctx.config_paths[0]) if have_config else None) or os.environ.get("AWS_REGION") \
        or "us-east-1"
    emu = Emulator(port=args.port, region=region)
    url = emu.start()
    try:
        emu.activate()  # the plugins of this process read from the emulator
        for line in emu.seed_inputs(objects, parameters, [region]):
            ctx.info(f"  seeded {line}")
        cfg = None
        if have_config:
            try:
                cfg = ctx.config()
            except ConfigError:
                ctx.info("The config is read from the emulator, which holds only what is seeded: give what its "
                         "plugins read with --s3 s3://BUCKET/KEY=FILE, --ssm NAME=VALUE or --ssm-secure NAME=VALUE "
                         "(the problems follow).")
                raise
        if cfg and cfg.region and cfg.region != region and not chosen:
            emu.region = region = cfg.region  # a computed region: the commands will use this one
            emu.seed_inputs([], parameters, [region])
        if cfg:
            for line in emu.seed(cfg.schedules(Account(ACCOUNT), region)):
                ctx.info(f"  seeded {line}")
        env = emu.environ()
        ctx.out("export " + " ".join(f"{k}={v}" for k, v in env.items()))
        ctx.stdout.flush()  # a script reading the line through a pipe gets it now
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

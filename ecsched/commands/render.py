"""`ecsched render`: print the fully resolved configuration (templates evaluated), as ecspresso does.

A file that loads but does not validate is still printed (seeing what the templates produced is how
one finds out why), with its problems on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import json

from ecsched.context import Context
from ecsched.errors import ConfigError

HELP = "print the resolved configuration (templates and Jsonnet evaluated)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=["yaml", "json"], default="yaml")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ecsched.config import Config
    from ecsched.config.secrets import mask_config

    problems: ConfigError | None = None
    cfg: Config
    try:
        cfg = ctx.config()
    except ConfigError as e:
        problems = e
        cfg = ctx.load_config(validate=False)  # raises again when the file does not even load
    docs = [mask_config(f.data) for f in cfg.files]
    if args.format == "json":
        ctx.out(json.dumps(docs[0] if len(docs) == 1 else docs, indent=2, ensure_ascii=False))
    else:
        from ecsched import yamlio  # the same YAML as `dump` and the plan's diff

        ctx.out(yamlio.dump_all(docs).rstrip())
    if problems is not None:
        raise problems
    return 0


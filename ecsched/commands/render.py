"""`ecsched render`: print the fully resolved configuration (templates evaluated), as ecspresso does."""

from __future__ import annotations

import argparse
import json

from ecsched.context import Context

HELP = "print the resolved configuration (templates and Jsonnet evaluated)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=["yaml", "json"], default="yaml")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ecsched.config.secrets import mask_config

    cfg = ctx.config()
    docs = [mask_config(f.data) for f in cfg.files]
    if args.format == "json":
        ctx.out(json.dumps(docs[0] if len(docs) == 1 else docs, indent=2, ensure_ascii=False))
        return 0
    import yaml

    ctx.out(yaml.safe_dump_all(docs, sort_keys=False, allow_unicode=True, default_flow_style=False).rstrip())
    return 0

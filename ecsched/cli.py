"""Parse arguments, dispatch to a command module, map errors to exit codes. Nothing else lives here.

Each module in ``ecsched/commands/`` is one subcommand, named after the module. It provides:

    HELP: str                                  one line for ``ecsched --help``
    add_arguments(parser) -> None              its own options
    run(args, ctx: Context) -> int             the work; returns the exit code

Exit codes: 0 success, 1 error, 2 differences found (``diff --exit-code``); ``run`` and ``lock``
pass a task's or child's code through.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

from ecsched import __version__
from ecsched.errors import EcschedError

# Global options, accepted before and after the subcommand. (dest, flags, kwargs)
_GLOBALS: list[tuple[str, list[str], dict[str, object]]] = [
    ("config", ["-c", "--config", "-conf"], {"action": "append", "metavar": "FILE",
                                              "help": "config file (repeatable; globs; default ecsched.yaml)"}),
    ("region", ["--region"], {"help": "AWS region (default: the config's, then the environment's)"}),
    ("profile", ["--profile"], {"help": "AWS shared-config profile"}),
    ("ext_str", ["--ext-str", "-ext-str"], {"action": "append", "metavar": "K=V|K",
                                             "help": "Jsonnet external string (bare K reads $K)"}),
    ("ext_code", ["--ext-code", "-ext-code"], {"action": "append", "metavar": "K=V|K",
                                                "help": "Jsonnet external code (bare K reads $K)"}),
    ("no_color", ["--no-color", "-no-color"], {"action": "store_true", "help": "no colour (also NO_COLOR)"}),
    ("debug", ["--debug"], {"action": "store_true", "help": "show tracebacks of internal errors"}),
]


def _add_globals(parser: argparse.ArgumentParser, *, sub: bool) -> None:
    group = parser.add_argument_group("global options")
    for dest, flags, kwargs in _GLOBALS:
        # On subcommands the globals land under a prefixed dest and are merged after parsing, so
        # `ecsched -c a.yaml diff -c b.yaml` keeps both files.
        extra: dict[str, object] = {"default": argparse.SUPPRESS} if sub else {}
        group.add_argument(*flags, dest=("sub_" + dest) if sub else dest, **kwargs, **extra)  # type: ignore[arg-type]


def command_modules() -> dict[str, ModuleType]:
    import ecsched.commands as pkg

    names = sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_"))
    return {n: importlib.import_module(f"ecsched.commands.{n}") for n in names}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ecsched",
        description="Schedule-as-code for Amazon ECS scheduled tasks (ecschedule-compatible).",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"ecsched {__version__}")
    _add_globals(parser, sub=False)
    subs = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, mod in command_modules().items():
        p = subs.add_parser(name, help=mod.HELP, description=mod.HELP, allow_abbrev=False)
        mod.add_arguments(p)
        _add_globals(p, sub=True)
        p.set_defaults(_module=mod)
    return parser


def _merge_globals(args: argparse.Namespace) -> None:
    for dest, _flags, kwargs in _GLOBALS:
        sub_dest = "sub_" + dest
        if not hasattr(args, sub_dest):
            continue
        value = getattr(args, sub_dest)
        delattr(args, sub_dest)
        if kwargs.get("action") == "append":
            setattr(args, dest, (getattr(args, dest) or []) + value)
        elif kwargs.get("action") == "store_true":
            setattr(args, dest, getattr(args, dest) or value)
        else:
            setattr(args, dest, value)


def _describe_aws_exception(exc: BaseException) -> str | None:
    """A plain sentence for botocore's errors, without importing botocore up front."""
    if not type(exc).__module__.startswith(("botocore", "boto3")):
        return None
    name = type(exc).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID (or run `ecsched sandbox`)"
    if name == "NoRegionError":
        return "no AWS region: set `region:` in the config, pass --region, or set AWS_REGION"
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError"):
        return f"cannot reach AWS: {exc}"
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        err = response.get("Error", {})
        op = getattr(exc, "operation_name", "AWS")
        return f"{op} failed: {err.get('Code', name)}: {err.get('Message', exc)}"
    return f"AWS error: {exc}"


def main(argv: Sequence[str] | None = None) -> int:
    from ecsched.context import Context

    parser = build_parser()
    args = parser.parse_args(argv)
    _merge_globals(args)
    if not getattr(args, "command", None):
        parser.print_help()
        return 1
    ctx = Context.from_args(args)
    try:
        return int(args._module.run(args, ctx))
    except EcschedError as e:
        for line in str(e).splitlines() or [""]:
            ctx.error(line)
        return e.exit_code
    except KeyboardInterrupt:
        ctx.error("interrupted")
        return 130
    except BrokenPipeError:
        # `ecsched dump | head`: not an error worth a message.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as e:
        if args.debug:
            raise
        aws = _describe_aws_exception(e)
        if aws:
            ctx.error(aws)
        else:
            ctx.error(f"internal error: {type(e).__name__}: {e} (rerun with --debug for the traceback)")
        return 1

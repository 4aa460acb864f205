"""Parse arguments, dispatch to a command module, map errors to exit codes. Nothing else lives here.

Each module in ``ecsched/commands/`` is one subcommand, named after the module. It provides:

    HELP: str                                  one line for ``ecsched --help``
    add_arguments(parser) -> None              its own options
    run(args, ctx: Context) -> int             the work; returns the exit code

Exit codes: 0 success, 1 error (usage errors too), 2 differences found (``diff --exit-code``), 70 an
internal error (a bug in ecsched: report it), 75 another apply holds the lease (``apply``, ``lock``);
``run`` and ``lock`` pass a task's or child's code through.

A command's module is imported only when that command runs (``--help`` reads each HELP from the
source), so ``ecsched --help`` and ``ecsched validate`` start fast and never import boto3.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import os
import pkgutil
import re
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any, NoReturn

from ecsched import __version__
from ecsched.errors import EXIT_INTERNAL, REPORT_BUG, ConfigError, EcschedError, Problem, describe_aws_exception

# Global options, accepted before and after the subcommand. (dest, flags, kwargs)
# The single-dash and `--conf` spellings are ecschedule's (Go's flag package takes -x and --x alike).
_GLOBALS: list[tuple[str, list[str], dict[str, object]]] = [
    ("config", ["-c", "--config", "-conf", "--conf"],
     {"action": "append", "metavar": "FILE", "help": "config file (repeatable; globs; default ecsched.yaml)"}),
    ("region", ["--region"], {"help": "AWS region (default: the config's, then the environment's)"}),
    ("profile", ["--profile"], {"help": "AWS shared-config profile"}),
    ("ext_str", ["--ext-str", "-ext-str"], {"action": "append", "metavar": "K=V|K",
                                             "help": "Jsonnet external string (bare K reads $K)"}),
    ("ext_code", ["--ext-code", "-ext-code"], {"action": "append", "metavar": "K=V|K",
                                                "help": "Jsonnet external code (bare K reads $K)"}),
    ("color", ["--color"], {"choices": ["auto", "always", "never"], "metavar": "WHEN",
                            "help": "colour: auto (a terminal; NO_COLOR, FORCE_COLOR honoured), always, never"}),
    ("no_color", ["--no-color", "-no-color"], {"action": "store_true", "help": "same as --color never"}),
    ("max_config_bytes", ["--max-config-bytes"], {"type": int, "metavar": "N",
                                                   "help": "refuse a config file bigger than N bytes (default: "
                                                           "the loader's, or $ECSCHED_MAX_CONFIG_BYTES)"}),
    ("debug", ["--debug"], {"action": "store_true", "help": "show tracebacks of internal errors"}),
]

_HELP_LINE = re.compile(r"""^HELP\s*=\s*(?P<value>(?:"[^"\\\n]*"|'[^'\\\n]*'))\s*$""", re.MULTILINE)


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 1: exit code 2 means "differences found" (diff --exit-code)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(1, f"{self.prog}: error: {message}\n")


class _LazyCommand(_Parser):
    """A subcommand's parser, filled in only when that subcommand is used (or its --help shown): so
    `ecsched validate` and `ecsched --help` import one command module, or none, and never boto3."""

    module_name: str | None = None

    def populate(self) -> None:
        if self.module_name is None:
            return
        mod = importlib.import_module(f"ecsched.commands.{self.module_name}")
        self.module_name = None
        mod.add_arguments(self)
        _add_globals(self, sub=True)
        self.set_defaults(_module=mod)

    def format_help(self) -> str:
        self.populate()
        return super().format_help()


class _LazySubcommands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """Fills in the chosen subcommand's parser just before argparse hands it the rest of the line."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        chosen = self._name_parser_map.get(values[0]) if values else None
        if isinstance(chosen, _LazyCommand):
            chosen.populate()
        super().__call__(parser, namespace, values, option_string)


def _add_globals(parser: argparse.ArgumentParser, *, sub: bool) -> None:
    group = parser.add_argument_group("global options")
    for dest, flags, kwargs in _GLOBALS:
        # On subcommands the globals land under a prefixed dest and are merged after parsing, so
        # `ecsched -c a.yaml diff -c b.yaml` keeps both files.
        extra: dict[str, object] = {"default": argparse.SUPPRESS} if sub else {}
        group.add_argument(*flags, dest=("sub_" + dest) if sub else dest, **kwargs, **extra)  # type: ignore[arg-type]


def command_names() -> list[str]:
    import ecsched.commands as pkg

    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_"))


def command_help(name: str) -> str:
    """A command's one-line HELP, read from its source when it is a plain string (no import)."""
    import ecsched.commands as pkg

    for folder in pkg.__path__:
        try:
            with open(os.path.join(folder, f"{name}.py"), encoding="utf-8") as f:
                m = _HELP_LINE.search(f.read())
        except OSError:
            continue
        if m:
            return str(ast.literal_eval(m["value"]))
    return str(importlib.import_module(f"ecsched.commands.{name}").HELP)


def command_modules() -> dict[str, ModuleType]:
    return {n: importlib.import_module(f"ecsched.commands.{n}") for n in command_names()}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ecsched",
        description="Schedule-as-code for Amazon ECS scheduled tasks (ecschedule-compatible).",
        allow_abbrev=False,
    )
    parser.register("action", "parsers", _LazySubcommands)
    parser.add_argument("--version", "-version", action="version", version=f"ecsched {__version__}")
    _add_globals(parser, sub=False)
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_LazyCommand)
    for name in command_names():
        text = command_help(name)
        p = subs.add_parser(name, help=text, description=text, allow_abbrev=False)
        assert isinstance(p, _LazyCommand)
        p.module_name = name
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
    except ConfigError as e:
        # The same lines as `ecsched validate` prints (FILE:LINE:COL: rule NAME: message), so editors
        # and CI annotate them alike whichever command found them.
        # Every problem, sorted by file and line; the count comes after the list, so it is the last line
        # a terminal or a CI log shows.
        for problem in sorted(e.problems, key=_where):
            print(str(problem), file=ctx.stderr)
        n = len(e.problems)
        ctx.error(f"{n} problem{'s' if n != 1 else ''} found in the configuration")
        return e.exit_code
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
        aws = describe_aws_exception(e)
        if aws:
            ctx.error(aws)
            return 1
        ctx.error(f"internal error: {type(e).__name__}: {' '.join(str(e).split())[:300]}")
        ctx.error(REPORT_BUG)
        return EXIT_INTERNAL
    finally:
        ctx.progress_done()


def _where(p: Problem) -> tuple[str, int, int]:
    return (p.file or "", p.line or 0, p.col or 0)

"""What every command gets: the global options, output helpers, the config and AWS, all lazy."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from ecsched.term import Term

if TYPE_CHECKING:
    from ecsched.aws import Aws
    from ecsched.config import Config
    from ecsched.sync.options import Source

DEFAULT_CONFIG = "ecsched.yaml"

def assignments(items: list[str] | None, option: str) -> dict[str, str]:
    """`K=V`, or a bare `K` that reads environment variable K (as ecschedule and ecspresso do)."""
    from ecsched.errors import EcschedError

    out: dict[str, str] = {}
    for item in items or []:
        k, eq, v = item.partition("=")
        if not k:
            raise EcschedError(f"{option} {item}: empty variable name")
        if not eq:
            if k not in os.environ:
                raise EcschedError(f"{option} {k}: environment variable {k} is not set (use {option} {k}=VALUE)")
            v = os.environ[k]
        out[k] = v
    return out


@dataclass
class Context:
    args: argparse.Namespace
    color: bool
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    _config: Config | None = None
    _aws: Aws | None = None
    _status: Any = field(default=None, repr=False)  # the live progress line on a terminal

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Context:
        from ecsched.term import ColorMode, color_enabled

        mode: ColorMode = "never" if getattr(args, "no_color", False) else (getattr(args, "color", None) or "auto")
        return cls(args=args, color=color_enabled(mode, sys.stdout))

    @property
    def term(self) -> Term:
        """stdout, for the command's human views."""
        return Term(self.stdout, self.color)

    @property
    def err_term(self) -> Term:
        """stderr, for messages and progress: coloured only when it is a terminal too."""
        return Term(self.stderr, self.color and Term(self.stderr, False).is_terminal)

    # --- output -----------------------------------------------------------------------------
    def out(self, text: str = "") -> None:
        print(text, file=self.stdout)

    def error(self, message: str) -> None:
        print(f"ecsched: {self.err_term.paint('error:', 'error')} {message}", file=self.stderr)

    def warn(self, message: str) -> None:
        print(f"ecsched: {self.err_term.paint('warning:', 'warning')} {message}", file=self.stderr)

    def info(self, message: str) -> None:
        """Human notes that are not the command's output: stderr."""
        print(message, file=self.stderr)

    def progress(self, message: str) -> None:
        """Progress goes to stderr, and only on a terminal: one live line, cut to its width so it never
        wraps (a wrapped line leaves a stale row on each refresh), gone when done."""
        term = self.err_term
        if not term.is_terminal:
            return
        from rich.text import Text

        if self._status is None:
            self._status = term.live()
            self._status.start()
        self._status.update(Text(term.cut(message)))

    def progress_done(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    # --- config -----------------------------------------------------------------------------
    @property
    def config_paths(self) -> list[str]:
        return list(getattr(self.args, "config", None) or [DEFAULT_CONFIG])

    def config(self) -> Config:
        """The loaded, validated config. Raises ConfigError with every problem found."""
        if self._config is None:
            self._config = self.load_config()
            for w in self._config.warnings:
                self.warn(str(w))
        return self._config

    def load_config(self, paths: list[str] | None = None, *, validate: bool = True) -> Config:
        """Load the config (or other `paths`, e.g. a file at a git REF) afresh, with this run's --ext-str/
        --ext-code and AWS; `validate=False` skips the schema and limits (render shows a broken file)."""
        from ecsched.config import load

        return load(
            self.config_paths if paths is None else paths,
            ext_str=assignments(getattr(self.args, "ext_str", None), "--ext-str"),
            ext_code=assignments(getattr(self.args, "ext_code", None), "--ext-code"),
            aws_factory=self.aws,
            validate=validate,
            max_config_bytes=getattr(self.args, "max_config_bytes", None),  # None: $ECSCHED_MAX_CONFIG_BYTES or 8 MiB
        )

    def source(self) -> Source:
        """The engine's view of this run: the config paths, the config, and AWS, all still lazy."""
        from ecsched.sync.options import Source

        return Source(paths=self.config_paths, config=self.config,
                      load=lambda paths: self.load_config(paths, validate=False), aws=self.aws)

    # --- AWS --------------------------------------------------------------------------------
    def aws(self, region: str | None = None) -> Aws:
        if self._aws is None:
            from ecsched.aws import Aws

            region = getattr(self.args, "region", None) or region
            if region is None and self._config is not None:
                region = self._config.region
            self._aws = Aws(region=region, profile=getattr(self.args, "profile", None))
        return self._aws

    def extra(self, name: str, default: Any = None) -> Any:
        """A command's own option by name, for command modules only: the engine takes typed options."""
        return getattr(self.args, name, default)

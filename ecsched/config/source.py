"""Reading a config file's text: what the loader is given, and every way reading it can go wrong.

Hostile or mistaken paths fail fast with one line: a FIFO or a device (`-c /dev/zero`) is refused
before it is opened, a file larger than the cap is refused before it is read, and binary, UTF-16 or
non-UTF-8 text is named as such. `-c -` reads standard input (capped the same way), as YAML or JSON.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ecsched.errors import ConfigError, Problem

# 5,000 rules (the most a file may hold) written out in full are about 3 MB of YAML; this leaves room
# for long commands and comments, and refuses a runaway input before it is read.
DEFAULT_MAX_CONFIG_BYTES = 8 * 1024 * 1024
MAX_CONFIG_BYTES_ENV = "ECSCHED_MAX_CONFIG_BYTES"
STDIN = "-"
_stdin: bytes | None = None

# Files ecschedule users keep beside theirs: named in the hint when the default ecsched.yaml is missing.
_ECSCHEDULE_NAMES = ("ecschedule.yaml", "ecschedule.yml", "ecschedule.json", "ecschedule.jsonnet")


@dataclass
class LoadOptions:
    ext_str: Mapping[str, str] = field(default_factory=dict)
    ext_code: Mapping[str, str] = field(default_factory=dict)
    environ: Mapping[str, str] | None = None
    # Plugins need AWS (tfstate in S3, ssm): a factory, so files without them never touch boto3.
    aws_factory: Callable[..., Any] | None = None
    # The largest config file read, in bytes; None: $ECSCHED_MAX_CONFIG_BYTES, else 8 MiB.
    max_config_bytes: int | None = None


class LoadFailed(ConfigError):
    """A file could not be read into data; carries every problem found."""


def max_config_bytes(opts: LoadOptions) -> int:
    if opts.max_config_bytes is not None:
        return opts.max_config_bytes
    env = opts.environ if opts.environ is not None else os.environ
    raw = env.get(MAX_CONFIG_BYTES_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_CONFIG_BYTES
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise LoadFailed([Problem(f"${MAX_CONFIG_BYTES_ENV} must be a positive number of bytes, not `{raw}`")])
    return value


def _missing_hint(path: str) -> str:
    folder = os.path.dirname(path) or "."
    others = [n for n in _ECSCHEDULE_NAMES if os.path.isfile(os.path.join(folder, n))]
    if others and os.path.basename(path) not in _ECSCHEDULE_NAMES:
        return f" (found {others[0]} here: pass -c {os.path.join(os.path.dirname(path), others[0])})"
    return ""


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _too_big(path: str, size: int | None, cap: int) -> LoadFailed:
    what = f"is {size:,} bytes" if size is not None else "is too large"
    return LoadFailed([Problem(f"{what}; config files are read up to {cap:,} bytes (raise it with "
                               f"--max-config-bytes or ${MAX_CONFIG_BYTES_ENV})", file=path)])


def read_bytes(path: str, cap: int) -> bytes:
    """The file's bytes: a regular file (or `-`, standard input) of at most `cap` bytes."""
    if path == STDIN:
        global _stdin
        if _stdin is None:  # read once: a command may load the config twice (render does)
            _stdin = bytes(sys.stdin.buffer.read(cap + 1))
        if len(_stdin) > cap:
            raise _too_big("<stdin>", None, cap)
        return _stdin
    try:
        # Opened without blocking (a FIFO with no writer would wait for ever), then checked.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise LoadFailed([Problem(f"no such file; pass the config with -c FILE{_missing_hint(path)}",
                                  file=path)]) from None
    except IsADirectoryError:
        raise LoadFailed([Problem("is a directory, not a config file", file=path)]) from None
    except OSError as e:
        raise LoadFailed([Problem(f"cannot read: {e.strerror}", file=path)]) from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        if stat.S_ISDIR(st.st_mode):
            raise LoadFailed([Problem("is a directory, not a config file", file=path)])
        raise LoadFailed([Problem(f"is {_kind(st.st_mode)}, not a config file; write the config to a file "
                                  "(or pipe it in with -c -)", file=path)])
    with os.fdopen(fd, "rb") as f:
        if st.st_size > cap:
            raise _too_big(path, st.st_size, cap)
        try:
            raw = f.read(cap + 1)
        except OSError as e:
            raise LoadFailed([Problem(f"cannot read: {e.strerror}", file=path)]) from None
    if len(raw) > cap:  # it grew while we read it
        raise _too_big(path, None, cap)
    return raw


def decode(path: str, raw: bytes) -> str:
    """UTF-8 text (a BOM is dropped), or one problem saying what the bytes are instead."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LoadFailed([Problem("is UTF-16 text; save it as UTF-8", file=path, line=1, col=1)])
    if b"\x00" in raw:
        at = raw.index(b"\x00")
        line = raw.count(b"\n", 0, at) + 1
        col = at - (raw.rfind(b"\n", 0, at) + 1) + 1
        raise LoadFailed([Problem("looks like a binary file (NUL bytes), not YAML/JSON/Jsonnet", file=path,
                                  line=line, col=col)])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise LoadFailed([Problem(f"is not UTF-8 text (byte 0x{raw[e.start]:02x}); save it as UTF-8",
                                  file=path, line=line, col=col)]) from None
    if not text.strip():
        raise LoadFailed([Problem("the file is empty: it needs at least `rules:`", file=path, line=1, col=1)])
    return text


def read_text(path: str, opts: LoadOptions | None = None) -> str:
    """The text of a config file, checked as above. Raises LoadFailed (a ConfigError)."""
    raw = read_bytes(path, max_config_bytes(opts or LoadOptions()))
    return decode("<stdin>" if path == STDIN else path, raw)

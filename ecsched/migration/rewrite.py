"""The config file follows the move: `backend: scheduler` on the rules that moved, or once at the top level
when every rule of the file has, by the one node-position splicer (`ecsched.edit`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecsched.edit import kind_of, set_backend
from ecsched.errors import EcschedError

if TYPE_CHECKING:
    from ecsched.migration.timing import Sink


def rewrite(sink: Sink, path: str, moved: dict[int, str], *, dry_run: bool) -> None:
    """Edit one config file in place (`moved`: rule index -> name), after reading the edit back. A file
    that cannot be edited safely is left alone, with what to add by hand."""
    names = ", ".join(moved[i] for i in sorted(moved))
    by_hand = f"add `backend: scheduler` to {names} in {path} yourself"
    if kind_of(path) == "jsonnet":
        sink.warn(f"{path}: ecsched does not rewrite Jsonnet (its output is computed); {by_hand}")
        return
    try:
        fe, _ = set_backend(path, set(moved))
    except EcschedError as e:
        sink.warn(f"{path}: cannot edit this file's layout ({e}); {by_hand}")
        return
    if not fe.changed:
        return
    if dry_run:
        sink.out(f"would edit {path}:")
        sink.out(fe.diff().rstrip("\n"))
        return
    try:
        fe.write()  # temp file + os.replace, mode kept
    except OSError as e:
        sink.warn(f"{path}: cannot write the edit ({e.strerror}); {by_hand}")
        return
    sink.out(f"edited {path}: backend: scheduler for {names}")

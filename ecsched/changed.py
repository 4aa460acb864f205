"""`--changed-since REF`: the rules whose resolved definition differs between git REF and the working tree.

The config files are read at REF with `git cat-file` into a temporary directory with the same relative
layout (Jsonnet libraries too), loaded and resolved to schedules offline with the same account and
region as the working tree, and compared rule by rule. Rules present at REF and gone now are reported
as deleted. Only the file is compared: drift made outside ecsched is not seen, which is why a nightly
full `ecsched diff --exit-code` belongs beside a PR check that uses this.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from ecsched.arns import Account
from ecsched.errors import EcschedError
from ecsched.model import Schedule

if TYPE_CHECKING:
    from ecsched.config import Config
    from ecsched.config.loader import ConfigFile
    from ecsched.sync.options import Sink, Source

# Files a Jsonnet config may import: brought along from REF.
JSONNET_LIBS = (".jsonnet", ".libsonnet")
MAX_FILE = 16 * 1024 * 1024  # a config bigger than this at REF is not a config


@dataclass
class Changes:
    ref: str
    changed: set[str]  # in the file now, and new or different since REF
    deleted: dict[str, Schedule] = field(default_factory=dict)  # at REF, gone from the file now
    fallback: str | None = None  # why every rule counts as changed (REF could not be resolved)


def compare(now: list[Schedule], before: list[Schedule]) -> tuple[set[str], dict[str, Schedule]]:
    """(names new or changed, schedules deleted). Ownership (trackingId) counts as part of a rule.
    `before` may leave out rules known to be unchanged, as long as `now` leaves them out too."""
    old = {s.name: s for s in before}
    changed = {s.name for s in now if s.name not in old or (s, s.tracking_id) != (old[s.name], old[s.name].tracking_id)}
    current = {s.name for s in now}
    return changed, {n: s for n, s in old.items() if n not in current}


def _git(top: str, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", top, *args], input=input, capture_output=True, check=False)
    except FileNotFoundError:
        raise EcschedError("--changed-since needs git, and git is not installed") from None


def toplevel(path: str) -> str:
    where = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(where):
        where = os.getcwd()
    r = _git(where, "rev-parse", "--show-toplevel")
    if r.returncode != 0:
        msg = r.stderr.decode(errors="replace").strip().splitlines()
        why = f" ({msg[-1]})" if msg and "not a git repository" not in msg[-1] else ""
        raise EcschedError(f"--changed-since needs a git repository: {where} is not in one{why}")
    return r.stdout.decode().strip()


def verify_ref(top: str, ref: str) -> str:
    """The commit REF names; a clear error when git does not know it."""
    if ref.startswith("-"):
        raise EcschedError(f"--changed-since: `{ref}` is not a git revision")
    r = _git(top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if r.returncode != 0:
        hint = ""
        if "/" in ref:
            remote, _, branch = ref.partition("/")
            hint = (f"; fetch it first (`git fetch {remote} {branch}`; a shallow CI checkout needs it, e.g. "
                    "actions/checkout with fetch-depth: 0)")
        raise EcschedError(f"--changed-since: unknown git revision `{ref}` in {top}{hint}")
    return r.stdout.decode().strip()


def _rel(top: str, path: str) -> str:
    rel = os.path.relpath(os.path.realpath(os.path.abspath(path)), os.path.realpath(top))
    if rel == ".." or rel.startswith(".." + os.sep):
        raise EcschedError(f"--changed-since: {path} is outside the git repository {top}")
    return PurePosixPath(*rel.split(os.sep)).as_posix()


def _tree(top: str, commit: str) -> list[str]:
    r = _git(top, "ls-tree", "-r", "-z", "--name-only", commit)
    if r.returncode != 0:
        raise EcschedError(f"--changed-since: git ls-tree failed: {r.stderr.decode(errors='replace').strip()}")
    return [p for p in r.stdout.decode("utf-8", "surrogateescape").split("\0") if p]


def _glob_match(path: str, pattern: str) -> bool:
    """glob semantics on repo paths: `*` stays within one directory level."""
    a, b = path.split("/"), pattern.split("/")
    return len(a) == len(b) and all(fnmatch.fnmatchcase(x, y) for x, y in zip(a, b, strict=True))


def _cat(top: str, commit: str, paths: list[str]) -> dict[str, bytes]:
    """The contents of `paths` at `commit`, in one git process; paths missing there are left out."""
    if not paths:
        return {}
    request = "".join(f"{commit}:{p}\n" for p in paths).encode("utf-8", "surrogateescape")
    r = _git(top, "cat-file", "--batch", input=request)
    if r.returncode != 0:
        raise EcschedError(f"--changed-since: git cat-file failed: {r.stderr.decode(errors='replace').strip()}")
    out: dict[str, bytes] = {}
    data, pos = r.stdout, 0
    for p in paths:
        end = data.index(b"\n", pos)
        header = data[pos:end].split()
        pos = end + 1
        if len(header) == 3 and header[1] == b"blob":
            size = int(header[2])
            if size <= MAX_FILE:
                out[p] = data[pos:pos + size]
            pos += size + 1
        elif len(header) == 3:  # a tree or other object: skip its contents
            pos += int(header[2]) + 1
    return out


def materialise(top: str, commit: str, patterns: list[str], dest: str) -> list[str]:
    """Write the config files (and Jsonnet libraries) at `commit` under `dest`; returns the config paths
    there, in the order the working tree would load them."""
    rels = [_rel(top, p) for p in patterns]
    tree: list[str] | None = None
    wanted: list[str] = []
    for rel in rels:
        if glob.has_magic(rel):
            tree = tree if tree is not None else _tree(top, commit)
            wanted += sorted(p for p in tree if _glob_match(p, rel) and p not in wanted)
        elif rel not in wanted:
            wanted.append(rel)
    extra: list[str] = []
    if any(p.endswith(JSONNET_LIBS) for p in wanted):
        tree = tree if tree is not None else _tree(top, commit)
        extra = [p for p in tree if p.endswith(JSONNET_LIBS) and p not in wanted]
    blobs = _cat(top, commit, wanted + extra)
    for rel, content in blobs.items():
        target = os.path.join(dest, *rel.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as f:
            f.write(content)
    return [os.path.join(dest, *rel.split("/")) for rel in wanted if rel in blobs]


def _rules(cfg: Config) -> dict[str, tuple[ConfigFile, int, Any]]:
    """name -> (file, index, the rule's raw data with its file's top-level settings)."""
    out: dict[str, tuple[ConfigFile, int, Any]] = {}
    for f in cfg.files:
        top = {k: v for k, v in f.data.items() if k != "rules"}
        for i, r in enumerate(f.data.get("rules") or []):
            if isinstance(r, dict) and isinstance(r.get("name"), str):
                out.setdefault(r["name"], (f, i, (r, top)))
    return out


def resolve_at_ref(current: Config, ref: Config, account: Account, region: str) -> tuple[set[str], list[Schedule]]:
    """(names whose raw definition is the same at REF, the REF schedules of all other names).

    A rule is resolved from its own data and its file's top-level settings only, so the same data
    resolves the same: only the others are resolved at REF, and compared by their resolved form.
    """
    from ecsched.config.build import build_rule

    now, before = _rules(current), _rules(ref)
    same = {n for n, (_f, _i, raw) in before.items() if n in now and now[n][2] == raw}
    out = []
    for name, (f, i, _raw) in before.items():
        if name not in same:
            f.locations = {}  # REF's lines are never shown: skip working them out
            out.append(build_rule(f, i, account, region))
    return same, out


def since(source: Source, sink: Sink, ref: str, now: list[Schedule], account: Account, region: str) -> Changes:
    """Compare the resolved working-tree schedules `now` with the config at `ref`."""
    patterns = source.paths
    top = toplevel(patterns[0])
    commit = verify_ref(top, ref)

    with tempfile.TemporaryDirectory(prefix="ecsched-ref-") as tmp:
        paths = materialise(top, commit, patterns, tmp)
        if not paths:
            return Changes(ref, {s.name for s in now})  # the config is new since REF: everything is
        try:
            cfg = source.load(paths)
            same, before = resolve_at_ref(source.config(), cfg, account, region)
        except Exception as e:  # an invalid config at REF: compare everything, as a full diff would
            why = str(e).splitlines()[0] if str(e) else type(e).__name__
            sink.warn(f"--changed-since {ref}: cannot resolve the config at {ref} ({why}); every rule counts as "
                     "changed")
            return Changes(ref, {s.name for s in now}, fallback=why)
    changed, deleted = compare([s for s in now if s.name not in same], before)
    return Changes(ref, changed, deleted)

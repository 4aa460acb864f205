"""A generated corpus of hostile and broken config inputs (issue 16 §6), and a way to measure one.

Each entry writes its input into a folder and names the `-c` argument. Nothing large is kept in the
repository: the files are made when a test (or `python -m tests.hostile`, which prints the table for
docs/reliability.md) asks for them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

RULE = "- {{name: r{i}, scheduleExpression: rate(1 day), taskDefinition: t}}\n"
HEAD = "region: us-east-1\ncluster: api\n"


def laughs(levels: int, width: int = 9) -> str:
    """The classic "billion laughs": each level a list of `width` aliases of the one before."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for n in range(1, levels + 1):
        lines.append(f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * width)}]")
    return "\n".join(lines) + "\nrules: []\n"


def merge_bomb(levels: int, width: int = 9) -> str:
    """The same with `<<:` merges: the result stays small, but each merge walks its sources again."""
    lines = ["m0: &m0 {k0: 1, k1: 1, k2: 1, k3: 1, k4: 1, k5: 1, k6: 1, k7: 1, k8: 1}"]
    for n in range(1, levels + 1):
        lines.append(f"m{n}: &m{n} {{<<: [{', '.join([f'*m{n - 1}'] * width)}]}}")
    return HEAD + "\n".join(lines) + f"\nrules:\n- name: a\n  scheduleExpression: rate(1 day)\n  taskDefinition: t\n" \
        f"  <<: *m{levels}\n"


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def many_rules(n: int) -> str:
    return HEAD + "rules:\n" + "".join(RULE.format(i=i) for i in range(n))


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Path], str]  # writes the input under the folder, returns the -c argument
    expect: str  # a piece of the one error message
    env: tuple[tuple[str, str], ...] = ()


def _file(name: str, text: Callable[[], str]) -> Callable[[Path], str]:
    """Writes the text (made only now: some are megabytes) once per folder."""
    def make(folder: Path) -> str:
        p = folder / name
        if not p.exists():
            p.write_text(text(), encoding="utf-8")
        return name

    return make


def _fifo(folder: Path) -> str:
    p = folder / "fifo.yaml"
    if not p.exists():
        os.mkfifo(p)
    return p.name


def _big(folder: Path) -> str:
    p = folder / "big.yaml"
    with open(p, "w", encoding="utf-8") as f:
        f.write(HEAD + "rules: []\n")
        f.write("# padding\n" * (1024 * 1024))  # 10 MiB: over the 8 MiB default
    return p.name


CASES = [
    Case("laughs-7.yaml", _file("laughs-7.yaml", lambda: laughs(7)), "alias bomb"),
    Case("laughs-9.yaml", _file("laughs-9.yaml", lambda: laughs(9)), "alias bomb"),
    Case("merge-7.yaml", _file("merge-7.yaml", lambda: merge_bomb(7)), "alias bomb"),
    Case("merge-9.yaml", _file("merge-9.yaml", lambda: merge_bomb(9)), "alias bomb"),
    Case("alias-cycle.yaml", _file("alias-cycle.yaml", lambda: "x: &x [*x]\nrules: []\n"), "a cycle"),
    Case("deep-100k.json", _file("deep-100k.json", lambda: nested(100_000)), "nested more than"),
    Case("deep-900.json", _file("deep-900.json", lambda: '{"rules": ' + nested(900) + "}"), "nested more than"),
    Case("deep-900.yaml", _file("deep-900.yaml", lambda: "rules: " + nested(900) + "\n"), "nested more than"),
    Case("deep-5000.yaml", _file("deep-5000.yaml", lambda: "rules: " + nested(5000) + "\n"), "nesting depth"),
    Case("/dev/zero", lambda folder: "/dev/zero", "is a character device"),
    Case("fifo", _fifo, "is a FIFO"),
    Case("10 MiB file", _big, "config files are read up to"),
    Case("110,000 rules", _file("rules-110k.yaml", lambda: many_rules(110_000)), "ecsched reads at most 5,000"),
    Case("110,000 rules, JSON", _file("rules-110k.json", lambda: json.dumps(
        {"cluster": "api", "rules": [{"name": f"r{i}", "scheduleExpression": "rate(1 day)", "taskDefinition": "t"}
                                     for i in range(110_000)]}, separators=(",", ":"))),
         "ecsched reads at most 5,000"),
    Case("400,000 short values", _file("values.yaml", lambda: "x-list: [" + "1," * 400_000 + "1]\nrules: []\n"),
         "values: ecsched reads at most"),
]

# Runs ecsched in a child, then prints its own peak RSS (kB) on the last line of stderr: VmHWM, which
# starts afresh at exec (ru_maxrss would carry over the size of the process that forked it).
_MEASURED = """
import resource, sys
from ecsched.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as e:
    code = e.code
sys.stdout.flush()
try:
    hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
except (OSError, StopIteration):
    hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"\\nmaxrss_kb={hwm}", file=sys.stderr)
sys.exit(code)
"""


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str
    seconds: float
    max_rss_mb: float


def run(case: Case, folder: Path, *, timeout: float = 120) -> Outcome:
    arg = case.make(folder)
    env = {**os.environ, **dict(case.env), "NO_COLOR": "1"}
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", _MEASURED, "-c", arg, "validate"], cwd=folder, env=env,
                       capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    seconds = time.perf_counter() - t0
    err, _, rss = r.stderr.rpartition("maxrss_kb=")
    return Outcome(r.returncode, r.stdout, err, seconds, int(rss.strip() or 0) / 1024)


def main() -> None:
    import tempfile

    print("| input | size | exit | wall s | peak RSS MB | message |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for case in CASES:
            o = run(case, folder)
            arg = case.make(folder)
            p = folder / arg
            size = f"{p.stat().st_size:,} B" if p.is_file() else "-"
            message = (o.out.strip().splitlines() or o.err.strip().splitlines() or [""])[0]
            print(f"| {case.name} | {size} | {o.code} | {o.seconds:.2f} | {o.max_rss_mb:.0f} | "
                  f"{json.dumps(message[:150])[1:-1]} |")


if __name__ == "__main__":
    main()

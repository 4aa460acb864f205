"""The contender's command in the overlap tests: when it starts, which processes of the first copy still run?

usage: second.py DIR   writes DIR/second (line 1: its start, wall-clock ns; then the pids still alive)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


def alive(pid: int) -> bool:
    """Running (not a zombie) and still a copy: not a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z" and b"batch.py" in cmdline


def main() -> None:
    start = time.time_ns()
    folder = Path(sys.argv[1])
    pids = [int(p.name.split(".")[1]) for p in folder.glob("pid.*")]
    running = [str(pid) for pid in pids if alive(pid)]
    (folder / "second").write_text("\n".join([str(start), *running]) + "\n")


if __name__ == "__main__":
    main()

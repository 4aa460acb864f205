"""One copy of a batch, for the overlap tests: it records its pid, then ticks (wall-clock ns) until killed.

usage: batch.py DIR [--ignore-term] [--flood-stderr]
- DIR/pid.<pid> says it started; DIR/ticks.<pid> gets a line every 10 ms while it runs;
- --ignore-term: SIGTERM does nothing (only SIGKILL stops it);
- --flood-stderr: a thread writes to stderr until the pipe is full and blocks there, as a stalled log
  driver would; the main thread keeps ticking.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path


def flood() -> None:
    chunk = b"x" * 65536
    while True:
        os.write(2, chunk)


def main() -> None:
    folder, flags = Path(sys.argv[1]), set(sys.argv[2:])
    if "--ignore-term" in flags:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    ticks = open(folder / f"ticks.{os.getpid()}", "a")  # noqa: SIM115 - written until killed
    ticks.write(f"{time.time_ns()}\n")
    ticks.flush()
    (folder / f"pid.{os.getpid()}").write_text("")
    if "--flood-stderr" in flags:
        threading.Thread(target=flood, daemon=True).start()
    while True:
        time.sleep(0.01)
        ticks.write(f"{time.time_ns()}\n")
        ticks.flush()


if __name__ == "__main__":
    main()

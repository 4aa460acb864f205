"""Child for the terminal test: counts SIGINTs; after the first, waits a moment for a duplicate, then
exits with the count. usage: count_signals.py READY_FILE"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

count = 0


def on_int(signum: int, frame: object) -> None:
    global count
    count += 1


signal.signal(signal.SIGINT, on_int)
Path(sys.argv[1]).write_text("ready")
while count == 0:
    time.sleep(0.01)
time.sleep(1)  # a forwarded duplicate would arrive within milliseconds
sys.exit(count)

"""Runs a command as a shell runs a job: in a process group of its own, in this session. Its group is
then not orphaned, so SIGTSTP (Ctrl-Z) stops it; a process whose parent is in another session would
ignore it. usage: job.py PID_FILE COMMAND... ; exits with the command's code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

job = subprocess.Popen(sys.argv[2:], process_group=0)
Path(sys.argv[1]).write_text(str(job.pid))
code = job.wait()
sys.exit(code if code >= 0 else 128 - code)

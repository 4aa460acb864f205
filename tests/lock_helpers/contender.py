"""One contender of the concurrency test: `rounds` calls of `ecsched lock`, each at a shared wall-clock
instant so that all contenders race for the same lease in the same round.

In-process `ecsched.cli.main` keeps 300 attempts cheap: no interpreter start, and botocore's data files
are parsed once per contender instead of once per attempt (one shared botocore session). Every attempt is
still a full `ecsched lock` run (its own Context, client, lease and real child process).

usage: contender.py TABLE KEY LOG CONTENDER_ID START_AT PERIOD ROUNDS
Prints one JSON list: the exit code of each round.
"""

from __future__ import annotations

import json
import sys
import time

import boto3
import botocore.session

from ecsched.cli import main

_shared = botocore.session.get_session()
_Session = boto3.Session


def _session(*args: object, **kwargs: object) -> boto3.Session:
    kwargs.setdefault("botocore_session", _shared)
    return _Session(*args, **kwargs)  # type: ignore[arg-type]


boto3.Session = _session  # type: ignore[assignment,misc]

# The child records when it ran; `$2` is "<contender>-<round>", so intervals pair up without pids.
CHILD = 'echo "S $(date +%s%N) $2" >> "$1"; sleep 0.01; echo "E $(date +%s%N) $2" >> "$1"'


def contend() -> None:
    table, key, log, cid = sys.argv[1:5]
    start_at, period, rounds = float(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7])
    codes = []
    for r in range(rounds):
        delay = start_at + r * period - time.time()
        if delay > 0:
            time.sleep(delay)
        codes.append(main(["lock", "--table", table, "--key", key, "--lease", "5s", "--",
                           "sh", "-c", CHILD, "sh", log, f"{cid}-{r}"]))
    print(json.dumps(codes))


if __name__ == "__main__":
    contend()

"""One contender of the `hold()` race: ROUNDS times, hold the lease and record the interval it held it.

usage: holder.py TABLE KEY LOG ID ROUNDS   (lines "S <ns> <id>-<round>" and "E <ns> <id>-<round>")
Prints how many rounds had to wait for the other holder.
"""

from __future__ import annotations

import sys
import time

from ecsched.aws import Aws
from ecsched.lock import hold


def main() -> None:
    table, key, log, ident, rounds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
    aws = Aws(region="us-east-1")
    waits = []
    for r in range(rounds):
        with hold(aws, table, key, wait_timeout=60, lease=2, poll=0.05, what="apply", on_wait=waits.append), \
                open(log, "a") as f:
            f.write(f"S {time.time_ns()} {ident}-{r}\n")
            f.flush()
            time.sleep(0.05)
            f.write(f"E {time.time_ns()} {ident}-{r}\n")
    print(len(waits))


if __name__ == "__main__":
    main()

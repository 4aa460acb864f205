"""ecschedule's diff call pattern, reproduced with boto3 (the Go tool cannot be built here).

1 sts:GetCallerIdentity, then for each rule, one after another: ListRules(NamePrefix=name) and
ListTargetsByRule(Rule=name). Prints JSON: the seconds spent in calls (client set-up excluded, as a Go
binary starts in milliseconds) and the call count.

Run by bench/bench_scale.py: python bench/ecschedule_pattern.py NAMES_FILE
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    import boto3

    with open(sys.argv[1], encoding="utf-8") as f:
        names = [line.strip() for line in f if line.strip()]
    session = boto3.Session()
    sts, events = session.client("sts"), session.client("events")
    calls = 0
    t0 = time.perf_counter()
    sts.get_caller_identity()
    calls += 1
    for name in names:
        events.list_rules(NamePrefix=name)
        events.list_targets_by_rule(Rule=name)
        calls += 2
    print(json.dumps({"seconds": time.perf_counter() - t0, "calls": calls}))


if __name__ == "__main__":
    main()

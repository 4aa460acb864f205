"""Timings for ecsched.expressions (prints numbers; tests never assert timings).

Run: python3 bench/bench_expressions.py
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime

from ecsched import expressions
from ecsched.expressions import parse, to_utc_cron


def _distinct_crons(n: int) -> list[str]:
    rng = random.Random(42)
    out: set[str] = set()
    days = ["* * ?", "? * MON-FRI", "1 * ?", "L * ?", "15W * ?", "? * 2#1", "? * 6L", "1,15 JAN-JUN ?"]
    while len(out) < n:
        minute = rng.choice([str(rng.randint(0, 59)), f"0/{rng.randint(1, 30)}", "*"])
        hour = rng.choice([str(rng.randint(0, 23)), f"{rng.randint(0, 11)}-{rng.randint(12, 23)}", "*"])
        dom, month, dow = rng.choice(days).split()
        out.add(f"cron({minute} {hour} {dom} {month} {dow} *)")
    return sorted(out)


def _clear_caches() -> None:
    for fn in (expressions._parse, expressions._compile_fields, expressions._plain, expressions._dom):
        fn.cache_clear()
    expressions._dow.cache_clear()


def _best(fn: object, repeat: int = 5) -> float:
    assert callable(fn)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    texts = _distinct_crons(1000)

    def cold() -> None:
        _clear_caches()
        for t in texts:
            parse(t)

    def warm() -> None:
        for t in texts:
            parse(t)

    print(f"parse 1,000 distinct crons, cold caches: {_best(cold) * 1e3:.2f} ms")
    warm()
    print(f"parse 1,000 crons, already seen:         {_best(warm) * 1e3:.2f} ms")

    after = datetime(2026, 1, 1, tzinfo=UTC)
    cases = [
        ("cron(0/5 8-17 ? * MON-FRI *)", "UTC"),
        ("cron(0 9 ? * 2#1 *)", "UTC"),
        ("cron(* * * * ? *)", "America/New_York"),
        ("cron(0 12 29 2 ? *)", "UTC"),
        ("cron(0 9 ? * MON-FRI *)", "Asia/Tokyo"),
    ]
    for text, tz in cases:
        expr = parse(text)
        n = 100 if "29 2" in text else 500
        secs = _best(lambda expr=expr, n=n, tz=tz: expr.next_fire_times(n, after=after, tz=tz))
        print(f"next_fire_times({n}) {text} in {tz}: {secs * 1e3:.2f} ms")

    expr = parse("cron(0 0 29 2 ? *)")
    secs = _best(lambda: expr.next_fire_times(1, after=datetime(2097, 3, 1, tzinfo=UTC)))
    print(f"next Feb 29 after 2097-03-01 (skips 2100): {secs * 1e6:.0f} us")

    local = parse("cron(0 8 ? * MON-FRI *)")
    secs = _best(lambda: to_utc_cron(local, "Asia/Tokyo"))
    print(f"to_utc_cron Asia/Tokyo: {secs * 1e6:.0f} us")


if __name__ == "__main__":
    main()

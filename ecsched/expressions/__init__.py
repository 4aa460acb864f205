"""Schedule expressions of EventBridge rules and EventBridge Scheduler.

Parses and validates `cron()`, `rate()` and `at()`, computes fire times, describes them in words and
moves a local-time cron to UTC for rules. AWS validates these only when a rule is applied (moto never
does), so every documented rule is enforced here, with messages that name the field.

Semantics follow the AWS cron (a Quartz dialect): 6 fields, day-of-week 1-7 = SUN-SAT, `L`, `W`, `#`,
ranges that wrap around (`FRI-MON`, `22-2`) except in year.

Time zones (EventBridge Scheduler): cron fields are local wall-clock time. A local time that does not
exist (spring forward) is skipped; a local time that happens twice (fall back) fires once, at its first
occurrence. This is what AWS documents for Scheduler ("the invocation gets skipped" / "runs only once").
"""

from ecsched.expressions.expression import Expression, _parse, parse
from ecsched.expressions.fields import ExpressionError, _compile_fields, _dom, _dow, _plain
from ecsched.expressions.timezone import to_utc_cron

# The underscored names are the parse caches that bench/bench_expressions.py clears.
__all__ = ["Expression", "ExpressionError", "_compile_fields", "_dom", "_dow", "_parse", "_plain", "parse",
           "to_utc_cron"]

"""The engine behind diff and apply, free of the CLI: typed options in, a plan and results out.

    opts = SyncOptions(rules=("report-*",), prune=False)
    planned = compute(source, opts, sink)              # read, then plan
    planned, results = apply(source, opts, sink)       # plan each rule as it is read, and write it

Modules: `options` (what it is given), `scope` (what one run reads), `early` (the read started before the
config is validated), `read` (per-rule reads that survive one failure), `engine` (the loop, compute, apply),
`lease` (one apply at a time per trackingId and region).
"""

from ecsched.sync.engine import ApplyInterrupted, Planned, Result, apply, compute
from ecsched.sync.options import Sink, Source, SyncOptions
from ecsched.sync.read import Unread

__all__ = ["ApplyInterrupted", "Planned", "Result", "Sink", "Source", "SyncOptions", "Unread", "apply", "compute"]

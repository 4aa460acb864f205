"""Views of a plan (not to be confused with `ecsched render`, which prints the config, or with
`config.template`, which expands templates): text, markdown (the PR comment) and JSON.

- `when`: when a schedule fires, in words and times, in the file's zone;
- `text`: headlines and a unified diff per rule (colour through ecsched.term);
- `markdown`: the pull-request comment, within GitHub's limit;
- `data`: `--format json`.
"""

from ecsched.planview.data import as_json
from ecsched.planview.markdown import GITHUB_LIMIT, MARKER, markdown, marker
from ecsched.planview.text import headline, prepare, reason, summary, text, unified
from ecsched.planview.when import describe, next_times, schedule_line

__all__ = ["GITHUB_LIMIT", "MARKER", "as_json", "describe", "headline", "markdown", "marker", "next_times",
           "prepare", "reason", "schedule_line", "summary", "text", "unified"]

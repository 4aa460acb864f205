"""`ecsched comment`: post the plan (markdown) as one pull-request comment, updated in place on each run.

For GitHub Actions: the token, repository and PR number come from the environment (see ecsched.github).
With --body-file it posts that text (what `diff --format markdown` wrote); otherwise it computes the plan.
"""

from __future__ import annotations

import argparse
import sys

from ecsched.commands._common import add_selection, sync_options
from ecsched.context import Context
from ecsched.errors import EcschedError

HELP = "post or update the plan as one pull-request comment (GitHub Actions)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_selection(p)
    p.add_argument("--body-file", metavar="FILE",
                   help="post this markdown (`-`: stdin) instead of computing the plan, e.g. the output of "
                        "`ecsched diff --format markdown`")
    p.add_argument("--key", metavar="TEXT",
                   help="tells apart several ecsched comments on one PR (one per config, say); default: one")
    p.add_argument("--pr", type=int, metavar="NUMBER", help="the pull request (default: from GITHUB_EVENT_PATH)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ecsched import github, planview

    target = github.target_from_env(number=args.pr)  # fail on a missing token before reading AWS
    if args.body_file:
        body = _read(args.body_file)
    else:
        from ecsched import sync
        from ecsched.report import Report

        planned = sync.compute(ctx.source(), sync_options(args), ctx)
        if planned.unread:  # an incomplete plan would read as "these are all the changes"
            report = Report("Read").skip_all(planned.unread)
            report.print_to(ctx)
            return report.exit_code
        body = planview.markdown(planned.plan, key=args.key)
    posted = github.upsert_comment(body, planview.marker(args.key), target)
    ctx.info(f"{posted.action} the plan comment on {target.repo}#{target.number}"
             + (f": {posted.url}" if posted.url else ""))
    return 0


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise EcschedError(f"--body-file {path}: {e.strerror}") from None
    if not text.strip():
        raise EcschedError(f"--body-file {path} is empty: nothing to post (did the command before it fail?)")
    return text

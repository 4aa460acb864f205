"""Post the plan as one pull-request comment, updated in place on every push (GitHub Actions).

The comment is found again by a hidden marker line (`planview.marker`). Everything comes from the
environment GitHub Actions sets: GITHUB_TOKEN, GITHUB_REPOSITORY (owner/name), GITHUB_EVENT_PATH (the
event JSON, for the PR number) and GITHUB_API_URL (GitHub Enterprise Server too). Standard library only.

REST calls: GET /repos/{repo}/issues/{n}/comments (paginated through the Link header),
POST /repos/{repo}/issues/{n}/comments, PATCH /repos/{repo}/issues/comments/{id}.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ecsched.errors import EcschedError

DEFAULT_API = "https://api.github.com"
LIMIT = 65536
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
_ANY_MARKER = re.compile(r"\A<!-- ecsched:plan(?::[^>]*)? -->\n?")


@dataclass(frozen=True)
class Target:
    api: str
    repo: str
    number: int
    token: str


@dataclass(frozen=True)
class Posted:
    action: str  # "created", "updated" or "unchanged"
    id: int
    url: str


def target_from_env(env: Mapping[str, str] | None = None, number: int | None = None) -> Target:
    """Where to comment, from GitHub Actions' environment. One clear error for what is missing."""
    env = os.environ if env is None else env
    token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN")
    if not token:
        raise EcschedError("GITHUB_TOKEN is not set: pass it to the step (`env: GITHUB_TOKEN: "
                           "${{ github.token }}`) and give the job `permissions: pull-requests: write`")
    repo = env.get("GITHUB_REPOSITORY", "")
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo):
        raise EcschedError("GITHUB_REPOSITORY is not set to owner/name: run this in GitHub Actions, or set it")
    if number is None:
        number = pr_number(env.get("GITHUB_EVENT_PATH"))
    api = (env.get("GITHUB_API_URL") or DEFAULT_API).rstrip("/")
    return Target(api=api, repo=repo, number=number, token=token)


def pr_number(event_path: str | None) -> int:
    if not event_path:
        raise EcschedError("GITHUB_EVENT_PATH is not set: run this in GitHub Actions on a pull_request event, "
                           "or pass --pr NUMBER")
    try:
        with open(event_path, encoding="utf-8") as f:
            event = json.load(f)
    except (OSError, ValueError) as e:
        raise EcschedError(f"cannot read the event file {event_path}: {e}") from None
    for key in ("pull_request", "issue"):
        number = (event.get(key) or {}).get("number") if isinstance(event, dict) else None
        if isinstance(number, int):
            return number
    number = event.get("number") if isinstance(event, dict) else None
    if isinstance(number, int):
        return number
    raise EcschedError(f"{event_path}: not a pull-request event (no pull_request.number); comment only on "
                       "pull_request runs (`if: github.event_name == 'pull_request'`)")


def with_marker(body: str, marker: str) -> str:
    """`body` starting with exactly `marker`, replacing any ecsched marker it had."""
    return marker + "\n" + _ANY_MARKER.sub("", body, count=1)


def fit(body: str, limit: int = LIMIT) -> str:
    """A last guard for bodies not made by planview.markdown (an error log): cut, and say so."""
    if len(body) <= limit:
        return body
    note = "\n\n_Cut to fit GitHub's comment limit; the full text is in the job log._\n"
    cut = body[: limit - len(note) - 8]
    if cut.count("```") % 2:
        cut += "\n```"
    return cut + note


class _Client:
    def __init__(self, target: Target, timeout: float = 30.0) -> None:
        self.t = target
        self.timeout = timeout

    def call(self, method: str, url: str, payload: Any = None) -> tuple[Any, Mapping[str, str]]:
        if not url.startswith(("http://", "https://")):
            url = self.t.api + url
        data = json.dumps(payload).encode() if payload is not None else None
        req = urllib.request.Request(url, data=data, method=method, headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self.t.token}",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "ecsched",
            **({"Content-Type": "application/json"} if data is not None else {}),
        })
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
                return (json.loads(raw) if raw else None), resp.headers
        except urllib.error.HTTPError as e:
            raise EcschedError(_http_error(method, url, e)) from None
        except urllib.error.URLError as e:
            raise EcschedError(f"cannot reach the GitHub API at {self.t.api}: {e.reason}") from None

    def comments(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        url: str | None = f"/repos/{self.t.repo}/issues/{self.t.number}/comments?per_page=100"
        while url:
            page, headers = self.call("GET", url)
            out += page or []
            m = _NEXT.search(headers.get("Link") or "")
            url = m.group(1) if m else None
        return out


def _http_error(method: str, url: str, e: urllib.error.HTTPError) -> str:
    try:
        detail = json.loads(e.read() or b"{}").get("message", "")
    except (ValueError, AttributeError):
        detail = ""
    what = f"GitHub API {method} {url.split('?')[0]} failed: HTTP {e.code}" + (f": {detail}" if detail else "")
    if e.code in (401, 403):
        what += (" (the token cannot write PR comments: give the job `permissions: pull-requests: write`; on "
                 "pull requests from forks GITHUB_TOKEN is read-only)")
    elif e.code == 404:
        what += " (no such repository or pull request, or the token cannot see it)"
    elif e.code == 422:
        what += " (GitHub refused the comment body)"
    return what


def _author(comment: dict[str, Any]) -> tuple[str | None, str | None]:
    user = comment.get("user")
    if not isinstance(user, dict):
        return None, None
    login, kind = user.get("login"), user.get("type")
    return (str(login) if login else None), (str(kind) if kind else None)


def _own_login(client: _Client) -> str | None:
    """The token's own login, or None when GET /user is not allowed (an app installation token)."""
    try:
        me, _ = client.call("GET", "/user")
    except EcschedError:
        return None
    login = me.get("login") if isinstance(me, dict) else None
    return str(login) if login else None


def upsert_comment(body: str, marker: str, target: Target) -> Posted:
    """Create the PR comment carrying `marker`, or update it in place; no call when it is unchanged."""
    body = fit(with_marker(body, marker))
    client = _Client(target)
    marked = [c for c in client.comments() if str(c.get("body") or "").startswith(marker)]
    mine = [c for c in marked if _author(c)[1] == "Bot"]  # GITHUB_TOKEN: github-actions[bot]
    if not mine and marked:  # a personal token: its own login; someone else's comment is never edited
        login = _own_login(client)
        mine = [c for c in marked if login is not None and _author(c)[0] == login]
    if mine:
        existing = mine[0]  # the oldest: the one reviewers have seen
        if existing.get("body") == body:
            return Posted("unchanged", int(existing["id"]), str(existing.get("html_url", "")))
        updated, _ = client.call("PATCH", f"/repos/{target.repo}/issues/comments/{existing['id']}", {"body": body})
        return Posted("updated", int(updated["id"]), str(updated.get("html_url", "")))
    created, _ = client.call("POST", f"/repos/{target.repo}/issues/{target.number}/comments", {"body": body})
    return Posted("created", int(created["id"]), str(created.get("html_url", "")))

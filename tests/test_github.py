"""The PR comment upsert, against a local HTTP server implementing the GitHub REST endpoints it calls."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from ecsched import github
from ecsched import planview as render
from ecsched.errors import EcschedError
from tests.conftest import Result

TOKEN = "ghs_test"
REPO = "acme/batches"
PR = 7


@dataclass
class FakeGitHub:
    url: str = ""
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # PR -> comments, oldest first
    requests: list[tuple[str, str]] = field(default_factory=list)
    fail: int | None = None  # answer every request with this status
    next_id: int = 1000
    # Who the token is: GITHUB_TOKEN comments as the Actions bot (and cannot GET /user).
    me: dict[str, str] = field(default_factory=lambda: {"login": "github-actions[bot]", "type": "Bot"})

    def add(self, pr: int, body: str, user: dict[str, str] | None = None) -> dict[str, Any]:
        self.next_id += 1
        c = {"id": self.next_id, "body": body, "html_url": f"https://github.test/{REPO}/pull/{pr}#c{self.next_id}",
             "user": dict(user or self.me)}
        self.comments.setdefault(pr, []).append(c)
        return c


def _handler(gh: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw)

        def _route(self, method: str) -> None:
            u = urlparse(self.path)
            gh.requests.append((method, u.path + (f"?{u.query}" if u.query else "")))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._send(401, {"message": "Bad credentials"})
            if gh.fail:
                return self._send(gh.fail, {"message": "Resource not accessible by integration"})
            parts = u.path.strip("/").split("/")
            if parts == ["user"] and method == "GET":
                if gh.me["type"] == "Bot":
                    return self._send(403, {"message": "Resource not accessible by integration"})
                return self._send(200, gh.me)
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
            # /repos/{o}/{r}/issues/{n}/comments
            if len(parts) == 6 and parts[:3] == ["repos", *REPO.split("/")] and parts[3] == "issues" \
                    and parts[5] == "comments":
                pr = int(parts[4])
                if method == "GET":
                    q = parse_qs(u.query)
                    per, page = int(q.get("per_page", ["30"])[0]), int(q.get("page", ["1"])[0])
                    items = gh.comments.get(pr, [])
                    chunk = items[(page - 1) * per: page * per]
                    headers = {}
                    if page * per < len(items):
                        headers["Link"] = (f'<{gh.url}{u.path}?per_page={per}&page={page + 1}>; rel="next", '
                                           f'<{gh.url}{u.path}?per_page={per}&page=99>; rel="last"')
                    return self._send(200, chunk, headers)
                if method == "POST":
                    return self._send(201, gh.add(pr, body["body"]))
            # /repos/{o}/{r}/issues/comments/{id}
            if len(parts) == 6 and parts[3:5] == ["issues", "comments"] and method == "PATCH":
                for items in gh.comments.values():
                    for c in items:
                        if c["id"] == int(parts[5]):
                            c["body"] = body["body"]
                            return self._send(200, c)
            return self._send(404, {"message": "Not Found"})

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def do_PATCH(self) -> None:
            self._route("PATCH")

    return Handler


@pytest.fixture
def gh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "synchronize", "number": PR, "pull_request": {"number": PR}}))
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv("GITHUB_API_URL", fake.url)
    yield fake
    server.shutdown()
    server.server_close()


def writes(gh: FakeGitHub) -> list[tuple[str, str]]:
    return [r for r in gh.requests if r[0] != "GET"]


def test_created_once_then_updated_in_place(gh: FakeGitHub) -> None:
    gh.add(PR, "LGTM")
    target = github.target_from_env()
    first = github.upsert_comment("plan v1", render.marker(), target)
    assert first.action == "created"
    second = github.upsert_comment("plan v2", render.marker(), target)
    assert (second.action, second.id) == ("updated", first.id)
    assert [c["body"] for c in gh.comments[PR]] == ["LGTM", "<!-- ecsched:plan -->\nplan v2"]
    assert writes(gh) == [("POST", f"/repos/{REPO}/issues/{PR}/comments"),
                          ("PATCH", f"/repos/{REPO}/issues/comments/{first.id}")]


def test_unchanged_body_makes_no_write(gh: FakeGitHub) -> None:
    target = github.target_from_env()
    github.upsert_comment("same", render.marker(), target)
    assert github.upsert_comment("same", render.marker(), target).action == "unchanged"
    assert len(writes(gh)) == 1


def test_markdown_from_render_keeps_its_single_marker(gh: FakeGitHub) -> None:
    md = "<!-- ecsched:plan -->\n### ecsched plan\n\nNo changes: AWS matches the file.\n"
    github.upsert_comment(md, render.marker("prod.yaml"), github.target_from_env())
    (c,) = gh.comments[PR]
    assert c["body"] == md.replace("<!-- ecsched:plan -->", "<!-- ecsched:plan:prod.yaml -->")


def test_the_comment_is_found_on_a_later_page(gh: FakeGitHub) -> None:
    for i in range(120):
        gh.add(PR, f"chatter {i}")
    mine = gh.add(PR, render.marker() + "\nold plan")
    for i in range(100):
        gh.add(PR, f"more chatter {i}")
    posted = github.upsert_comment("new plan", render.marker(), github.target_from_env())
    assert (posted.action, posted.id) == ("updated", mine["id"])
    pages = [p for m, p in gh.requests if m == "GET"]
    assert pages == [f"/repos/{REPO}/issues/{PR}/comments?per_page=100",
                     f"/repos/{REPO}/issues/{PR}/comments?per_page=100&page=2",
                     f"/repos/{REPO}/issues/{PR}/comments?per_page=100&page=3"]
    assert len(gh.comments[PR]) == 221


HUMAN = {"login": "alice", "type": "User"}


def test_a_marker_comment_someone_else_wrote_is_left_alone(gh: FakeGitHub) -> None:
    # A person quoting the plan (marker and all) in their own comment: never edited, a new one is made.
    theirs = gh.add(PR, render.marker() + "\nwhy does this plan delete the rule?", user=HUMAN)
    target = github.target_from_env()
    first = github.upsert_comment("plan v1", render.marker(), target)
    assert first.action == "created" and first.id != theirs["id"]
    second = github.upsert_comment("plan v2", render.marker(), target)
    assert (second.action, second.id) == ("updated", first.id)
    assert gh.comments[PR][0]["body"].endswith("why does this plan delete the rule?")
    assert ("PATCH", f"/repos/{REPO}/issues/comments/{theirs['id']}") not in writes(gh)


def test_a_personal_token_finds_its_own_comment_by_login(gh: FakeGitHub) -> None:
    gh.me = {"login": "ci-user", "type": "User"}
    gh.add(PR, render.marker() + "\nquoted by alice", user=HUMAN)
    target = github.target_from_env()
    first = github.upsert_comment("plan v1", render.marker(), target)
    second = github.upsert_comment("plan v2", render.marker(), target)
    assert (first.action, second.action, second.id) == ("created", "updated", first.id)
    assert [c["body"].split("\n")[1] for c in gh.comments[PR]] == ["quoted by alice", "plan v2"]


def test_keys_keep_separate_comments(gh: FakeGitHub) -> None:
    target = github.target_from_env()
    github.upsert_comment("staging", render.marker("staging.yaml"), target)
    github.upsert_comment("prod", render.marker("prod.yaml"), target)
    github.upsert_comment("staging 2", render.marker("staging.yaml"), target)
    assert [c["body"].split("\n")[1] for c in gh.comments[PR]] == ["staging 2", "prod"]
    unkeyed = github.upsert_comment("plain", render.marker(), target)
    assert unkeyed.action == "created"


def test_forbidden_says_which_permission(gh: FakeGitHub) -> None:
    gh.fail = 403
    with pytest.raises(EcschedError) as e:
        github.upsert_comment("x", render.marker(), github.target_from_env())
    assert "HTTP 403: Resource not accessible by integration" in str(e.value)
    assert "permissions: pull-requests: write" in str(e.value)


def test_bad_token_is_an_error(gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "wrong")
    with pytest.raises(EcschedError, match="HTTP 401: Bad credentials"):
        github.upsert_comment("x", render.marker(), github.target_from_env())


def test_environment_problems_are_one_clear_message(tmp_path: Path) -> None:
    with pytest.raises(EcschedError, match="GITHUB_TOKEN is not set"):
        github.target_from_env({})
    with pytest.raises(EcschedError, match="GITHUB_REPOSITORY"):
        github.target_from_env({"GITHUB_TOKEN": "t"})
    push = tmp_path / "push.json"
    push.write_text(json.dumps({"ref": "refs/heads/main"}))
    with pytest.raises(EcschedError, match="not a pull-request event"):
        github.target_from_env({"GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": REPO, "GITHUB_EVENT_PATH": str(push)})
    t = github.target_from_env({"GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": REPO}, number=3)
    assert (t.api, t.number) == ("https://api.github.com", 3)


def test_oversized_body_is_cut_with_a_note() -> None:
    body = "```\n" + "x" * 100_000
    cut = github.fit(body)
    assert len(cut) <= github.LIMIT and cut.count("```") % 2 == 0 and "Cut to fit" in cut


# --- the command ---------------------------------------------------------------------------------


def test_comment_command_posts_a_body_file(gh: FakeGitHub, cli: Callable[..., Result], tmp_path: Path) -> None:
    plan = tmp_path / "plan.md"
    plan.write_text("<!-- ecsched:plan -->\n### ecsched plan\n\nPlan: 1 to create\n")
    r = cli("comment", "--body-file", str(plan), "--key", "ecsched.yaml")
    assert r.code == 0, r.err
    assert f"created the plan comment on {REPO}#{PR}" in r.err
    (c,) = gh.comments[PR]
    assert c["body"].startswith("<!-- ecsched:plan:ecsched.yaml -->\n### ecsched plan")


def test_comment_command_errors_cleanly(gh: FakeGitHub, cli: Callable[..., Result], tmp_path: Path) -> None:
    gh.fail = 403
    plan = tmp_path / "plan.md"
    plan.write_text("x")
    r = cli("comment", "--body-file", str(plan))
    assert r.code == 1 and "pull-requests: write" in r.err and "Traceback" not in r.err
    empty = tmp_path / "empty.md"
    empty.write_text("")
    gh.fail = None
    r = cli("comment", "--body-file", str(empty))
    assert r.code == 1 and "is empty" in r.err and gh.comments == {}


def test_comment_command_computes_the_plan(aws: str, gh: FakeGitHub, cli: Callable[..., Result],
                                           tmp_path: Path) -> None:
    cfg = tmp_path / "ecsched.yaml"
    cfg.write_text("region: us-east-1\ncluster: api\nrole: ecsEventsRole\nrules:\n- name: report\n"
                   "  scheduleExpression: cron(30 18 * * ? *)\n  taskDefinition: task1\n  disabled: true\n")
    r = cli("-c", str(cfg), "comment")
    assert r.code == 0, r.err
    (c,) = gh.comments[PR]
    assert c["body"].startswith("<!-- ecsched:plan -->\n### ecsched plan")
    assert "**⏸ Pausing 1 batch**: `report`" in c["body"]


# --- the composite action's script, run as GitHub Actions would run it -----------------------------


def run_action(tmp_path: Path, gh: FakeGitHub, *, event: str, command: str = "diff", config: str = "ecsched.yaml",
               args: str = "", comment: str = "true") -> tuple[int, str, dict[str, str], str]:
    """The `run` step of action.yml under bash, with ecsched from this checkout standing in for the venv
    the install step makes. Returns (exit code, log, step outputs, job summary)."""
    import os
    import shutil
    import subprocess
    import sys

    import yaml

    action = yaml.safe_load((Path(__file__).resolve().parents[1] / "action.yml").read_text())
    (step,) = [s for s in action["runs"]["steps"] if s.get("id") == "run"]
    temp = tmp_path / "runner"
    venv_bin = temp / "ecsched-venv" / "bin"
    venv_bin.mkdir(parents=True, exist_ok=True)
    for name, target in (("ecsched", shutil.which("ecsched")), ("python", sys.executable)):
        link = venv_bin / name
        if not link.exists():
            link.symlink_to(str(target))
    out, summary = tmp_path / "output", tmp_path / "summary"
    out.write_text("")
    summary.write_text("")
    # The step's own `env:` block, its expressions given the values GitHub would: what the step declares is
    # all it gets (the token in particular, which the test process has in GITHUB_TOKEN).
    values = {"inputs.config": config, "inputs.command": command, "inputs.comment": comment, "inputs.args": args,
              "github.event_name": event, "inputs.github-token": TOKEN}
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GH_TOKEN")}
    env.update({"RUNNER_TEMP": str(temp), "GITHUB_OUTPUT": str(out), "GITHUB_STEP_SUMMARY": str(summary)})
    for name, expr in step["env"].items():
        env[name] = values[str(expr).removeprefix("${{").removesuffix("}}").strip()]
    p = subprocess.run(["bash", "-c", step["run"]], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=300)
    outputs = dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line)
    return p.returncode, p.stdout + p.stderr, outputs, summary.read_text()


PLAN_CONFIG = ("region: us-east-1\ncluster: api\nrole: ecsEventsRole\nrules:\n- name: report\n"
               "  scheduleExpression: cron(30 18 * * ? *)\n  taskDefinition: task1\n")


def test_action_on_a_pull_request_comments_the_plan(aws: str, gh: FakeGitHub, tmp_path: Path) -> None:
    (tmp_path / "ecsched.yaml").write_text(PLAN_CONFIG)
    code, log, outputs, summary = run_action(tmp_path, gh, event="pull_request")
    assert code == 0, log
    assert outputs == {"exit-code": "0", "has-changes": "true"}
    (c,) = gh.comments[PR]
    assert c["body"].startswith("<!-- ecsched:plan:ecsched.yaml -->\n### ecsched plan")
    assert "| + | `report` | ➕ create | new rule |" in c["body"]
    assert summary.startswith("### ecsched plan") and "ecsched:plan" not in summary
    # Pushed again: the same comment, updated in place.
    (tmp_path / "ecsched.yaml").write_text(PLAN_CONFIG.replace("cron(30 18", "cron(45 18"))
    code, log, _, _ = run_action(tmp_path, gh, event="pull_request")
    assert code == 0, log
    (c,) = gh.comments[PR]
    assert "cron(45 18 * * ? *)" in c["body"]


def test_action_drift_check_fails_on_changes(aws: str, gh: FakeGitHub, tmp_path: Path) -> None:
    (tmp_path / "ecsched.yaml").write_text(PLAN_CONFIG)
    code, log, outputs, _ = run_action(tmp_path, gh, event="schedule", args="--exit-code")
    assert code == 2 and outputs["exit-code"] == "2"
    assert "::error title=ecsched diff::AWS differs from the file" in log
    assert gh.comments == {}  # not a pull request: no comment


def test_action_apply_on_push_then_the_check_passes(aws: str, gh: FakeGitHub, tmp_path: Path) -> None:
    (tmp_path / "ecsched.yaml").write_text(PLAN_CONFIG)
    code, log, _, _ = run_action(tmp_path, gh, event="push", command="apply")
    assert code == 0, log
    assert client_state("report") == "ENABLED"
    code, log, outputs, _ = run_action(tmp_path, gh, event="schedule", args="--exit-code")
    assert code == 0, log
    assert outputs["has-changes"] == "false"


def test_action_fails_the_job_and_says_why_in_the_comment(aws: str, gh: FakeGitHub, tmp_path: Path) -> None:
    (tmp_path / "ecsched.yaml").write_text(PLAN_CONFIG.replace("cron(30 18 * * ? *)", "cron(99 18 * * ? *)"))
    code, log, outputs, _ = run_action(tmp_path, gh, event="pull_request")
    assert code == 1 and outputs["exit-code"] == "1"
    assert "::error title=ecsched diff failed::" in log
    assert "::error file=ecsched.yaml,line=6,title=ecsched::rule report: scheduleExpression" in log
    (c,) = gh.comments[PR]
    assert "**`ecsched diff` failed** (exit 1)" in c["body"] and "cron(99 18" in c["body"]


def test_action_refuses_an_unknown_command(gh: FakeGitHub, tmp_path: Path) -> None:
    code, log, _, _ = run_action(tmp_path, gh, event="push", command="destroy")
    assert code == 1 and "command must be diff or apply" in log


def test_action_refuses_args_it_cannot_parse(aws: str, gh: FakeGitHub, tmp_path: Path) -> None:
    (tmp_path / "ecsched.yaml").write_text(PLAN_CONFIG)
    code, log, _, _ = run_action(tmp_path, gh, event="push", command="apply", args="--rule 'report-*")
    assert code == 1
    assert "::error title=ecsched::args: cannot parse: --rule 'report-*" in log
    with pytest.raises(Exception, match="ResourceNotFoundException"):
        client_state("report")  # nothing applied


def test_action_args_split_like_a_shell(aws: str, gh: FakeGitHub, tmp_path: Path) -> None:
    (tmp_path / "ecsched.yaml").write_text(PLAN_CONFIG + "- name: other\n  scheduleExpression: rate(1 day)\n"
                                           "  taskDefinition: task1\n")
    code, log, _, _ = run_action(tmp_path, gh, event="push", command="apply", args="--rule 'rep*'")
    assert code == 0, log
    assert client_state("report") == "ENABLED"
    with pytest.raises(Exception, match="ResourceNotFoundException"):
        client_state("other")


def test_action_keeps_the_token_out_of_diff_and_apply(aws: str, gh: FakeGitHub, tmp_path: Path) -> None:
    # A config template reading GITHUB_TOKEN sees nothing: the token goes only to the `comment` call.
    (tmp_path / "ecsched.yaml").write_text(PLAN_CONFIG + '  description: "t={{ env "GITHUB_TOKEN" }}"\n')
    code, log, _, summary = run_action(tmp_path, gh, event="pull_request")
    assert code == 0, log
    (c,) = gh.comments[PR]  # the comment call still had it
    assert TOKEN not in c["body"] and TOKEN not in log and TOKEN not in summary


def client_state(name: str) -> str:
    from tests.conftest import client

    return str(client("events").describe_rule(Name=name)["State"])

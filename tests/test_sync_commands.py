"""diff and apply as scripts and people see them: quiet when nothing changes, one-line AWS errors, every
config problem in order, `--rule` that matches nothing, internal errors with their own exit code."""

from __future__ import annotations

import argparse
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import Result

CONFIG = ("region: us-east-1\ncluster: api\nrole: ecsEventsRole\nrules:\n"
          "- name: report\n  scheduleExpression: cron(30 18 * * ? *)\n  taskDefinition: task1\n"
          "- name: cleanup\n  scheduleExpression: cron(0 3 * * ? *)\n  taskDefinition: task1\n")


@pytest.fixture
def applied(aws: str, cli: Callable[..., Result], tmp_path: Path) -> str:
    path = tmp_path / "ecsched.yaml"
    path.write_text(CONFIG)
    assert cli("-c", str(path), "apply").code == 0
    return str(path)


def test_diff_prints_nothing_when_nothing_changes(applied: str, cli: Callable[..., Result]) -> None:
    # ecschedule's scripts: `diff -all -u 2>&1`, any output meaning "changed".
    res = cli("-c", applied, "diff", "-all", "-u")
    assert (res.code, res.out, res.err) == (0, "", "")
    assert cli("-c", applied, "diff", "--exit-code").code == 0
    verbose = cli("-c", applied, "diff", "--verbose")
    assert "= no change report" in verbose.out and "No changes: AWS matches the file." in verbose.out


def test_diff_still_prints_changes(applied: str, cli: Callable[..., Result]) -> None:
    Path(applied).write_text(CONFIG.replace("cron(30 18", "cron(45 18"))
    res = cli("-c", applied, "diff", "-all", "-u")
    assert res.code == 0 and "~ update report" in res.out
    assert "runs: At 18:45 UTC every day (was: At 18:30 UTC every day); next " in res.out


def test_prune_of_an_empty_rules_list_names_what_goes_and_why(applied: str, cli: Callable[..., Result]) -> None:
    Path(applied).write_text("region: us-east-1\ncluster: api\nrole: ecsEventsRole\nrules: []\n")
    res = cli("-c", applied, "diff", "--prune", "--exit-code")
    assert res.code == 2, res.err
    for name in ("cleanup", "report"):
        head = f"- delete {name}\n"
        assert head in res.out
        why = res.out.split(head, 1)[1].splitlines()[0]
        assert why.startswith("  ") and not why.startswith(("  -", "  @")), why  # a reason, before the diff
    assert "Plan: 0 to create, 0 to update, 2 to delete" in res.out


def test_a_rule_pattern_that_matches_nothing_is_an_error(applied: str, cli: Callable[..., Result]) -> None:
    res = cli("-c", applied, "diff", "--rule", "report", "--rule", "reprot-*")
    assert res.code == 1
    assert "--rule `reprot-*` matches no rule in the file" in res.err
    assert "`report`" not in res.err.split("matches")[0]  # the pattern that matched is not blamed


class HtmlPage:
    """An endpoint that answers every request with an HTML error page, as a proxy in front of AWS would
    (moto cannot be made to; that is what it stands in for)."""

    PAGE = (b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body><h1>Bad Gateway</h1>"
            + b"<p>upstream went away</p>" * 40 + b"</body></html>")

    def __init__(self) -> None:
        from werkzeug.serving import make_server

        def app(environ: dict[str, object], start: Callable[..., object]) -> list[bytes]:
            start("502 Bad Gateway", [("Content-Type", "text/html"), ("Content-Length", str(len(self.PAGE)))])
            return [self.PAGE]

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"


@pytest.fixture
def html_endpoint(aws: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    page = HtmlPage()
    page.thread.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", page.url)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    yield page.url
    page.server.shutdown()


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_an_html_error_page_is_one_line(html_endpoint: str, cli: Callable[..., Result], tmp_path: Path,
                                        fmt: str) -> None:
    path = tmp_path / "ecsched.yaml"
    path.write_text(CONFIG)
    res = cli("-c", str(path), "diff", "--format", fmt)
    assert res.code == 1
    assert res.err == ("ecsched: error: GetCallerIdentity failed: HTTP 502 Bad Gateway, an error page instead "
                       "of an AWS answer (a proxy or the endpoint failed)\n")
    assert "<" not in res.out


def test_every_config_problem_sorted_by_file_and_line_then_the_count(aws: str, cli: Callable[..., Result],
                                                                     tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text(CONFIG.replace("report", "b-report").replace("cleanup", "b-cleanup")
                                     .replace("  taskDefinition: task1\n", "  taskDefinition: task1\n  bogus: 1\n"))
    bad = "  taskDefinition: task1\n  bogus: 1\n"
    (tmp_path / "a.yaml").write_text(CONFIG.replace("  taskDefinition: task1\n", bad))
    res = cli("-c", str(tmp_path / "b.yaml"), "-c", str(tmp_path / "a.yaml"), "diff")
    assert res.code == 1
    lines = res.err.splitlines()
    located = [x for x in lines if x.startswith(str(tmp_path))]
    assert len(located) >= 4
    keys = [(x.split(":")[0], int(x.split(":")[1])) for x in located]
    assert keys == sorted(keys) and keys[0][0].endswith("a.yaml")
    assert lines[-1] == f"ecsched: error: {len(located)} problems found in the configuration"


def test_an_internal_error_exits_70_and_says_where_to_report_it(cli: Callable[..., Result],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import ecsched.commands.validate as validate
    from ecsched.context import Context

    def boom(args: argparse.Namespace, ctx: Context) -> int:
        raise RuntimeError("something\nbroke")

    monkeypatch.setattr(validate, "run", boom)
    res = cli("validate")
    assert res.code == 70
    first, second = res.err.splitlines()
    assert first == "ecsched: error: internal error: RuntimeError: something broke"
    assert "a bug in ecsched" in second and "--debug" in second


def test_max_config_bytes_reaches_the_loader(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    import inspect

    from ecsched.config import load

    if "max_config_bytes" not in inspect.signature(load).parameters:
        pytest.skip("the loader has no size limit yet (the config helper's change)")
    path = tmp_path / "ecsched.yaml"
    path.write_text(CONFIG)
    res = cli("--max-config-bytes", "64", "-c", str(path), "diff")
    assert res.code == 1 and "--max-config-bytes" in res.err


def test_apply_json_reports_results_and_the_exit_code(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    path = tmp_path / "ecsched.yaml"
    path.write_text(CONFIG)
    res = cli("-c", str(path), "apply", "--format", "json")
    assert res.code == 0
    doc = json.loads(res.out)
    assert [(r["rule"], r["action"], r["ok"]) for r in doc["results"]] == [("report", "create", True),
                                                                          ("cleanup", "create", True)]
    assert doc["summary"] == {"done": 2, "failed": 0, "refused": 0, "unread": 0} and doc["exit_code"] == 0


def test_diff_and_apply_json_never_import_rich(applied: str) -> None:
    import os
    import subprocess
    import sys

    code = ("import sys\nfrom ecsched.cli import main\ncode = main(sys.argv[1:])\n"
            "print('rich' in sys.modules, code, file=sys.stderr)")
    for argv in (["diff", "--format", "json"], ["apply", "--format", "json"]):
        p = subprocess.run([sys.executable, "-c", code, "-c", applied, *argv], capture_output=True, text=True,
                           env=dict(os.environ, FORCE_COLOR="1"))
        assert p.stderr.splitlines()[-1] == "False 0", p.stderr

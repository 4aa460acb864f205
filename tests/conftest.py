"""Shared fixtures. Tests talk to a real moto server over HTTP (never patched boto3).

- `moto_url`: one ThreadedMotoServer on 127.0.0.1 per test session (per xdist worker: each worker is its
  own process, with its own moto backends and its own server, so workers never share AWS state).
- `aws`: resets the server (POST /moto-api/reset) and points boto3 at it through AWS_ENDPOINT_URL,
  with dummy credentials. Every test that touches AWS takes this fixture.
- `cli`: runs `ecsched ...` in-process and returns (exit code, stdout, stderr).
- `git_template` / `git_repo`: an empty git repository made once per session, and a copy of it per test.

Test modules import helpers as `from tests.conftest import ...` (the repository root is on sys.path
through `pythonpath` in pyproject.toml, from any working directory and in every xdist worker).
Compatibility fixtures: `FIXTURES` (this repository's own ecschedule-style configs, always present) and
`COMPAT` (ecschedule's sample corpus in ../shared, present only beside the team's checkout).
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
from hypothesis import settings

# pytest imports this file as `conftest`; make `tests.conftest` that very module, not a second copy.
sys.modules.setdefault("tests.conftest", sys.modules[__name__])

# Run as `.venv/bin/python -m pytest` without activating the venv, subprocesses still find its console
# scripts (`ecsched`) first, as they would in an activated one.
_BIN = str(Path(sys.executable).parent)
if (Path(_BIN) / "ecsched").exists() and os.environ.get("PATH", "").split(os.pathsep)[0] != _BIN:
    os.environ["PATH"] = os.pathsep.join([_BIN, os.environ.get("PATH", "")])

ACCOUNT = "123456789012"  # moto's account
REGION = "us-east-1"
ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "ecschedule"

# Hypothesis: a small default for the README's command, more examples in CI (.ci/run sets
# HYPOTHESIS_PROFILE=ci). Under `dev`, a test that pins a larger max_examples is held to the profile's
# (see _fit_to_profile); under `ci` it keeps its own number.
HYPOTHESIS_PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "dev")
settings.register_profile("dev", max_examples=20, deadline=None)
settings.register_profile("ci", max_examples=200, deadline=None, print_blob=True)
settings.load_profile(HYPOTHESIS_PROFILE)


class CorpusPath(type(Path())):  # type: ignore[misc]
    """ecschedule's sample corpus, kept outside the repository (../shared). Where it is absent (a plain
    clone, GitHub Actions), any test that reaches into it is skipped, saying why, instead of failing."""

    def _missing(self) -> NoReturn:
        pytest.skip(f"needs ecschedule's sample corpus at {_CORPUS_ROOT} (not part of the repository); "
                    "the same features are covered by tests/fixtures/ecschedule", allow_module_level=True)

    def __truediv__(self, key: Any) -> Any:
        if not _CORPUS_ROOT.is_dir():
            self._missing()
        return super().__truediv__(key)

    def joinpath(self, *keys: Any) -> Any:
        if not _CORPUS_ROOT.is_dir():
            self._missing()
        return super().joinpath(*keys)


_CORPUS_ROOT = ROOT.parent / "shared" / "compat" / "ecschedule"
COMPAT = CorpusPath(_CORPUS_ROOT)
HAVE_COMPAT = _CORPUS_ROOT.is_dir()
needs_corpus = pytest.mark.skipif(not HAVE_COMPAT, reason="needs ecschedule's sample corpus in "
                                  "../shared/compat/ecschedule (not part of the repository)")


def run_from(monkeypatch: pytest.MonkeyPatch, folder: Path, *unset: str) -> Path:
    """Work from `folder`, as ecschedule resolves a config's relative paths, with the variables `unset`."""
    monkeypatch.chdir(folder)
    for name in unset:
        monkeypatch.delenv(name, raising=False)
    return folder


# --- collection -------------------------------------------------------------------------------------------

# Tests that measure real waits between processes: one xdist worker runs them all, one after another,
# so that they never compete with each other for the two cores.
TIMING_GROUPS = {"test_lock*.py": "lock"}

# Seconds of wall time each (measured with --durations): real processes, real waits, many examples against
# moto. `-m "not slow"` leaves them out for a quick loop; the README's command and CI run them.
# Names are fnmatch patterns. Test files may also mark their own tests with @pytest.mark.slow.
SLOW_FILES = {"test_lock*.py", "test_emulator.py"}
SLOW_TESTS = {
    "test_roundtrip_property.py": {"test_apply_then_diff_is_empty_and_reapply_writes_nothing"},
    "test_github.py": {"test_action_*"},  # action.yml's step under bash, with ecsched processes
    "test_backend_rules.py": {"test_a_full_diff_stays_within_the_read_budget", "test_seed_helper_is_usable"},
    "test_aws_pacing.py": {"test_paced_readers_stay_under_the_quota", "test_without_pacing_the_same_run_is_throttled"},
    "test_run_cli.py": {"test_waits_for_stopped_and_prints_logs_json", "test_logs_arrive_while_the_task_runs",
                        "test_live_status_line_on_a_terminal"},
    "test_throttling.py": {"test_apply_rides_out_throttling_on_writes"},
}


def _fit_to_profile(item: pytest.Item) -> None:
    """Hold a test's pinned max_examples to the `dev` profile's. Hypothesis lets a test's own @settings
    override any profile, so without this the small default would not reach those tests."""
    fn = getattr(item, "obj", None)
    pinned = getattr(fn, "_hypothesis_internal_use_settings", None)
    if HYPOTHESIS_PROFILE != "dev" or pinned is None or pinned.max_examples <= settings.default.max_examples:
        return
    fn._hypothesis_internal_use_settings = settings(pinned, max_examples=settings.default.max_examples)  # type: ignore[union-attr]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        name = item.path.name
        for pattern, group in TIMING_GROUPS.items():
            if fnmatch.fnmatchcase(name, pattern):
                item.add_marker(pytest.mark.xdist_group(group))
        test = getattr(item, "originalname", item.name)
        slow_file = any(fnmatch.fnmatchcase(name, p) for p in SLOW_FILES)
        if slow_file or any(fnmatch.fnmatchcase(test, p) for p in SLOW_TESTS.get(name, ())):
            item.add_marker(pytest.mark.slow)
        _fit_to_profile(item)
    # Longest first: under xdist the lock group and the slow tests start at once, and the short ones fill
    # in behind them, instead of one worker being left with a minute of lock tests at the end.
    items.sort(key=lambda i: 0 if i.get_closest_marker("xdist_group") else 1 if i.get_closest_marker("slow") else 2)


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def moto_reset(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST")).read()


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    moto_reset(moto_url)
    for k in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    return moto_url


def client(service: str, region: str = REGION) -> Any:
    import boto3

    return boto3.client(service, region_name=region)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Counts every AWS operation ecsched makes, by observing botocore's events (boto3 is not patched)."""
    from ecsched.aws import Aws

    seen: Counter[str] = Counter()
    original = Aws.client

    def counting(self: Aws, service: str, region: str | None = None) -> Any:
        c = original(self, service, region)
        if not getattr(c, "_ecsched_counted", False):
            c.meta.events.register("before-call.*.*", lambda model, **_: seen.update([model.name]))
            c._ecsched_counted = True
        return c

    monkeypatch.setattr(Aws, "client", counting)
    yield seen


def count_of(calls: Counter[str], operations: set[str]) -> int:
    return sum(n for op, n in calls.items() if op in operations)


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """`cli("-c", path, "diff")`: run ecsched in-process, like a user would, and capture its output."""
    monkeypatch.setenv("NO_COLOR", "1")

    def run(*argv: str) -> Result:
        from ecsched.cli import main

        capsys.readouterr()
        try:
            code = main(list(argv))
        except SystemExit as e:  # argparse errors
            code = int(e.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def seed_ecs(cluster: str = "api", families: tuple[str, ...] = ("task1",), region: str = REGION) -> dict[str, Any]:
    """A FARGATE cluster and task definitions (awslogs configured), as a real account would have them."""
    ecs = client("ecs", region)
    logs = client("logs", region)
    ecs.create_cluster(clusterName=cluster)
    out: dict[str, Any] = {"cluster": cluster, "taskdefs": {}}
    for fam in families:
        group = f"/ecs/{fam}"
        try:
            logs.create_log_group(logGroupName=group)
        except logs.exceptions.ResourceAlreadyExistsException:
            pass
        td = ecs.register_task_definition(
            family=fam, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[{
                "name": "app", "image": "php:8.3-cli", "memory": 512, "essential": True,
                "logConfiguration": {"logDriver": "awslogs", "options": {
                    "awslogs-group": group, "awslogs-region": region, "awslogs-stream-prefix": "ecs"}},
            }],
        )
        out["taskdefs"][fam] = td["taskDefinition"]["taskDefinitionArn"]
    ec2 = client("ec2", region)
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    out["subnets"] = [s["SubnetId"] for s in subnets]
    out["security_group"] = ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"]
    return out


# --- git ------------------------------------------------------------------------------------------------



@pytest.fixture(scope="session")
def git_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty repository on branch `main`, with an identity and no signing, made once per session (per
    xdist worker). Copy it (`shutil.copytree(git_template, dest)`, or take `git_repo`) instead of running
    `git init` and its configuration in every test."""
    repo = tmp_path_factory.mktemp("git-template") / "repo"
    repo.mkdir()
    for args in (["init", "-q", "-b", "main"], ["config", "user.name", "t"], ["config", "user.email", "t@localhost"],
                 ["config", "commit.gpgsign", "false"], ["config", "tag.gpgsign", "false"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)
    return repo


@pytest.fixture
def git_repo(git_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of `git_template` at tmp_path/repo: commit into it right away."""
    repo = tmp_path / "repo"
    shutil.copytree(git_template, repo, symlinks=True)
    return repo

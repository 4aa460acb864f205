"""ecschedule configurations, unchanged: they load, validate and mean the same thing.

Two sources, each run from the folder that holds its configs (ecschedule resolves relative paths against
its working directory):
- this repository's own ecschedule-style configs, tests/fixtures/ecschedule (always here);
- ecschedule's sample corpus, ../shared/compat/ecschedule (only beside the team's checkout: those tests
  are skipped elsewhere, saying so). The variables are the ones the corpus README names.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

import ecsched.config
from ecsched.arns import Account
from ecsched.config.plugins import tfstate  # part of the product: if it is missing, fail, never skip
from ecsched.errors import ConfigError
from ecsched.model import CapacityProviderItem, ContainerOverride, Network, Schedule
from tests.conftest import ACCOUNT, COMPAT, FIXTURES, REGION, Result, needs_corpus, run_from

# --- this repository's fixtures ---------------------------------------------------------------------------

JOBS_EXT = {"ext_str": {"REGION": "us-west-2", "CLUSTER": "batch"}, "ext_code": {"SPOT_BASE": "2"}}
JOBS_EXT_ARGS = ["--ext-str", "REGION=us-west-2", "--ext-str", "CLUSTER=batch", "--ext-code", "SPOT_BASE=2"]
JOBS = ["configs/jobs.yaml", "configs/jobs.json", "configs/jobs.jsonnet"]
VALID = [*JOBS, "configs/literal.yaml", "configs/tfstate.yaml", "configs/tfstate_prefixed.yaml",
         "configs/tfstate.jsonnet"]
ENV_VARS = ("REPORT_LEVEL", "REPORT_BUCKET")


@pytest.fixture
def in_fixtures(monkeypatch: pytest.MonkeyPatch) -> Path:
    return run_from(monkeypatch, FIXTURES, *ENV_VARS)


def loaded(path: str, environ: dict[str, str] | None = None) -> list[Schedule]:
    cfg = ecsched.config.load([path], environ={} if environ is None else environ, **JOBS_EXT)  # type: ignore[arg-type]
    return cfg.schedules(Account(ACCOUNT), REGION)


def test_the_fixtures_cover_every_config_file() -> None:
    on_disk = {f"configs/{p.name}" for p in (FIXTURES / "configs").iterdir() if "." in p.name}
    data = {"configs/network.libsonnet", "configs/network.tfstate", "configs/edge.tfstate"}
    assert on_disk == {*VALID, "configs/must_env.yaml", "configs/ssm.yaml"} | data


@pytest.mark.parametrize("path", VALID)
def test_every_fixture_validates_unchanged(path: str, in_fixtures: Path, cli: Callable[..., Result]) -> None:
    r = cli("-c", path, *JOBS_EXT_ARGS, "validate")
    assert r.code == 0, r
    assert r.out == ""
    assert f"ok: 2 rules in {path}" in r.err
    assert "Traceback" not in r.err


def test_yaml_json_and_jsonnet_give_equal_models(in_fixtures: Path) -> None:
    from_yaml, from_json, from_jsonnet = (loaded(p) for p in JOBS)
    assert len(from_yaml) == 2
    assert from_yaml == from_json == from_jsonnet
    assert [s.fingerprint() for s in from_yaml] == [s.fingerprint() for s in from_json] == \
        [s.fingerprint() for s in from_jsonnet]
    assert [s.source.file for s in from_jsonnet if s.source] == ["configs/jobs.jsonnet"] * 2


def test_what_the_jobs_mean(in_fixtures: Path) -> None:
    report, cleanup = loaded("configs/jobs.yaml")
    arn = f"arn:aws:ecs:us-west-2:{ACCOUNT}"
    t = report.target
    assert (report.name, report.expression, report.description, report.enabled, report.region) == (
        "nightly-report", "cron(30 1 * * ? *)", "builds the nightly sales report", True, "us-west-2")
    assert (t.target_id, t.cluster_arn, t.role_arn, t.task_definition_arn, t.task_count) == (
        "nightly-report", f"{arn}:cluster/batch", f"arn:aws:iam::{ACCOUNT}:role/batch-events",
        f"{arn}:task-definition/report", 1)
    # AWS rejects launch type and capacity providers together; the strategy wins, as ECS would read it.
    assert t.launch_type is None
    assert t.capacity_provider_strategy == (CapacityProviderItem("FARGATE_SPOT", 2, 3),
                                            CapacityProviderItem("FARGATE", 0, 1))
    assert t.network == Network(("subnet-0a11a11a11a11a110", "subnet-0b22b22b22b22b220"), ("sg-0c33c33c33c33c330",),
                                "DISABLED")
    assert (t.platform_version, t.group, t.propagate_tags) == ("LATEST", "reports", "TASK_DEFINITION")
    assert t.container_overrides == (
        ContainerOverride("report", ("python", "-m", "report", "--date", "yesterday"),
                          (("LOG_LEVEL", "info"), ("OUTPUT", "s3"))),
        ContainerOverride("sidecar", None, (("MODE", "quiet"),)))
    assert (t.task_cpu, t.task_memory) == ("1024", "2048")
    assert t.dead_letter_arn == f"arn:aws:sqs:us-west-2:{ACCOUNT}:batch-dlq"
    # The second rule: its own target id and role, a revision, two tasks, written disabled.
    c = cleanup.target
    assert (cleanup.name, cleanup.expression, cleanup.enabled, cleanup.description) == (
        "hourly-cleanup", "rate(1 hour)", False, "")
    assert (c.target_id, c.role_arn, c.task_definition_arn, c.task_count) == (
        "cleanup-target", f"arn:aws:iam::{ACCOUNT}:role/cleanup-events", f"{arn}:task-definition/cleanup:7", 2)
    assert (c.launch_type, c.capacity_provider_strategy) == ("FARGATE", ())
    assert c.network == Network(("subnet-0a11a11a11a11a110",), (), "ENABLED")
    assert (c.platform_version, c.group, c.propagate_tags, c.container_overrides, c.dead_letter_arn) == (
        None, None, None, (), None)


@pytest.mark.parametrize("path", JOBS)
def test_env_reads_the_variable_when_set(in_fixtures: Path, path: str) -> None:
    [report, _] = loaded(path, {"REPORT_LEVEL": "debug"})
    assert report.target.container_overrides[0].environment == (("LOG_LEVEL", "debug"), ("OUTPUT", "s3"))


@pytest.mark.parametrize(("path", "where"), list(zip(JOBS, ["12:3", "13:7", "16:7"], strict=True)))
def test_launch_type_with_capacity_providers_is_a_located_warning(in_fixtures: Path, cli: Callable[..., Result],
                                                                  path: str, where: str) -> None:
    r = cli("-c", path, *JOBS_EXT_ARGS, "validate")
    assert r.code == 0
    [warning] = [line for line in r.err.splitlines() if "warning" in line]
    assert f"{path}:{where}: rule nightly-report: launch_type is ignored because capacityProviderStrategy is " \
           "given" in warning


def test_must_env(in_fixtures: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    r = cli("-c", "configs/must_env.yaml", "validate")
    assert r.code == 1
    assert r.out.splitlines() == [
        "configs/must_env.yaml:11:15: environment variable REPORT_BUCKET is not set (required by must_env); "
        "set it or use `env`"]
    monkeypatch.setenv("REPORT_BUCKET", "orders-export")
    assert cli("-c", "configs/must_env.yaml", "validate").code == 0
    [s] = loaded("configs/must_env.yaml", {"REPORT_BUCKET": "orders-export"})
    assert s.target.container_overrides == (ContainerOverride("export", None, (("BUCKET", "orders-export"),)),)
    assert s.target.network is None and s.target.launch_type is None


def test_must_env_stops_before_any_aws_call(in_fixtures: Path, cli: Callable[..., Result],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS points at a closed port: any call would end in "cannot reach AWS" instead."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    for command in (["diff"], ["apply", "--dry-run"], ["run", "--rule", "export-orders"]):
        r = cli("-c", "configs/must_env.yaml", *command)
        assert r.code != 0
        assert "configs/must_env.yaml:11:15: environment variable REPORT_BUCKET is not set" in r.err
        assert "reach" not in r.err and "Traceback" not in r.err


def test_render_gives_the_same_document_for_the_three_formats(in_fixtures: Path, cli: Callable[..., Result]) -> None:
    docs = [json.loads(cli("-c", p, *JOBS_EXT_ARGS, "render", "--format", "json").out) for p in JOBS]
    assert docs[0] == docs[1] == docs[2]
    report, cleanup = docs[0]["rules"]
    assert report["containerOverrides"][0]["environment"] == {"LOG_LEVEL": "info", "OUTPUT": "s3"}
    assert report["capacityProviderStrategy"][0] == {"capacityProvider": "FARGATE_SPOT", "base": 2, "weight": 3}
    assert (cleanup["disabled"], cleanup["taskCount"]) == (True, 2)


def test_an_ecschedule_config_is_found_when_ecsched_yaml_is_missing(tmp_path: Path, cli: Callable[..., Result],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ecschedule.yaml").write_text((FIXTURES / "configs" / "literal.yaml").read_text())
    r = cli("validate")
    assert r.code == 1
    assert "ecsched.yaml: no such file; pass the config with -c FILE (found ecschedule.yaml here: pass -c " \
           "ecschedule.yaml)" in r.out
    assert cli("-conf", "ecschedule.yaml", "validate").code == 0


def test_config_errors_in_a_copy_are_located(tmp_path: Path, cli: Callable[..., Result]) -> None:
    text = (FIXTURES / "configs" / "jobs.yaml").read_text().replace("cron(30 1 * * ? *)", "cron(30 1 * * ? * *)")
    p = tmp_path / "broken.yaml"
    p.write_text(text)
    r = cli("-c", str(p), "validate")
    assert r.code == 1
    assert r.out.startswith(f"{p}:8:3: rule nightly-report: scheduleExpression")
    with pytest.raises(ConfigError):
        ecsched.config.load([str(p)], environ={})


# --- ecschedule's own samples (../shared) ---------------------------------------------------------------------

EXT = {"ext_str": {"REGION": "us-east-1", "CLUSTER": "api"}, "ext_code": {"BASE": "1"}}
EXT_ARGS = ["--ext-str", "REGION=us-east-1", "--ext-str", "CLUSTER=api", "--ext-code", "BASE=1"]
SAMPLES = ["sample.json", "sample.jsonnet", "sample.yaml", "sample2.yaml", "sample3.yaml", "sample4.yaml",
           "sample5.jsonnet", "sample5.yaml"]


@pytest.fixture
def in_compat(monkeypatch: pytest.MonkeyPatch) -> Path:
    return run_from(monkeypatch, COMPAT, "DUMMY_HOGE_ENV")


def schedules(name: str, environ: dict[str, str] | None = None) -> list[Schedule]:
    cfg = ecsched.config.load([f"testdata/{name}"], environ={} if environ is None else environ, **EXT)  # type: ignore[arg-type]
    return cfg.schedules(Account(ACCOUNT), REGION)


@needs_corpus
def test_the_corpus_is_all_here() -> None:
    assert sorted(p.name for p in (COMPAT / "testdata").iterdir() if p.name.startswith("sample")) == SAMPLES


@needs_corpus
@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_validates_unchanged(name: str, in_compat: Path, cli: Callable[..., Result],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    if name == "sample2.yaml":
        monkeypatch.setenv("DUMMY_HOGE_ENV", "from-env")
    r = cli("-c", f"testdata/{name}", *EXT_ARGS, "validate")
    assert r.code == 0, r
    assert r.out == ""
    assert "ok: 1 rule in" in r.err
    assert "Traceback" not in r.err


@needs_corpus
def test_sample_yaml_json_and_jsonnet_give_equal_models(in_compat: Path) -> None:
    [from_yaml] = schedules("sample.yaml")
    [from_json] = schedules("sample.json")
    [from_jsonnet] = schedules("sample.jsonnet")
    assert from_yaml == from_json == from_jsonnet
    assert from_yaml.fingerprint() == from_json.fingerprint() == from_jsonnet.fingerprint()


@needs_corpus
def test_what_the_sample_means(in_compat: Path) -> None:
    [s] = schedules("sample.yaml")
    t = s.target
    assert (s.name, s.expression, s.description, s.enabled, s.region) == (
        "hoge-task-name", "cron(0 0 * * ? *)", "hoge description", True, "us-east-1")
    assert t.target_id == "hoge-task-name"
    assert t.cluster_arn == f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/api"
    assert t.role_arn == f"arn:aws:iam::{ACCOUNT}:role/ecsEventsRole"
    assert t.task_definition_arn == f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/task1"
    assert t.task_count == 1
    assert t.launch_type is None
    assert t.capacity_provider_strategy == (CapacityProviderItem("FARGATE", 1, 1),)
    assert t.network == Network(("subnet-01234567", "subnet-12345678"), ("sg-11111111", "sg-99999999"), "ENABLED")
    assert (t.platform_version, t.group, t.propagate_tags) == ("1.4.0", "xxx", "TASK_DEFINITION")
    assert t.container_overrides == (
        ContainerOverride("container1", ("subcmd", "argument"), (("HOGE_ENV", "HOGEGE"),)),)
    assert (t.task_cpu, t.task_memory) == ("4096", "16384")
    assert t.dead_letter_arn == f"arn:aws:sqs:us-east-1:{ACCOUNT}:queue1"


@needs_corpus
def test_sample_launch_type_with_capacity_providers_is_only_a_warning(in_compat: Path,
                                                                      cli: Callable[..., Result]) -> None:
    for name in ("sample.yaml", "sample.json", "sample.jsonnet"):
        r = cli("-c", f"testdata/{name}", *EXT_ARGS, "validate")
        assert r.code == 0
        [warning] = [line for line in r.err.splitlines() if "warning" in line]
        assert f"testdata/{name}:" in warning
        assert "rule hoge-task-name: launch_type is ignored because capacityProviderStrategy is given" in warning
    assert "testdata/sample.yaml:11:3:" in cli("-c", "testdata/sample.yaml", "validate").err


@needs_corpus
def test_sample2_must_env(in_compat: Path, cli: Callable[..., Result]) -> None:
    r = cli("-c", "testdata/sample2.yaml", "validate")
    assert r.code == 1
    assert r.out.splitlines() == [
        "testdata/sample2.yaml:13:17: environment variable DUMMY_HOGE_ENV is not set (required by must_env); "
        "set it or use `env`"]
    [s] = schedules("sample2.yaml", {"DUMMY_HOGE_ENV": "x"})
    assert s.target.container_overrides[0].environment == (("HOGE_ENV", "x"),)


@needs_corpus
def test_sample_render_gives_the_same_document_for_the_three_formats(in_compat: Path,
                                                                     cli: Callable[..., Result]) -> None:
    docs = [json.loads(cli("-c", f"testdata/{n}", *EXT_ARGS, "render", "--format", "json").out)
            for n in ("sample.yaml", "sample.json", "sample.jsonnet")]
    assert docs[0] == docs[1] == docs[2]
    assert docs[0]["rules"][0]["containerOverrides"][0]["environment"] == {"HOGE_ENV": "HOGEGE"}


@needs_corpus
def test_sample4_without_launch_type_conflict_keeps_its_launch_type(in_compat: Path) -> None:
    [s] = schedules("sample4.yaml")
    assert s.target.launch_type == "FARGATE"
    assert s.target.capacity_provider_strategy == ()
    assert s.target.propagate_tags is None


@needs_corpus
def test_tfstate_samples_resolve_to_sample4s_literal_ids(in_compat: Path) -> None:
    """sample3/5 look up in terraform.tfstate the very subnets and groups sample4 writes out."""
    assert json.loads((COMPAT / "testdata" / "terraform.tfstate").read_text())["version"] == tfstate.STATE_VERSION
    [four] = schedules("sample4.yaml")
    expected = replace(four, target=replace(four.target, propagate_tags="TASK_DEFINITION"))
    for name in ("sample3.yaml", "sample5.yaml", "sample5.jsonnet"):
        [s] = schedules(name)
        assert s == expected, name


def test_reaching_into_an_absent_corpus_skips_saying_why(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """How tests elsewhere that take COMPAT behave in a plain clone: skipped with the reason, not failed."""
    import tests.conftest as conftest

    monkeypatch.setattr(conftest, "_CORPUS_ROOT", tmp_path / "absent")
    with pytest.raises(pytest.skip.Exception, match=r"needs ecschedule's sample corpus at .*absent"):
        _ = COMPAT / "testdata" / "sample.yaml"
    monkeypatch.setattr(conftest, "_CORPUS_ROOT", tmp_path)
    assert Path(COMPAT) / "testdata" == COMPAT / "testdata"

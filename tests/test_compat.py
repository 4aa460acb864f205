"""ecschedule's own sample configurations, unchanged: they load, validate and mean the same thing.

Run from the folder that holds testdata/, as ecschedule resolves relative paths against its working
directory; the variables are the ones the corpus README names.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

import ecsched.config
from ecsched.arns import Account
from ecsched.errors import ConfigError
from ecsched.model import CapacityProviderItem, ContainerOverride, Network, Schedule
from tests.conftest import ACCOUNT, COMPAT, REGION, Result

EXT = {"ext_str": {"REGION": "us-east-1", "CLUSTER": "api"}, "ext_code": {"BASE": "1"}}
EXT_ARGS = ["--ext-str", "REGION=us-east-1", "--ext-str", "CLUSTER=api", "--ext-code", "BASE=1"]
SAMPLES = sorted(p.name for p in (COMPAT / "testdata").iterdir() if p.name.startswith("sample"))
TFSTATE = {"sample3.yaml", "sample5.yaml", "sample5.jsonnet"}


def _tfstate_works() -> bool:
    try:
        from ecsched.config.plugins import tfstate  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture
def in_compat(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(COMPAT)
    monkeypatch.delenv("DUMMY_HOGE_ENV", raising=False)
    return COMPAT


def schedules(name: str, environ: dict[str, str] | None = None) -> list[Schedule]:
    cfg = ecsched.config.load([f"testdata/{name}"], environ={} if environ is None else environ, **EXT)  # type: ignore[arg-type]
    return cfg.schedules(Account(ACCOUNT), REGION)


def test_the_corpus_is_all_here() -> None:
    assert len(SAMPLES) == 8
    assert {"sample.yaml", "sample.json", "sample.jsonnet", "sample2.yaml", "sample4.yaml"} < set(SAMPLES)


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_validates_unchanged(name: str, in_compat: Path, cli: Callable[..., Result],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    if name in TFSTATE and not _tfstate_works():
        pytest.skip("needs the tfstate plugin (ecsched/config/plugins/tfstate.py)")
    if name == "sample2.yaml":
        monkeypatch.setenv("DUMMY_HOGE_ENV", "from-env")
    r = cli("-c", f"testdata/{name}", *EXT_ARGS, "validate")
    assert r.code == 0, r
    assert r.out == ""
    assert "ok: 1 rule in" in r.err
    assert "Traceback" not in r.err


def test_sample_yaml_json_and_jsonnet_give_equal_models(in_compat: Path) -> None:
    [from_yaml] = schedules("sample.yaml")
    [from_json] = schedules("sample.json")
    [from_jsonnet] = schedules("sample.jsonnet")
    assert from_yaml == from_json == from_jsonnet
    assert from_yaml.fingerprint() == from_json.fingerprint() == from_jsonnet.fingerprint()


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
    # AWS rejects launch type and capacity providers together; the strategy wins, as ECS would read it.
    assert t.launch_type is None
    assert t.capacity_provider_strategy == (CapacityProviderItem("FARGATE", 1, 1),)
    assert t.network == Network(("subnet-01234567", "subnet-12345678"), ("sg-11111111", "sg-99999999"), "ENABLED")
    assert (t.platform_version, t.group, t.propagate_tags) == ("1.4.0", "xxx", "TASK_DEFINITION")
    assert t.container_overrides == (
        ContainerOverride("container1", ("subcmd", "argument"), (("HOGE_ENV", "HOGEGE"),)),)
    assert (t.task_cpu, t.task_memory) == ("4096", "16384")
    assert t.dead_letter_arn == f"arn:aws:sqs:us-east-1:{ACCOUNT}:queue1"


def test_env_reads_the_variable_when_set(in_compat: Path) -> None:
    for name in ("sample.yaml", "sample.json", "sample.jsonnet"):
        [s] = schedules(name, {"DUMMY_HOGE_ENV": "set"})
        assert s.target.container_overrides[0].environment == (("HOGE_ENV", "set"),)


def test_launch_type_with_capacity_providers_is_only_a_warning(in_compat: Path, cli: Callable[..., Result]) -> None:
    for name in ("sample.yaml", "sample.json", "sample.jsonnet"):
        r = cli("-c", f"testdata/{name}", *EXT_ARGS, "validate")
        assert r.code == 0
        [warning] = [line for line in r.err.splitlines() if "warning" in line]
        assert f"testdata/{name}:" in warning
        assert "rule hoge-task-name: launch_type is ignored because capacityProviderStrategy is given" in warning
    assert "testdata/sample.yaml:11:3:" in cli("-c", "testdata/sample.yaml", "validate").err


def test_sample2_must_env(in_compat: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    r = cli("-c", "testdata/sample2.yaml", "validate")
    assert r.code == 1
    assert r.out.splitlines() == [
        "testdata/sample2.yaml:13:17: environment variable DUMMY_HOGE_ENV is not set (required by must_env); "
        "set it or use `env`"]
    monkeypatch.setenv("DUMMY_HOGE_ENV", "x")
    [s] = schedules("sample2.yaml", {"DUMMY_HOGE_ENV": "x"})
    assert s.target.container_overrides[0].environment == (("HOGE_ENV", "x"),)
    assert s.target.network is None and s.target.launch_type is None


def test_sample2_stops_before_any_aws_call(in_compat: Path, cli: Callable[..., Result],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS points at a closed port: any call would end in "cannot reach AWS" instead."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    for command in (["diff"], ["apply", "--dry-run"], ["run", "--rule", "hoge-task-name"]):
        r = cli("-c", "testdata/sample2.yaml", *command)
        assert r.code != 0
        assert "testdata/sample2.yaml:13:17: environment variable DUMMY_HOGE_ENV is not set" in r.err
        assert "reach" not in r.err and "Traceback" not in r.err


def test_render_gives_the_same_document_for_the_three_formats(in_compat: Path, cli: Callable[..., Result]) -> None:
    docs = [json.loads(cli("-c", f"testdata/{n}", *EXT_ARGS, "render", "--format", "json").out)
            for n in ("sample.yaml", "sample.json", "sample.jsonnet")]
    assert docs[0] == docs[1] == docs[2]
    assert docs[0]["rules"][0]["containerOverrides"][0]["environment"] == {"HOGE_ENV": "HOGEGE"}


def test_sample4_without_launch_type_conflict_keeps_its_launch_type(in_compat: Path) -> None:
    [s] = schedules("sample4.yaml")
    assert s.target.launch_type == "FARGATE"
    assert s.target.capacity_provider_strategy == ()
    assert s.target.propagate_tags is None


def test_tfstate_samples_resolve_to_sample4s_literal_ids(in_compat: Path) -> None:
    """sample3/5 look up in terraform.tfstate the very subnets and groups sample4 writes out."""
    if not _tfstate_works():
        pytest.skip("needs the tfstate plugin (ecsched/config/plugins/tfstate.py)")
    [four] = schedules("sample4.yaml")
    expected = replace(four, target=replace(four.target, propagate_tags="TASK_DEFINITION"))
    for name in ("sample3.yaml", "sample5.yaml", "sample5.jsonnet"):
        [s] = schedules(name)
        assert s == expected, name


def test_an_ecschedule_config_is_found_when_ecsched_yaml_is_missing(tmp_path: Path, cli: Callable[..., Result],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ecschedule.yaml").write_text((COMPAT / "testdata" / "sample4.yaml").read_text())
    r = cli("validate")
    assert r.code == 1
    assert "ecsched.yaml: no such file; pass the config with -c FILE (found ecschedule.yaml here: pass -c " \
           "ecschedule.yaml)" in r.out
    assert cli("-conf", "ecschedule.yaml", "validate").code == 0


def test_config_errors_in_a_sample_copy_are_located(tmp_path: Path, cli: Callable[..., Result]) -> None:
    text = (COMPAT / "testdata" / "sample.yaml").read_text().replace("cron(0 0 * * ? *)", "cron(0 0 * * ? * *)")
    p = tmp_path / "broken.yaml"
    p.write_text(text)
    r = cli("-c", str(p), "validate")
    assert r.code == 1
    assert r.out.startswith(f"{p}:7:3: rule hoge-task-name: scheduleExpression")
    with pytest.raises(ConfigError):
        ecsched.config.load([str(p)], environ={})

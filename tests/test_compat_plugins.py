"""ecschedule's plugins on unchanged configs: tfstate (plain, prefixed and called through `plugin`, in YAML and
Jsonnet) and ssm. Run from the folder that holds the configs: their `path: configs/network.tfstate` is
relative to ecschedule's working directory.

This repository's own configs (tests/fixtures/ecschedule) always run; ecschedule's samples that use the
tfstate plugin (sample3.yaml, sample5.yaml, sample5.jsonnet in ../shared) only beside the team's checkout.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import ecsched.config
from ecsched.arns import Account
from ecsched.config import secrets
from ecsched.config.plugins import tfstate  # part of the product: if it is missing, fail, never skip
from ecsched.errors import ConfigError
from ecsched.model import Schedule
from tests.conftest import ACCOUNT, COMPAT, FIXTURES, REGION, Result, client, needs_corpus, run_from

TFSTATE = ["configs/tfstate.yaml", "configs/tfstate_prefixed.yaml", "configs/tfstate.jsonnet"]


@pytest.fixture
def in_fixtures(monkeypatch: pytest.MonkeyPatch) -> Path:
    return run_from(monkeypatch, FIXTURES, "REPORT_LEVEL")


def schedules(path: str, environ: dict[str, str] | None = None) -> list[Schedule]:
    cfg = ecsched.config.load([path], environ={} if environ is None else environ)
    return cfg.schedules(Account(ACCOUNT), REGION)


def state_value(name: str, address: str) -> Any:
    """A value read straight from a fixture state, by the plugin's own reader."""
    path = FIXTURES / "configs" / name
    return tfstate.State(json.loads(path.read_text()), str(path)).lookup(address)


def test_the_states_hold_what_the_configs_look_up() -> None:
    assert [state_value("network.tfstate", f"aws_subnet.private[{i}].id") for i in (0, 1)] == [
        "subnet-0a11a11a11a11a110", "subnet-0b22b22b22b22b220"]
    assert state_value("network.tfstate", "data.aws_security_group.by_name['db'].id") == "sg-0d44d44d44d44d440"
    assert state_value("network.tfstate", "output.cluster_name") == "batch"
    assert state_value("edge.tfstate", "module.edge.aws_subnet.public[0].id") == "subnet-0f66f66f66f66f660"


@pytest.mark.parametrize("path", TFSTATE)
def test_tfstate_configs_resolve_to_the_literal_config(in_fixtures: Path, path: str) -> None:
    """Outputs, count indexes, for_each keys in either quote, a module's resource: all as literal.yaml has them."""
    got = schedules(path)
    assert got == schedules("configs/literal.yaml")
    assert got[0].target.network is not None
    assert got[0].target.network.security_groups == ("sg-0c33c33c33c33c330", "sg-0d44d44d44d44d440")
    assert got[0].target.cluster_arn.endswith(":cluster/batch")


@pytest.mark.parametrize("path", TFSTATE)
def test_env_next_to_plugins_falls_back_to_its_default(in_fixtures: Path, path: str) -> None:
    [s, _] = schedules(path)
    assert s.target.container_overrides[0].environment == (("LOG_LEVEL", "info"),)
    [s, _] = schedules(path, {"REPORT_LEVEL": "warn"})
    assert s.target.container_overrides[0].environment == (("LOG_LEVEL", "warn"),)


def test_each_prefix_reads_its_own_state(in_fixtures: Path, tmp_path: Path) -> None:
    """Swap the two paths: the lookups now miss, each named with the state it was looked up in."""
    text = (FIXTURES / "configs" / "tfstate_prefixed.yaml").read_text()
    swapped = tmp_path / "swapped.yaml"
    swapped.write_text(text.replace("configs/network.tfstate", "@").replace("configs/edge.tfstate",
                                                                             "configs/network.tfstate")
                       .replace("@", "configs/edge.tfstate"))
    with pytest.raises(ConfigError) as e:
        schedules(str(swapped))
    messages = [p.message for p in e.value.problems]
    assert any("`output.cluster_name` is not in" in m and "edge.tfstate" in m for m in messages), messages


def test_from_another_folder_the_state_is_not_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = FIXTURES / "configs" / "tfstate.yaml"
    with pytest.raises(ConfigError) as e:
        schedules(str(config))
    [p] = e.value.problems
    assert p.line == 3
    assert p.message.startswith(
        "tfstate: state file `configs/network.tfstate` not found (looked for "
        f"{FIXTURES}/configs/configs/network.tfstate and {tmp_path}/configs/network.tfstate)")


@pytest.mark.parametrize("path", TFSTATE)
def test_cli_validate_and_render(in_fixtures: Path, cli: Callable[..., Result], path: str) -> None:
    res = cli("-c", path, "validate")
    assert res.code == 0, res.out + res.err
    res = cli("-c", path, "render", "--format", "json")
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    assert doc["cluster"] == "batch"
    report, probe = doc["rules"]
    assert report["network_configuration"]["aws_vpc_configuration"]["subnets"] == [
        "subnet-0a11a11a11a11a110", "subnet-0b22b22b22b22b220"]
    assert probe["network_configuration"]["aws_vpc_configuration"]["subnets"] == ["subnet-0f66f66f66f66f660"]


# --- ssm, against moto --------------------------------------------------------------------------------------


@pytest.fixture
def ssm_params(aws: str) -> None:
    ssm = client("ssm", "us-west-2")  # the config's region: the plugin's default
    ssm.put_parameter(Name="/batch/report-revision", Value="12", Type="String")
    ssm.put_parameter(Name="/batch/subnets", Value="subnet-0a11a11a11a11a110,subnet-0b22b22b22b22b220",
                      Type="StringList")
    ssm.put_parameter(Name="/batch/db-password", Value="pw-from-parameter-store", Type="SecureString")


def test_ssm_config_resolves_values_list_items_and_secrets(ssm_params: None, in_fixtures: Path,
                                                           cli: Callable[..., Result]) -> None:
    [s] = schedules("configs/ssm.yaml")
    assert s.target.task_definition_arn == f"arn:aws:ecs:us-west-2:{ACCOUNT}:task-definition/report:12"
    assert s.target.network is not None and s.target.network.subnets == ("subnet-0b22b22b22b22b220",)
    assert s.target.container_overrides[0].environment == (("DB_PASSWORD", "pw-from-parameter-store"),)
    assert secrets.is_sensitive("DB_PASSWORD", "pw-from-parameter-store")
    res = cli("-c", "configs/ssm.yaml", "render", "--format", "json")
    assert res.code == 0, res.err
    assert "pw-from-parameter-store" not in res.out


def test_ssm_missing_parameter_is_located(aws: str, in_fixtures: Path, cli: Callable[..., Result]) -> None:
    res = cli("-c", "configs/ssm.yaml", "validate")
    assert res.code == 1
    assert res.out.startswith("configs/ssm.yaml:8:")
    assert "/batch/report-revision" in res.out and "Traceback" not in res.out + res.err


# --- ecschedule's own samples (../shared) ---------------------------------------------------------------------

SAMPLES = ["testdata/sample3.yaml", "testdata/sample5.yaml", "testdata/sample5.jsonnet"]


@pytest.fixture
def in_compat(monkeypatch: pytest.MonkeyPatch) -> Path:
    return run_from(monkeypatch, COMPAT, "DUMMY_HOGE_ENV")


@needs_corpus
@pytest.mark.parametrize("sample", SAMPLES)
def test_sample_resolves_the_state_values(in_compat: Path, sample: str) -> None:
    [s] = schedules(sample)
    state = tfstate.State(json.loads((COMPAT / "testdata" / "terraform.tfstate").read_text()), "terraform.tfstate")
    assert s.target.network is not None
    assert s.target.network.subnets == (state.lookup("aws_subnet.private-a.id"),
                                        state.lookup("aws_subnet.private-c.id")) == ("subnet-01234567",
                                                                                     "subnet-12345678")
    assert s.target.network.security_groups == ("sg-11111111", "sg-99999999")
    assert s.target.network.assign_public_ip == "ENABLED"


@needs_corpus
def test_the_three_samples_give_equal_models(in_compat: Path) -> None:
    models = [schedules(p) for p in SAMPLES]
    assert len(models[0]) == 1
    assert models[0] == models[1] == models[2]
    assert [s.source.file for m in models for s in m if s.source] == SAMPLES  # each from its own file


@needs_corpus
def test_sample_from_another_folder_the_state_is_not_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as e:
        schedules(str(COMPAT / "testdata" / "sample3.yaml"))
    [p] = e.value.problems
    assert p.line == 15
    assert p.message.startswith(
        "tfstate: state file `testdata/terraform.tfstate` not found (looked for "
        f"{COMPAT}/testdata/testdata/terraform.tfstate and {tmp_path}/testdata/terraform.tfstate)")

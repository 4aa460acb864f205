"""Golden tests on ecschedule's own samples that use the tfstate plugin: sample3.yaml, sample5.yaml and
sample5.jsonnet describe the same rule, and must load unchanged, from the folder that holds testdata/
(their `path: testdata/terraform.tfstate` is relative to ecschedule's working directory)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import ecsched.config
from ecsched.arns import Account
from ecsched.errors import ConfigError
from ecsched.model import Schedule
from tests.conftest import ACCOUNT, COMPAT, REGION, Result

SAMPLES = ["testdata/sample3.yaml", "testdata/sample5.yaml", "testdata/sample5.jsonnet"]


@pytest.fixture
def in_compat(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(COMPAT)
    return COMPAT


def schedules(path: str, environ: dict[str, str] | None = None) -> list[Schedule]:
    cfg = ecsched.config.load([path], environ={} if environ is None else environ)
    return cfg.schedules(Account(ACCOUNT), REGION)


def golden() -> dict[str, Any]:
    """The values the samples look up, read straight from the state."""
    state = json.loads((COMPAT / "testdata" / "terraform.tfstate").read_text())
    ids: dict[str, str] = {}
    for r in state["resources"]:
        for inst in r["instances"]:
            key = f"{r['mode']}.{r['type']}.{r['name']}" + (f"[{inst['index_key']}]" if "index_key" in inst else "")
            ids[key] = inst["attributes"]["id"]
    return {
        "subnets": (ids["managed.aws_subnet.private-a"], ids["managed.aws_subnet.private-c"]),
        "security_groups": (ids["data.aws_security_group.default[first]"],
                            ids["data.aws_security_group.default[second]"]),
    }


@pytest.mark.parametrize("sample", SAMPLES)
def test_sample_resolves_the_state_values(in_compat: Path, sample: str) -> None:
    [s] = schedules(sample)
    want = golden()
    assert s.target.network is not None
    assert s.target.network.subnets == want["subnets"] == ("subnet-01234567", "subnet-12345678")
    assert s.target.network.security_groups == want["security_groups"] == ("sg-11111111", "sg-99999999")
    assert s.target.network.assign_public_ip == "ENABLED"


def test_the_three_samples_give_equal_models(in_compat: Path) -> None:
    models = [schedules(p) for p in SAMPLES]
    assert len(models[0]) == 1
    assert models[0] == models[1] == models[2]
    s = models[0][0]
    assert (s.name, s.expression, s.target.group, s.target.platform_version) == \
        ("hoge-task-name", "cron(0 0 * * ? *)", "xxx", "1.4.0")
    assert [s.source.file for m in models for s in m if s.source] == SAMPLES  # each from its own file


@pytest.mark.parametrize("sample", SAMPLES)
def test_dummy_hoge_env_falls_back_to_its_default(in_compat: Path, sample: str) -> None:
    [s] = schedules(sample)
    assert s.target.container_overrides[0].environment == (("HOGE_ENV", "HOGEGE"),)
    [s] = schedules(sample, {"DUMMY_HOGE_ENV": "from-env"})
    assert s.target.container_overrides[0].environment == (("HOGE_ENV", "from-env"),)


def test_sample2_must_env(in_compat: Path) -> None:
    [s] = schedules("testdata/sample2.yaml", {"DUMMY_HOGE_ENV": "set"})
    assert s.target.container_overrides[0].environment == (("HOGE_ENV", "set"),)
    with pytest.raises(ConfigError, match=r"sample2.yaml:13:\d+: environment variable DUMMY_HOGE_ENV is not set"):
        schedules("testdata/sample2.yaml")


def test_from_another_folder_the_state_is_not_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as e:
        schedules(str(COMPAT / "testdata" / "sample3.yaml"))
    [p] = e.value.problems
    assert p.line == 15
    assert p.message.startswith(
        "tfstate: state file `testdata/terraform.tfstate` not found (looked for "
        f"{COMPAT}/testdata/testdata/terraform.tfstate and {tmp_path}/testdata/terraform.tfstate)")


@pytest.mark.parametrize("sample", SAMPLES)
def test_cli_validate_and_render_the_samples(in_compat: Path, cli: Callable[..., Result],
                                             monkeypatch: pytest.MonkeyPatch, sample: str) -> None:
    monkeypatch.delenv("DUMMY_HOGE_ENV", raising=False)
    res = cli("-c", sample, "validate")
    assert res.code == 0, res.out + res.err
    res = cli("-c", sample, "render", "--format", "json")
    assert res.code == 0, res.err
    rule = json.loads(res.out)["rules"][0]
    assert rule["network_configuration"]["aws_vpc_configuration"]["subnets"] == list(golden()["subnets"])
    assert rule["containerOverrides"][0]["environment"] == {"HOGE_ENV": "HOGEGE"}

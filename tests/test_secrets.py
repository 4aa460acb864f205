"""Secret masking: sensitive keys (configurable with ECSCHED_SENSITIVE_KEYS) and marked values."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import ecsched.config
from ecsched.arns import Account
from ecsched.config import secrets
from ecsched.config.secrets import MASK, is_sensitive, mask_config, mask_env, sensitive_key_patterns
from tests.conftest import ACCOUNT, REGION, Result, client


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(secrets.ENV_VAR, raising=False)
    secrets.clear_sensitive()
    yield
    secrets.clear_sensitive()


@pytest.mark.parametrize(("key", "masked"), [
    ("DB_PASSWORD", True), ("db_password", True), ("PasswordHash", True),
    ("CLIENT_SECRET", True), ("secretName", True),
    ("GITHUB_TOKEN", True), ("token", True),
    ("AWS_ACCESS_KEY", True), ("api_key", True),
    ("KEY_NAME", False), ("MONKEY", False), ("KEYS", False), ("HOST", False), ("PASS", False),
])
def test_default_sensitive_keys_are_case_insensitive(key: str, masked: bool) -> None:
    assert is_sensitive(key, "some value") is masked
    assert mask_env({key: "v"}) == {key: MASK if masked else "v"}


def test_the_environment_variable_replaces_the_default_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(secrets.ENV_VAR, " *_DSN , license,")
    assert sensitive_key_patterns() == ["*_DSN", "license"]
    env = {"DATABASE_DSN": "postgres://x", "LICENSE": "abc", "DB_PASSWORD": "pw", "HOST": "h"}
    assert mask_env(env) == {"DATABASE_DSN": MASK, "LICENSE": MASK, "DB_PASSWORD": "pw", "HOST": "h"}


def test_an_empty_variable_masks_by_value_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(secrets.ENV_VAR, "")
    assert sensitive_key_patterns() == []
    secrets.mark_sensitive("marked-value-1")
    assert mask_env({"DB_PASSWORD": "pw", "X": "marked-value-1"}) == {"DB_PASSWORD": "pw", "X": MASK}


def test_patterns_can_be_read_from_a_given_environ() -> None:
    assert sensitive_key_patterns({}) == secrets.SENSITIVE_KEYS
    assert sensitive_key_patterns({secrets.ENV_VAR: "A*"}) == ["A*"]
    assert secrets.is_sensitive_key("abc", {secrets.ENV_VAR: "A*"})
    assert not secrets.is_sensitive_key("DB_PASSWORD", {secrets.ENV_VAR: "A*"})


def test_marked_values_are_masked_whole_or_embedded() -> None:
    secrets.mark_sensitive("hunter2-xyz")
    secrets.mark_sensitive("42")
    assert is_sensitive("HOST", "hunter2-xyz")
    assert is_sensitive("URL", "postgres://app:hunter2-xyz@db/app")  # embedded in a longer value
    assert is_sensitive("N", "42") and not is_sensitive("N", "1420")  # short values: only whole
    assert not is_sensitive("HOST", "db.internal")
    secrets.mark_sensitive("")  # nothing to hide: ignored, does not mask every string
    assert not is_sensitive("HOST", "db.internal")


def test_mask_config_masks_environment_and_marked_values_without_mutating() -> None:
    secrets.mark_sensitive("s3cr3t-value")
    data = {
        "rules": [{
            "name": "job", "description": "uses s3cr3t-value",
            "containerOverrides": [{"name": "app", "environment": {"API_TOKEN": "t", "MODE": "batch", "N": 3}}],
            "input": {"environment": [{"name": "DB_PASSWORD", "value": "p"}, {"name": "MODE", "value": "x"}]},
        }],
    }
    before = json.dumps(data)
    out = mask_config(data)
    assert json.dumps(data) == before
    r = out["rules"][0]
    assert r["description"] == MASK
    assert r["containerOverrides"][0]["environment"] == {"API_TOKEN": MASK, "MODE": "batch", "N": 3}
    assert r["input"]["environment"] == [{"name": "DB_PASSWORD", "value": MASK}, {"name": "MODE", "value": "x"}]
    assert secrets.mask_value("MODE", "batch") == "batch"


CONFIG = """region: us-east-1
cluster: api
rules:
- name: job
  scheduleExpression: rate(1 hour)
  taskDefinition: task1
  containerOverrides:
  - name: app
    environment:
      DB_HOST: {{ ssm "/app/host" }}
      DB_PASS: {{ ssm "/app/db" }}
      API_TOKEN: plain-token-value
plugins:
- name: ssm
"""


@pytest.fixture
def secret_config(aws: str, tmp_path: Path) -> str:
    ssm = client("ssm")
    ssm.put_parameter(Name="/app/host", Value="db.internal", Type="String")
    ssm.put_parameter(Name="/app/db", Value="pw-from-securestring", Type="SecureString")
    path = tmp_path / "ecsched.yaml"
    path.write_text(CONFIG)
    return str(path)


def test_render_masks_secure_strings_and_sensitive_keys(secret_config: str, cli: Callable[..., Result]) -> None:
    res = cli("-c", secret_config, "render", "--format", "json")
    assert res.code == 0, res.err
    env = json.loads(res.out)["rules"][0]["containerOverrides"][0]["environment"]
    assert env == {"DB_HOST": "db.internal", "DB_PASS": MASK, "API_TOKEN": MASK}
    assert "pw-from-securestring" not in res.out + res.err


def test_render_honours_the_configured_keys(secret_config: str, cli: Callable[..., Result],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(secrets.ENV_VAR, "*_HOST")
    res = cli("-c", secret_config, "render", "--format", "json")
    env = json.loads(res.out)["rules"][0]["containerOverrides"][0]["environment"]
    # DB_PASS is a SecureString: masked whatever the key list says
    assert env == {"DB_HOST": MASK, "DB_PASS": MASK, "API_TOKEN": "plain-token-value"}


def test_masked_values_are_still_applied(secret_config: str) -> None:
    cfg = ecsched.config.load([secret_config], aws_factory=None)
    [s] = cfg.schedules(Account(ACCOUNT), REGION)
    assert dict(s.target.container_overrides[0].environment) == {
        "DB_HOST": "db.internal", "DB_PASS": "pw-from-securestring", "API_TOKEN": "plain-token-value"}

"""Jsonnet configs: natives (env, must_env, tfstate, ssm, ssm_list), plugins declared in the file itself,
template actions left in the output, and errors located in the Jsonnet source."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import ecsched.config
from ecsched.config import secrets
from ecsched.config.plugins.tfstate import TFStatePlugin
from ecsched.errors import ConfigError
from tests.conftest import Result, client
from tests.test_plugins import write_state


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    yield
    secrets.clear_sensitive()


def rule(**fields: str) -> str:
    """A Jsonnet rule whose extra fields are Jsonnet expressions."""
    extra = "".join(f"    {k}: {v},\n" for k, v in fields.items())
    return ("  {\n    name: 'job',\n    scheduleExpression: 'rate(1 hour)',\n    taskDefinition: 'task1',\n"
            + extra + "  }")


def write(tmp_path: Path, body: str, name: str = "ecsched.jsonnet") -> str:
    path = tmp_path / name
    path.write_text(body)
    return str(path)


def load(path: str, **kw: Any) -> dict[str, Any]:
    kw.setdefault("environ", {})
    cfg = ecsched.config.load([path], **kw)
    return cfg.files[0].data


def load_error(path: str, **kw: Any) -> list[str]:
    kw.setdefault("environ", {})
    with pytest.raises(ConfigError) as e:
        ecsched.config.load([path], **kw)
    return [str(p) for p in e.value.problems]


TF_PLUGIN = "plugins: [{name: 'tfstate', config: {path: 'terraform.tfstate'}}],"


# --- env / must_env ------------------------------------------------------------------------------

def test_env_natives_give_typed_values(tmp_path: Path) -> None:
    # std.native('env') takes two parameters: jsonnet 0.22.0 broke such natives (google/jsonnet#1321)
    path = write(tmp_path, "local env = std.native('env');\n{\n  region: 'us-east-1', cluster: 'api',\n"
                           "  rules: [\n" + rule(taskCount="std.parseInt(env('COUNT', '1'))",
                                                 disabled="env('PAUSED', 'false') == 'true'",
                                                 description="std.native('must_env')('DESC')") + "\n  ],\n}\n")
    r = load(path, environ={"COUNT": "3", "PAUSED": "true", "DESC": "from env"})["rules"][0]
    assert (r["taskCount"], r["disabled"], r["description"]) == (3, True, "from env")
    r = load(path, environ={"DESC": "d"})["rules"][0]
    assert (r["taskCount"], r["disabled"]) == (1, False)


def test_must_env_native_error_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, "{\n  region: 'us-east-1',\n  cluster: std.native('must_env')('CLUSTER_NAME'),\n"
                           "  rules: [],\n}\n")
    [msg] = load_error(path)
    assert msg.startswith(f"{path}:3:12: Jsonnet: RUNTIME ERROR: environment variable CLUSTER_NAME is not set")


def test_ext_str_selects_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "local env = std.extVar('ENV');\n{\n  region: 'us-east-1', cluster: 'app-' + env,\n"
                           "  rules: [\n" + rule(taskCount="if env == 'prod' then 2 else 1") + "\n  ],\n}\n")
    assert load(path, ext_str={"ENV": "prod"})["rules"][0]["taskCount"] == 2
    assert load(path, ext_str={"ENV": "stg"})["cluster"] == "app-stg"
    [msg] = load_error(path)
    assert "(pass it with --ext-str K=V or --ext-code K=V)" in msg


# --- tfstate natives -----------------------------------------------------------------------------

def test_tfstate_native_returns_raw_values(tmp_path: Path) -> None:
    write_state(tmp_path / "terraform.tfstate")
    net = ("{aws_vpc_configuration: {subnets: tfstate('output.subnet_ids'), "
           "security_groups: [tfstate(\"data.aws_security_group.default['first'].id\")]}}")
    path = write(tmp_path, "local tfstate = std.native('tfstate');\n{\n  region: 'us-east-1', cluster: 'api',\n"
                           "  rules: [\n" + rule(network_configuration=net,
                                                 taskCount="tfstate('aws_ecs_cluster.main.capacity')")
                 + "\n  ],\n  " + TF_PLUGIN + "\n}\n")
    r = load(path)["rules"][0]
    assert r["network_configuration"]["aws_vpc_configuration"] == {
        "subnets": ["subnet-o1", "subnet-o2"], "security_groups": ["sg-first"]}
    assert r["taskCount"] == 3


def test_prefixed_natives_and_templates_share_one_state_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_state(tmp_path / "terraform.tfstate")
    loads: list[str] = []
    real = TFStatePlugin._load

    def counting(self: TFStatePlugin) -> Any:
        loads.append(self.location)
        return real(self)

    monkeypatch.setattr(TFStatePlugin, "_load", counting)
    path = write(tmp_path, "{\n  region: 'us-east-1', cluster: 'api',\n  rules: [\n"
                 + rule(description="std.native('net_tfstate')('output.vpc_id')",
                        group="'{{ net_tfstate `aws_subnet.by_az[\\'a\\'].id` }}'",
                        targetId="'{{ plugin `net_tfstatef` `aws_subnet.by_az[%q].id` `c` }}'")
                 + "\n  ],\n  plugins: [{name: 'tfstate', config: {path: 'terraform.tfstate'}, "
                   "func_prefix: 'net_'}],\n}\n")
    r = load(path)["rules"][0]
    assert (r["description"], r["group"], r["targetId"]) == ("vpc-out", "subnet-za", "subnet-zc")
    assert loads == ["terraform.tfstate"]


def test_tfstate_native_errors_are_located(tmp_path: Path) -> None:
    write_state(tmp_path / "terraform.tfstate")
    path = write(tmp_path, "{\n  region: 'us-east-1',\n  cluster: std.native('tfstate')('aws_ecs_cluster.mian.name'),\n"
                           "  rules: [],\n  " + TF_PLUGIN + "\n}\n")
    [msg] = load_error(path)
    assert msg.startswith(f"{path}:3:12: Jsonnet: RUNTIME ERROR: tfstate: `aws_ecs_cluster.mian.name` is not in "
                          "terraform.tfstate; nearest: aws_ecs_cluster.main")


def test_undeclared_plugin_natives_say_what_to_declare(tmp_path: Path) -> None:
    path = write(tmp_path, "{\n  region: 'us-east-1',\n  cluster: std.native('tfstate')('x.y.z'),\n  rules: [],\n}\n")
    [msg] = load_error(path)
    assert f"{path}:3:12:" in msg
    assert "std.native('tfstate') needs the tfstate plugin: declare it under `plugins:`" in msg
    path = write(tmp_path, "{\n  region: 'us-east-1',\n  cluster: std.native('vpc_tfstate')('x.y.z'),\n"
                           "  rules: [],\n}\n")
    [msg] = load_error(path)
    assert "only functions can be called, got null" in msg and "with their func_prefix" in msg


def test_template_problems_in_jsonnet_point_at_the_source_line(tmp_path: Path) -> None:
    write_state(tmp_path / "terraform.tfstate")
    path = write(tmp_path, "local a = 'x';\n{\n  region: 'us-east-1', cluster: 'api',\n  rules: [\n"
                 + rule(description="'{{ tfstate `output.nope` }}'", group='"{{ must_env `NOPE_GROUP` }}"')
                 + "\n  ],\n  " + TF_PLUGIN + "\n}\n")
    msgs = load_error(path)
    assert len(msgs) == 2
    assert msgs[0].startswith(f"{path}:9:19: tfstate: `output.nope` is not in terraform.tfstate; nearest: ")
    assert msgs[1] == (f"{path}:10:13: environment variable NOPE_GROUP is not set (required by must_env); "
                       "set it or use `env`")


def test_plugins_field_may_use_templates_and_ext_vars(tmp_path: Path) -> None:
    write_state(tmp_path / "states" / "net.tfstate")
    path = write(tmp_path, "{\n  region: 'us-east-1', cluster: std.native('tfstate')('output.vpc_id'),\n  rules: [],\n"
                           "  plugins: [{name: 'tfstate', config: {path: 'states/' + std.extVar('STATE')}}],\n"
                           "}\n")
    assert load(path, ext_str={"STATE": "net.tfstate"})["cluster"] == "vpc-out"
    path = write(tmp_path, "{\n  region: 'us-east-1', cluster: std.native('tfstate')('output.vpc_id'),\n  rules: [],\n"
                           "  plugins: [{name: 'tfstate', config: {path: '{{ env `STATE_PATH` `nope` }}'}}],\n}\n")
    assert load(path, environ={"STATE_PATH": "states/net.tfstate"})["cluster"] == "vpc-out"
    [msg] = load_error(path)
    assert "state file `nope` not found" in msg and msg.startswith(f"{path}:2:")


def test_plugins_declared_in_an_imported_library(tmp_path: Path) -> None:
    write_state(tmp_path / "terraform.tfstate")
    (tmp_path / "common.libsonnet").write_text("{ plugins: [{name: 'tfstate', config: {path: 'terraform.tfstate'}}] }")
    path = write(tmp_path, "local common = import 'common.libsonnet';\ncommon + {\n  region: 'us-east-1',\n"
                           "  cluster: std.native('tfstate')('output.vpc_id'),\n  rules: [],\n}\n")
    assert load(path)["cluster"] == "vpc-out"


def test_errors_while_reading_plugins_are_located(tmp_path: Path) -> None:
    path = write(tmp_path, "{\n  rules: [],\n  plugins: [{name: 'tfstate', config: {path: std.extVar('NOPE')}}],\n}\n")
    [msg] = load_error(path)
    assert msg.startswith(f"{path}:3:46: Jsonnet: RUNTIME ERROR: undefined external variable: NOPE")
    path = write(tmp_path, "{ rules: [], plugins: std.extVar('NOPE') }")
    [msg] = load_error(path)
    assert msg.startswith(f"{path}:1:23: ")  # column as the user wrote it, on line 1 as well


def test_unknown_plugin_in_jsonnet_points_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "{\n  rules: [],\n  plugins: [\n    { name: 'tfstat', config: {} },\n  ],\n}\n")
    assert load_error(path) == [f"{path}:4:7: unknown plugin `tfstat`; did you mean `tfstate`? "
                                "(known plugins: tfstate, ssm)"]


def test_values_containing_braces_are_not_read_as_templates(tmp_path: Path) -> None:
    path = write(tmp_path, "{\n  region: 'us-east-1', cluster: 'api',\n  rules: [\n"
                 + rule(description="std.native('env')('WEIRD', '')", group="'{{ `{{literal}}` }}'")
                 + "\n  ],\n}\n")
    r = load(path, environ={"WEIRD": "a{{ nope }}b"})["rules"][0]
    assert (r["description"], r["group"]) == ("a{{ nope }}b", "{{literal}}")


# --- ssm natives (moto) --------------------------------------------------------------------------

def test_ssm_natives(aws: str, tmp_path: Path) -> None:
    ssm = client("ssm")
    ssm.put_parameter(Name="/app/count", Value="4", Type="String")
    ssm.put_parameter(Name="/app/sgs", Value="sg-1,sg-2", Type="StringList")
    ssm.put_parameter(Name="/app/token", Value="tok-3f9a77", Type="SecureString")
    path = write(tmp_path, "local ssm = std.native('ssm');\n{\n  region: 'us-east-1', cluster: 'api',\n  rules: [\n"
                 + rule(taskCount="std.parseInt(ssm('/app/count'))",
                        description="std.native('ssm_list')('/app/sgs', 1)",
                        containerOverrides="[{name: 'app', environment: {T: ssm('/app/token')}}]")
                 + "\n  ],\n  plugins: [{name: 'ssm'}],\n}\n")
    r = load(path)["rules"][0]
    assert (r["taskCount"], r["description"]) == (4, "sg-2")
    assert r["containerOverrides"][0]["environment"] == {"T": "tok-3f9a77"}
    assert secrets.mask_config(r)["containerOverrides"][0]["environment"] == {"T": secrets.MASK}


def test_ssm_native_missing_parameter(aws: str, tmp_path: Path, cli: Callable[..., Result]) -> None:
    path = write(tmp_path, "{\n  region: 'us-east-1',\n  cluster: 'api',\n  rules: [\n"
                 + rule(description="std.native('ssm')('/nope/param')") + "\n  ],\n  plugins: [{name: 'ssm'}],\n}\n")
    res = cli("-c", path, "validate")
    assert res.code == 1
    assert f"{path}:9:18: Jsonnet: RUNTIME ERROR: ssm: parameter `/nope/param` not found in us-east-1" in res.out


def test_render_command_shows_the_evaluated_jsonnet(tmp_path: Path, cli: Callable[..., Result]) -> None:
    path = write(tmp_path, "{\n  region: 'us-east-1', cluster: 'api',\n  rules: [\n"
                 + rule(taskCount="std.length([1, 2])") + "\n  ],\n}\n")
    res = cli("-c", path, "render", "--format", "json")
    assert res.code == 0, res.err
    assert json.loads(res.out)["rules"][0]["taskCount"] == 2


# --- schedules/envs: one description, two environments ------------------------------------------

ENVS = Path(__file__).resolve().parents[1] / "schedules" / "envs"


def env_file(name: str) -> dict[str, str]:
    """A shell `KEY=value` file, as `set -a; . FILE` reads it."""
    out: dict[str, str] = {}
    for line in (ENVS / name).read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip().strip("'\"")
    return out


def env_schedules(env: str, fmt: str) -> list[Any]:
    from ecsched.arns import Account
    from tests.conftest import ACCOUNT

    if fmt == "jsonnet":
        cfg = ecsched.config.load([str(ENVS / "schedules.jsonnet")], ext_str={"ENV": env}, environ={})
    else:
        cfg = ecsched.config.load([str(ENVS / "schedules.yaml")], environ=env_file(f"{env}.env"))
    return cfg.schedules(Account(ACCOUNT), None)


@pytest.mark.parametrize("fmt", ["jsonnet", "yaml"])
def test_environment_examples_load_with_different_values(fmt: str) -> None:
    staging, prod = env_schedules("staging", fmt), env_schedules("prod", fmt)
    assert [s.name for s in staging] == ["app-staging-nightly-report", "app-staging-cleanup"]
    assert [s.name for s in prod] == ["app-prod-nightly-report", "app-prod-cleanup"]
    s, p = staging[0], prod[0]
    assert s.target.cluster_arn.endswith(":cluster/app-staging")
    assert p.target.cluster_arn.endswith(":cluster/app-production")
    assert (s.target.task_count, p.target.task_count) == (1, 2)
    assert (s.enabled, p.enabled) == (False, True)
    assert (s.expression, p.expression) == ("cron(0 3 * * ? *)", "cron(0 18 * * ? *)")
    assert s.target.network is not None and p.target.network is not None
    assert len(s.target.network.subnets) == 1 and len(p.target.network.subnets) == 2
    assert (s.tracking_id, p.tracking_id) == ("app-staging", "app-prod")


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_the_jsonnet_and_yaml_patterns_describe_the_same_schedules(env: str) -> None:
    assert env_schedules(env, "jsonnet") == env_schedules(env, "yaml")


def test_environment_examples_reject_an_unknown_environment() -> None:
    [msg] = load_error(str(ENVS / "schedules.jsonnet"), ext_str={"ENV": "qa"})
    assert "ENV must be one of prod, staging, not qa" in msg
    with pytest.raises(ConfigError, match="environment variable APP_CLUSTER is not set"):
        ecsched.config.load([str(ENVS / "schedules.yaml")], environ={"ENV": "qa"})


# --- issue 13 §5: one message per problem, where it is written; plugins hide nothing ----------------


def test_a_failed_template_call_is_reported_once_per_place_it_is_written(tmp_path: Path) -> None:
    path = write(tmp_path, "local cluster = '{{ must_env `ECSCHED_NOPE` }}';\n{\n  region: 'us-east-1',\n"
                 "  cluster: cluster,\n  rules: [\n" + rule(cluster="cluster", group="'{{ must_env `ECSCHED_NOPE` }}'")
                 + "\n  ],\n}\n")
    problems = load_error(path)
    assert [p.split(": ", 1)[0] for p in problems] == [f"{path}:1:18", f"{path}:11:13"]
    assert all("ECSCHED_NOPE is not set" in p for p in problems)


def test_a_top_level_template_error_is_on_its_own_line(tmp_path: Path) -> None:
    path = write(tmp_path, "{\n  region: 'us-east-1',\n  cluster: '{{ must_env `ECSCHED_NOPE` }}',\n  rules: [\n"
                 + rule() + "\n  ],\n}\n")
    [problem] = load_error(path)
    assert problem.startswith(f"{path}:3:13: environment variable ECSCHED_NOPE is not set")


def test_a_plugin_problem_does_not_hide_the_rules_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "{\n  region: 'us-east-1',\n  cluster: 'api',\n"
                 "  plugins: [{ name: 'tfstat', config: { path: 'x.tfstate' } }],\n  rules: [\n"
                 + rule(taskCount="11", bogus="1") + "\n  ],\n}\n")
    problems = load_error(path)
    assert [p.split(": ", 1)[1].split(";")[0].split(" is out")[0] for p in problems] == [
        "unknown plugin `tfstat`", "rule job: `taskCount` 11", "rule job: unknown key `bogus`"]
    lines = [int(p.split(":")[1]) for p in problems]
    assert lines == sorted(lines)


def test_yaml_plugin_and_template_problems_come_with_the_rules_problems(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("region: us-east-1\ncluster: {{ must_env `ECSCHED_NOPE` }}\nplugins:\n- name: tfstat\n"
                    "rules:\n- name: a\n  scheduleExpression: rate(0 hour)\n  taskDefinition: td\n"
                    "  group: {{ tfstate `aws_vpc.main.id` }}\n  bogus: 1\n")
    problems = load_error(str(path))
    assert [int(p.split(":")[1]) for p in problems] == [2, 4, 7, 10]
    assert "ECSCHED_NOPE is not set" in problems[0] and "unknown plugin `tfstat`" in problems[1]

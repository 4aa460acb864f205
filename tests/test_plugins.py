"""The tfstate and ssm plugins: lookups, path resolution, S3 and SSM on moto, and their errors."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ecsched.config import plugins, secrets
from ecsched.config.functions import Functions, builtin_functions
from ecsched.config.plugins import tfstate as tfstate_plugin
from ecsched.config.template import render
from tests.conftest import REGION, Result, client

STATE: dict[str, Any] = {
    "version": 4,
    "terraform_version": "1.5.7",
    "serial": 7,
    "lineage": "3f1b2c",
    "outputs": {
        "vpc_id": {"value": "vpc-out", "type": "string"},
        "subnet_ids": {"value": ["subnet-o1", "subnet-o2"], "type": ["list", "string"]},
        "db_password": {"value": "out-secret-8c1f", "type": "string", "sensitive": True},
    },
    "resources": [
        {"module": "module.vpc", "mode": "managed", "type": "aws_subnet", "name": "private", "each": "list",
         "instances": [
             {"index_key": 0, "attributes": {"id": "subnet-m0", "tags": {"Name": "p0", "kubernetes.io/role": "in"}}},
             {"index_key": 1, "attributes": {"id": "subnet-m1", "cidr_blocks": ["10.0.1.0/24", "10.0.2.0/24"]}},
         ]},
        {"module": 'module.app["api"]', "mode": "managed", "type": "aws_security_group", "name": "this",
         "instances": [{"attributes": {"id": "sg-api"}}]},
        {"module": "module.a.module.b", "mode": "data", "type": "aws_vpc", "name": "this",
         "instances": [{"attributes": {"id": "vpc-nested"}}]},
        {"mode": "managed", "type": "aws_ecs_cluster", "name": "main",
         "instances": [{"attributes": {"name": "api", "capacity": 3, "insights": True, "ratio": 2.0,
                                       "setting": [{"name": "containerInsights", "value": "enabled"}],
                                       "tags": {"b": "2", "a": "1"}, "timeouts": None}}]},
        {"mode": "managed", "type": "aws_subnet", "name": "by_az", "each": "map",
         "instances": [{"index_key": "a", "attributes": {"id": "subnet-za"}},
                       {"index_key": "c", "attributes": {"id": "subnet-zc"}}]},
        {"mode": "managed", "type": "aws_subnet", "name": "counted", "each": "list",
         "instances": [{"index_key": 0, "attributes": {"id": "subnet-c0"}}]},
        {"mode": "data", "type": "aws_security_group", "name": "default", "each": "map",
         "instances": [{"index_key": "first", "attributes": {"id": "sg-first"}},
                       {"index_key": "0", "attributes": {"id": "sg-string-zero"}}]},
        {"mode": "data", "type": "aws_caller_identity", "name": "current",
         "instances": [{"attributes": {"account_id": "123456789012"}}]},
        {"mode": "managed", "type": "aws_db_instance", "name": "main",
         "instances": [{"attributes": {"password": "state-secret-51d2", "endpoint": "db:5432"},
                        "sensitive_attributes": [[{"type": "get_attr", "value": "password"}]]}]},
        {"mode": "data", "type": "terraform_remote_state", "name": "net",
         "instances": [{"attributes": {"backend": "s3", "outputs": {"value": {"vpc": "vpc-remote"},
                                                                     "type": ["object", {"vpc": "string"}]}}}]},
    ],
}


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    yield
    secrets.clear_sensitive()


def write_state(path: Path, state: dict[str, Any] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state or STATE))
    return path


def setup_funcs(config_path: Path, entries: list[dict[str, Any]], **kw: Any) -> Functions:
    if not config_path.exists():
        config_path.parent.mkdir(parents=True, exist_ok=True)
        config_path.write_text("rules: []\n")
    funcs = builtin_functions({})
    problems = plugins.setup(entries, funcs, config_path=str(config_path), aws_factory=kw.pop("aws_factory", None),
                             **kw)
    assert problems == []
    return funcs


def ev(funcs: Functions, text: str) -> str:
    out, problems = render(text, funcs, file="t.yaml")
    assert problems == [], problems
    return out


def fail(funcs: Functions, text: str) -> str:
    _, problems = render(text, funcs, file="t.yaml")
    assert len(problems) == 1, problems
    return problems[0].message


@pytest.fixture
def tf(tmp_path: Path) -> Functions:
    write_state(tmp_path / "terraform.tfstate")
    return setup_funcs(tmp_path / "ecsched.yaml", [{"name": "tfstate", "config": {"path": "terraform.tfstate"}}])


# --- tfstate: addresses -------------------------------------------------------------------------

@pytest.mark.parametrize(("call", "want"), [
    ("tfstate `module.vpc.aws_subnet.private[0].id`", "subnet-m0"),
    ("tfstate `module.vpc.aws_subnet.private[1].id`", "subnet-m1"),
    ("tfstate `module.vpc.aws_subnet.private[0].tags.Name`", "p0"),
    ("tfstate `module.vpc.aws_subnet.private[0].tags[\"kubernetes.io/role\"]`", "in"),
    ("tfstate `module.vpc.aws_subnet.private[1].cidr_blocks[1]`", "10.0.2.0/24"),
    ("tfstate `module.app[\"api\"].aws_security_group.this.id`", "sg-api"),
    ("tfstate `module.app['api'].aws_security_group.this.id`", "sg-api"),
    ("tfstate `module.a.module.b.data.aws_vpc.this.id`", "vpc-nested"),
    ("tfstate `aws_subnet.by_az[\"a\"].id`", "subnet-za"),
    ("tfstate `aws_subnet.by_az['c'].id`", "subnet-zc"),
    ("tfstate `aws_subnet.counted[0].id`", "subnet-c0"),
    ("tfstate `data.aws_security_group.default['first'].id`", "sg-first"),
    ("tfstate `data.aws_security_group.default[\"0\"].id`", "sg-string-zero"),  # for_each key "0", not [0]
    ("tfstatef `data.aws_security_group.default['%s'].id` `first`", "sg-first"),
    ("tfstatef `module.vpc.aws_subnet.private[%d].id` 1", "subnet-m1"),
    ("tfstatef `aws_subnet.%s[%q].id` `by_az` `c`", "subnet-zc"),
    ("tfstate `data.aws_caller_identity.current.account_id`", "123456789012"),
    ("tfstate `data.terraform_remote_state.net.outputs.vpc`", "vpc-remote"),
    ("tfstate `output.vpc_id`", "vpc-out"),
    ("tfstate `output.subnet_ids[1]`", "subnet-o2"),
    ("tfstate `output.subnet_ids`", '["subnet-o1","subnet-o2"]'),
    ("tfstate `aws_ecs_cluster.main.capacity`", "3"),
    ("tfstate `aws_ecs_cluster.main.ratio`", "2"),
    ("tfstate `aws_ecs_cluster.main.insights`", "true"),
    ("tfstate `aws_ecs_cluster.main.tags`", '{"a":"1","b":"2"}'),
    ("tfstate `aws_ecs_cluster.main.setting[0].value`", "enabled"),
    ("plugin `tfstate` `output.vpc_id`", "vpc-out"),
])
def test_tfstate_resolves_addresses(tf: Functions, call: str, want: str) -> None:
    assert ev(tf, "{{ " + call + " }}") == want


@pytest.mark.parametrize(("call", "want"), [
    ("tfstate `aws_subnet.private-b.id`", "`aws_subnet.private-b.id` is not in terraform.tfstate; nearest: "),
    ("tfstate `module.vpc.aws_subnet.private.id`",
     "nearest: module.vpc.aws_subnet.private[0], module.vpc.aws_subnet.private[1]"),
    ("tfstate `aws_subnet.by_az[\"b\"].id`", 'nearest: aws_subnet.by_az["a"], aws_subnet.by_az["c"]'),
    ("tfstate `aws_subnet.counted[\"0\"].id`", "nearest: aws_subnet.counted[0]"),
    ("tfstate `data.aws_security_group.default.id`",
     'nearest: data.aws_security_group.default["0"], data.aws_security_group.default["first"]'),
    ("tfstate `aws_ecs_cluster.main.nmae`", "aws_ecs_cluster.main has no attribute `nmae`; nearest: name"),
    ("tfstate `aws_ecs_cluster.main.setting[3]`", "index [3] is out of range"),
    ("tfstate `aws_ecs_cluster.main.name.first`", "aws_ecs_cluster.main.name is `api`, it has no `first`"),
    ("tfstate `aws_ecs_cluster.main.timeouts`", "`aws_ecs_cluster.main.timeouts` is null"),
    ("tfstate `output.vpc`", "nearest: output.vpc_id"),
    ("tfstate `aws_subnet.[`", "cannot read the address"),
    ("tfstate `a` `b`", "tfstate takes one address"),
    ("tfstatef `aws_subnet.by_az['%s'].id`", "needs more arguments"),
])
def test_tfstate_missing_addresses_name_it_and_suggest_the_nearest(tf: Functions, call: str, want: str) -> None:
    assert want in fail(tf, "{{ " + call + " }}")


def test_tfstate_suggestions_exclude_far_addresses(tf: Functions) -> None:
    msg = fail(tf, "{{ tfstate `aws_subnet.private-b.id` }}")
    nearest = msg.split("nearest: ")[1].split(", ")
    assert len(nearest) == 3 and all("aws_subnet." in n for n in nearest), nearest


def test_tfstate_sensitive_values_are_marked(tf: Functions) -> None:
    assert not secrets.is_sensitive("ENDPOINT", "state-secret-51d2")
    assert ev(tf, "{{ tfstate `aws_db_instance.main.password` }}") == "state-secret-51d2"
    assert ev(tf, "{{ tfstate `output.db_password` }}") == "out-secret-8c1f"
    assert ev(tf, "{{ tfstate `aws_db_instance.main.endpoint` }}") == "db:5432"
    assert secrets.is_sensitive("ENDPOINT", "state-secret-51d2")
    assert secrets.is_sensitive("X", "out-secret-8c1f")
    assert not secrets.is_sensitive("X", "db:5432")


# --- tfstate: reading the state -----------------------------------------------------------------

def test_state_is_read_once_per_plugin_instance_and_lazily(tmp_path: Path) -> None:
    state = write_state(tmp_path / "terraform.tfstate")
    entries = [{"name": "tfstate", "config": {"path": "terraform.tfstate"}}]
    funcs = setup_funcs(tmp_path / "ecsched.yaml", entries)
    later = setup_funcs(tmp_path / "ecsched.yaml", entries)  # not read at setup...
    assert ev(funcs, "{{ tfstate `output.vpc_id` }}") == "vpc-out"
    state.unlink()
    assert ev(funcs, "{{ tfstate `aws_subnet.by_az['a'].id` }}") == "subnet-za"  # ...nor read again
    assert "not found" in fail(later, "{{ tfstate `output.vpc_id` }}")  # ...each instance reads its own


def test_two_prefixed_instances_read_two_states(tmp_path: Path) -> None:
    write_state(tmp_path / "a.tfstate")
    other = json.loads(json.dumps(STATE))
    other["outputs"]["vpc_id"]["value"] = "vpc-other"
    write_state(tmp_path / "b.tfstate", other)
    funcs = setup_funcs(tmp_path / "ecsched.yaml", [
        {"name": "tfstate", "config": {"path": "a.tfstate"}, "func_prefix": "first_"},
        {"name": "tfstate", "config": {"path": "b.tfstate"}, "func_prefix": "second_"},
    ])
    text = "{{ first_tfstate `output.vpc_id` }} {{ plugin `second_tfstate` `output.vpc_id` }} " \
           "{{ second_tfstatef `output.%s` `vpc_id` }}"
    assert ev(funcs, text) == "vpc-out vpc-other vpc-other"
    assert "unknown template function `tfstate`" in fail(funcs, "{{ tfstate `output.vpc_id` }}")


def test_relative_path_is_resolved_beside_the_config_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_state(tmp_path / "conf" / "terraform.tfstate")
    other = json.loads(json.dumps(STATE))
    other["outputs"]["vpc_id"]["value"] = "vpc-cwd"
    write_state(tmp_path / "cwd" / "terraform.tfstate", other)
    monkeypatch.chdir(tmp_path / "cwd")
    funcs = setup_funcs(tmp_path / "conf" / "ecsched.yaml",
                        [{"name": "tfstate", "config": {"path": "terraform.tfstate"}}])
    assert ev(funcs, "{{ tfstate `output.vpc_id` }}") == "vpc-out"


def test_relative_path_falls_back_to_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # ecschedule resolves `path:` against its working directory: its samples rely on it.
    write_state(tmp_path / "testdata" / "terraform.tfstate")
    monkeypatch.chdir(tmp_path)
    funcs = setup_funcs(tmp_path / "testdata" / "ecsched.yaml",
                        [{"name": "tfstate", "config": {"path": "testdata/terraform.tfstate"}}])
    assert ev(funcs, "{{ tfstate `output.vpc_id` }}") == "vpc-out"


def test_missing_state_file_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    funcs = setup_funcs(tmp_path / "conf" / "ecsched.yaml", [{"name": "tfstate", "config": {"path": "nope.tfstate"}}])
    _, problems = render("a: {{ tfstate `x.y.id` }}\nb: {{ tfstate `x.z.id` }}", funcs, file="t.yaml")
    assert len(problems) == 1  # once, at the first use, not once per lookup
    p = problems[0]
    assert p.line == 1
    assert p.message.startswith("tfstate: state file `nope.tfstate` not found (looked for ")
    assert str(tmp_path / "conf" / "nope.tfstate") in p.message and str(tmp_path / "nope.tfstate") in p.message


@pytest.mark.parametrize(("content", "want"), [
    ("{not json", "is not valid JSON"),
    (json.dumps({"version": 3, "modules": []}), "has state version 3; ecsched reads version 4"),
    (json.dumps([1, 2]), "is not a Terraform state"),
    (json.dumps({"version": 4, "backend": {"type": "gcs", "config": {}}}), "points at a `gcs` backend"),
])
def test_unreadable_states_are_clear_errors(tmp_path: Path, content: str, want: str) -> None:
    (tmp_path / "terraform.tfstate").write_text(content)
    funcs = setup_funcs(tmp_path / "ecsched.yaml", [{"name": "tfstate", "config": {"path": "terraform.tfstate"}}])
    assert want in fail(funcs, "{{ tfstate `output.vpc_id` }}")


def test_url_accepts_local_paths_and_file_urls(tmp_path: Path) -> None:
    state = write_state(tmp_path / "s" / "terraform.tfstate")
    funcs = setup_funcs(tmp_path / "ecsched.yaml", [
        {"name": "tfstate", "config": {"url": "s/terraform.tfstate"}, "func_prefix": "rel_"},
        {"name": "tfstate", "config": {"url": f"file://{state}"}, "func_prefix": "file_"},
    ])
    assert ev(funcs, "{{ rel_tfstate `output.vpc_id` }} {{ file_tfstate `output.vpc_id` }}") == "vpc-out vpc-out"


@pytest.mark.parametrize(("config", "want"), [
    ({}, "needs `config.path` (a local state file) or `config.url`"),
    ({"path": 3}, "`config.path` must be a string"),
    ({"pth": "x"}, "unknown config key `pth`"),
])
def test_tfstate_config_errors(tmp_path: Path, config: dict[str, Any], want: str) -> None:
    cfg = tmp_path / "ecsched.yaml"
    cfg.write_text("rules: []\nplugins:\n- name: tfstate\n  config: {}\n")
    problems = plugins.setup([{"name": "tfstate", "config": config}], builtin_functions({}), config_path=str(cfg),
                             aws_factory=None)
    assert [p.line for p in problems] == [3]
    assert want in problems[0].message


def test_unsupported_url_scheme(tmp_path: Path) -> None:
    funcs = setup_funcs(tmp_path / "ecsched.yaml", [{"name": "tfstate", "config": {"url": "gs://b/k"}}])
    assert "the URL scheme `gs` is not supported" in fail(funcs, "{{ tfstate `output.vpc_id` }}")


# --- tfstate in S3 (moto) -----------------------------------------------------------------------

def test_tfstate_from_s3(aws: str, tmp_path: Path) -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket="tf-states")
    s3.put_object(Bucket="tf-states", Key="network/terraform.tfstate", Body=json.dumps(STATE).encode())
    calls: list[str | None] = []

    def factory(region: str | None = None) -> Any:
        from ecsched.aws import Aws

        calls.append(region)
        return Aws(region=region)

    funcs = setup_funcs(tmp_path / "ecsched.yaml",
                        [{"name": "tfstate", "config": {"url": "s3://tf-states/network/terraform.tfstate"}}],
                        aws_factory=factory, region=REGION)
    assert ev(funcs, "{{ tfstate `module.vpc.aws_subnet.private[1].id` }}") == "subnet-m1"
    assert ev(funcs, "{{ tfstate `output.vpc_id` }}") == "vpc-out"
    assert calls == [REGION]  # one Aws, in the config's region


def test_tfstate_s3_missing_object_is_a_clear_error(aws: str, tmp_path: Path) -> None:
    client("s3").create_bucket(Bucket="tf-states")
    funcs = setup_funcs(tmp_path / "ecsched.yaml", [{"name": "tfstate", "config": {"url": "s3://tf-states/nope"}}])
    assert fail(funcs, "{{ tfstate `output.vpc_id` }}") == \
        "tfstate: cannot read s3://tf-states/nope: no such object (NoSuchKey)"
    funcs = setup_funcs(tmp_path / "ecsched.yaml", [{"name": "tfstate", "config": {"url": "s3://no-bucket/k"}}])
    assert "cannot read s3://no-bucket/k: NoSuchBucket" in fail(funcs, "{{ tfstate `output.vpc_id` }}")


def test_local_backend_pointer_is_followed_to_s3(aws: str, tmp_path: Path) -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket="tf-states")
    s3.put_object(Bucket="tf-states", Key="app.tfstate", Body=json.dumps(STATE).encode())
    staging = json.loads(json.dumps(STATE))
    staging["outputs"]["vpc_id"]["value"] = "vpc-staging"
    s3.put_object(Bucket="tf-states", Key="env:/staging/app.tfstate", Body=json.dumps(staging).encode())
    pointer = {"version": 3, "serial": 1,
               "backend": {"type": "s3", "config": {"bucket": "tf-states", "key": "app.tfstate"}}}
    write_state(tmp_path / ".terraform" / "terraform.tfstate", pointer)
    entries = [{"name": "tfstate", "config": {"path": ".terraform/terraform.tfstate"}}]
    funcs = setup_funcs(tmp_path / "ecsched.yaml", entries)
    assert ev(funcs, "{{ tfstate `output.vpc_id` }}") == "vpc-out"
    funcs = setup_funcs(tmp_path / "ecsched.yaml", entries, environ={"TF_WORKSPACE": "staging"})
    assert ev(funcs, "{{ tfstate `output.vpc_id` }}") == "vpc-staging"


# --- ssm (moto) ---------------------------------------------------------------------------------

@pytest.fixture
def ssm_params(aws: str) -> Any:
    ssm = client("ssm")
    ssm.put_parameter(Name="/app/host", Value="db.internal", Type="String")
    ssm.put_parameter(Name="/app/subnets", Value="subnet-1,subnet-2,subnet-3", Type="StringList")
    ssm.put_parameter(Name="/app/db-password", Value="s3cr3t-from-ssm", Type="SecureString")
    return ssm


def ssm_funcs(tmp_path: Path, config: dict[str, Any] | None = None, prefix: str = "") -> Functions:
    entry: dict[str, Any] = {"name": "ssm", "config": config or {}, "func_prefix": prefix}
    return setup_funcs(tmp_path / "ecsched.yaml", [entry], region=REGION)


def test_ssm_values_list_items_and_secure_strings(ssm_params: Any, tmp_path: Path) -> None:
    funcs = ssm_funcs(tmp_path)
    assert ev(funcs, '{{ ssm "/app/host" }}') == "db.internal"
    assert ev(funcs, '{{ ssm "/app/subnets" }}') == "subnet-1,subnet-2,subnet-3"
    assert ev(funcs, '{{ ssm "/app/subnets" 0 }}|{{ ssm `/app/subnets` 2 }}') == "subnet-1|subnet-3"
    assert not secrets.is_sensitive("DB", "s3cr3t-from-ssm")
    assert ev(funcs, '{{ ssm "/app/db-password" }}') == "s3cr3t-from-ssm"  # decrypted, applied as is
    assert secrets.is_sensitive("DB", "s3cr3t-from-ssm")  # ...and hidden from every output
    assert not secrets.is_sensitive("HOST", "db.internal")


def test_ssm_lookups_are_cached_within_a_run(ssm_params: Any, tmp_path: Path) -> None:
    funcs = ssm_funcs(tmp_path)
    assert ev(funcs, '{{ ssm "/app/host" }}') == "db.internal"
    ssm_params.put_parameter(Name="/app/host", Value="changed", Type="String", Overwrite=True)
    assert ev(funcs, '{{ ssm "/app/host" }} {{ plugin "ssm" "/app/host" }}') == "db.internal db.internal"
    assert ev(ssm_funcs(tmp_path), '{{ ssm "/app/host" }}') == "changed"  # a new run reads again


@pytest.mark.parametrize(("call", "want"), [
    ('ssm "/app/nope"', "ssm: parameter `/app/nope` not found in us-east-1"),
    ('ssm "/app/host" 0', "`/app/host` is a String parameter, not a StringList: drop the index"),
    ('ssm "/app/subnets" 3', "`/app/subnets` has 3 item(s) (0 to 2); there is no item 3"),
    ('ssm "/app/subnets" "x"', "must be a whole number, got `x`"),
    ('ssm ""', "the parameter name must be a non-empty string"),
    ('ssm "/a" 1 2', "ssm takes a parameter name and, for a StringList, an index"),
])
def test_ssm_errors(ssm_params: Any, tmp_path: Path, call: str, want: str) -> None:
    assert want in fail(ssm_funcs(tmp_path), "{{ " + call + " }}")


def test_ssm_region_and_prefix(ssm_params: Any, tmp_path: Path) -> None:
    client("ssm", "us-west-2").put_parameter(Name="/west/only", Value="w", Type="String")
    funcs = ssm_funcs(tmp_path, {"region": "us-west-2"}, prefix="west_")
    assert ev(funcs, '{{ west_ssm "/west/only" }}') == "w"
    assert "not found in us-east-1" in fail(ssm_funcs(tmp_path), '{{ ssm "/west/only" }}')


def test_ssm_config_errors(tmp_path: Path) -> None:
    cfg = tmp_path / "ecsched.yaml"
    cfg.write_text("rules: []\n")
    problems = plugins.setup([{"name": "ssm", "config": {"regoin": "x"}}], builtin_functions({}),
                             config_path=str(cfg), aws_factory=None)
    assert "unknown config key `regoin` (known: region)" in problems[0].message


# --- wrong plugin names and declarations --------------------------------------------------------

def test_unknown_plugin_name_points_at_its_line(tmp_path: Path) -> None:
    cfg = tmp_path / "ecsched.yaml"
    cfg.write_text("rules: []\nplugins:\n- name: tfstate\n  config: {path: x}\n- name: tfstat\n  config: {}\n")
    entries = [{"name": "tfstate", "config": {"path": "x"}}, {"name": "tfstat", "config": {}}]
    problems = plugins.setup(entries, builtin_functions({}), config_path=str(cfg), aws_factory=None)
    assert [str(p) for p in problems] == [
        f"{cfg}:5:3: unknown plugin `tfstat`; did you mean `tfstate`? (known plugins: tfstate, ssm)"]


@pytest.mark.parametrize(("entries", "want"), [
    ({"name": "tfstate"}, "`plugins` must be a list"),
    ([{"config": {}}], "plugins[0] needs a `name`"),
    ([{"name": "tfstate", "config": "x"}], "`config` must be a mapping"),
    ([{"name": "tfstate", "config": {"path": "a"}, "func_prefix": 1}], "`func_prefix` must be a string"),
    ([{"name": "tfstate", "config": {"path": "a"}}, {"name": "tfstate", "config": {"path": "b"}}],
     "function `tfstate` is already defined (by the tfstate plugin (a)); give each plugin its own `func_prefix`"),
])
def test_bad_plugin_declarations(tmp_path: Path, entries: Any, want: str) -> None:
    cfg = tmp_path / "ecsched.yaml"
    cfg.write_text("rules: []\n")
    problems = plugins.setup(entries, builtin_functions({}), config_path=str(cfg), aws_factory=None)
    assert any(want in p.message for p in problems), problems


def test_plugin_names_are_case_insensitive_as_in_ecschedule(tmp_path: Path) -> None:
    write_state(tmp_path / "terraform.tfstate")
    funcs = setup_funcs(tmp_path / "ecsched.yaml", [{"name": "TFState", "config": {"path": "terraform.tfstate"}}])
    assert ev(funcs, "{{ tfstate `output.vpc_id` }}") == "vpc-out"


def test_placeholder_region_from_a_lenient_pass_is_ignored(tmp_path: Path) -> None:
    seen: list[Any] = []
    funcs = builtin_functions({})
    cfg = tmp_path / "ecsched.yaml"
    cfg.write_text("rules: []\n")
    plugins.setup([{"name": "ssm"}], funcs, config_path=str(cfg), region="0", aws_factory=lambda *a: seen.append(a))
    with pytest.raises(Exception):  # noqa: B017 (the fake factory returns None)
        funcs.call("ssm", ["/x"])
    assert seen == [()]


# --- end to end through the CLI -----------------------------------------------------------------

RULE = """region: us-east-1
cluster: api
rules:
- name: job
  scheduleExpression: rate(1 hour)
  taskDefinition: task1
  containerOverrides:
  - name: app
    environment:
      A: {a}
      B: {b}
plugins:
{plugins}
"""


def config(tmp_path: Path, a: str, b: str = "x", plugins_yaml: str = "") -> str:
    path = tmp_path / "ecsched.yaml"
    path.write_text(RULE.format(a=a, b=b, plugins=plugins_yaml or
                                "- name: tfstate\n  config:\n    path: terraform.tfstate"))
    return str(path)


def test_cli_validate_reports_a_missing_address_with_its_line(tmp_path: Path, cli: Callable[..., Result]) -> None:
    write_state(tmp_path / "terraform.tfstate")
    path = config(tmp_path, "{{ tfstate `output.vpc_id` }}", "{{ tfstate `aws_subnet.by_az['b'].id` }}")
    res = cli("-c", path, "validate")
    assert res.code == 1
    assert f"{path}:11:10: tfstate: `aws_subnet.by_az['b'].id` is not in terraform.tfstate; nearest: " \
           'aws_subnet.by_az["a"], aws_subnet.by_az["c"]' in res.out


def test_cli_validate_reports_a_missing_state_file(tmp_path: Path, cli: Callable[..., Result]) -> None:
    path = config(tmp_path, "{{ tfstate `output.vpc_id` }}", "{{ tfstate `output.x` }}")
    res = cli("-c", path, "validate")
    assert res.code == 1
    lines = [line for line in res.out.splitlines() if "tfstate" in line]
    assert len(lines) == 1 and lines[0].startswith(f"{path}:10:10: tfstate: state file `terraform.tfstate` not found")


def test_cli_validate_reports_a_wrong_plugin_name(tmp_path: Path, cli: Callable[..., Result]) -> None:
    path = config(tmp_path, "{{ tfstate `output.vpc_id` }}", plugins_yaml="- name: tfstat\n  config: {path: x}")
    res = cli("-c", path, "validate")
    assert res.code == 1
    assert f"{path}:13:3: unknown plugin `tfstat`; did you mean `tfstate`?" in res.out


def test_cli_validate_reports_a_wrong_plugin_function(tmp_path: Path, cli: Callable[..., Result]) -> None:
    write_state(tmp_path / "terraform.tfstate")
    path = config(tmp_path, "{{ plugin `first_tfstate` `output.vpc_id` }}")
    res = cli("-c", path, "validate")
    assert res.code == 1
    assert f"{path}:10:10: no plugin function `first_tfstate`; the declared plugins provide: tfstate, tfstatef" \
        in res.out


def test_cli_validate_reports_a_missing_parameter(ssm_params: Any, tmp_path: Path, cli: Callable[..., Result]) -> None:
    path = config(tmp_path, '{{ ssm "/app/host" }}', '{{ ssm "/app/missing" }}', plugins_yaml="- name: ssm")
    res = cli("-c", path, "validate")
    assert res.code == 1
    assert f"{path}:11:10: ssm: parameter `/app/missing` not found in us-east-1" in res.out


def test_cli_render_resolves_plugins(ssm_params: Any, tmp_path: Path, cli: Callable[..., Result]) -> None:
    write_state(tmp_path / "terraform.tfstate")
    plugins_yaml = "- name: ssm\n- name: tfstate\n  config: {path: terraform.tfstate}"
    path = config(tmp_path, '{{ ssm "/app/subnets" 1 }}', "{{ tfstate `module.vpc.aws_subnet.private[0].id` }}",
                  plugins_yaml=plugins_yaml)
    res = cli("-c", path, "render", "--format", "json")
    assert res.code == 0, res.err
    env = json.loads(res.out)["rules"][0]["containerOverrides"][0]["environment"]
    assert env == {"A": "subnet-2", "B": "subnet-m0"}


def test_plugin_module_interface() -> None:
    assert callable(tfstate_plugin.setup)
    assert os.path.basename(tfstate_plugin.__file__ or "") == "tfstate.py"

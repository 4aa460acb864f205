"""The schema and the offline validator: messages, limits, warnings, and agreement with jsonschema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from ecsched.config import load
from ecsched.config.loader import ConfigFile, LoadFailed, LoadOptions, load_file
from ecsched.config.validate import schema, schema_errors, validate_file
from ecsched.errors import ConfigError
from tests.conftest import COMPAT

ROOT = Path(__file__).resolve().parents[1]
BAD = Path(__file__).parent / "badinput"


def rule(**extra: Any) -> dict[str, Any]:
    return {"name": "job", "scheduleExpression": "cron(0 0 * * ? *)", "taskDefinition": "task1", **extra}


def problems(doc: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(error messages, warning messages) for a document, without locations."""
    errors, warnings = validate_file(ConfigFile("f.yaml", doc))
    return [p.message for p in errors], [p.message for p in warnings]


def doc(*rules: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"region": "us-east-1", "cluster": "api", **top, "rules": list(rules)}


# --- the schema file ---------------------------------------------------------------------------------


def test_the_schema_ships_once_with_a_stable_id() -> None:
    assert not (ROOT / "docs" / "schema.json").exists()  # `ecsched schema` prints it
    assert schema()["$id"] == "https://github.com/ecsched/ecsched/schema/config.json"


def test_schema_is_valid_draft_2020_12() -> None:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(schema())
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


ECSCHEDULE_TOP = ["region", "cluster", "role", "trackingId", "plugins", "rules"]
ECSCHEDULE_RULE = ["name", "description", "scheduleExpression", "disabled", "targetId", "taskDefinition",
                   "taskCount", "taskOverride", "containerOverrides", "role", "group", "launch_type",
                   "platform_version", "propagateTags", "capacityProviderStrategy", "network_configuration",
                   "dead_letter_config", "region", "cluster", "trackingId"]
OURS_RULE = ["retryPolicy", "enableExecuteCommand", "enableECSManagedTags", "placementConstraints",
             "placementStrategy", "tags"]


def test_schema_has_every_ecschedule_key_and_ours() -> None:
    s = schema()
    assert set(ECSCHEDULE_TOP) <= set(s["properties"])
    r = s["$defs"]["rule"]["properties"]
    assert set(ECSCHEDULE_RULE + OURS_RULE) <= set(r)
    assert set(r["taskOverride"]["properties"]) == {"cpu", "memory"}
    assert set(r["containerOverrides"]["items"]["properties"]) == {
        "name", "command", "environment", "cpu", "memory", "memoryReservation"}
    vpc = r["network_configuration"]["properties"]["aws_vpc_configuration"]["properties"]
    assert set(vpc) == {"subnets", "security_groups", "assign_public_ip"}
    assert set(r["dead_letter_config"]["properties"]) == {"sqs"}
    assert set(s["properties"]["plugins"]["items"]["properties"]) == {"name", "config", "func_prefix"}
    assert set(r["retryPolicy"]["properties"]) == {"maximumRetryAttempts", "maximumEventAgeInSeconds"}


# --- jsonschema is the validator: every error it reports gets our words ------------------------------


def _jsonschema_paths(data: Any) -> set[tuple[Any, ...]]:
    from jsonschema import Draft202012Validator

    return {tuple(e.absolute_path) for e in Draft202012Validator(schema()).iter_errors(data)}


def _our_paths(data: Any) -> set[tuple[Any, ...]]:
    # jsonschema reports unknown keys at their object; warnings (`deprecated`) are no errors to it.
    return {e.origin if e.origin is not None else e.path[:-1] if e.kind == "unknown" else e.path
            for e in schema_errors(data) if e.kind != "warning"}


def _loaded_corpus() -> list[tuple[str, Any]]:
    out = []
    for p in sorted(BAD.iterdir()):
        if p.name == "expected.yaml":
            continue
        try:
            f = load_file(str(p), LoadOptions(environ={}))
        except LoadFailed:
            continue
        out.append((p.name, f.data))
    if COMPAT.exists():
        for p in [*sorted((COMPAT / "testdata").glob("sample*.y*ml")), COMPAT / "testdata" / "sample.json"]:
            out.append((p.name, yaml.safe_load(p.read_text().replace("{{", "x").replace("}}", "x"))))
    return out


ODD: list[Any] = [
    [], "x", None, {}, {"rules": None}, {"rules": [None, 1, "x", []]},
    {"rules": [rule(taskCount=1.0, tags={"a" * 129: "v", "k": "v" * 257})]},
    {"rules": [rule(tags={f"k{i}": "v" for i in range(51)})]},
    {"rules": [rule(containerOverrides=[{"name": "", "environment": {"A": None, "B": [1]}}])]},
    {"rules": [rule(launch_type=True, disabled=0, taskCount=False, placementStrategy=[{"type": "spread"}] * 6)]},
    {"rules": [rule(name="", targetId="a b", description=1)]},
    {"rules": [rule(launch_type="FARGATE", dedupe=True, platform_version="1.4.0")]},
    {"rules": [rule(launch_type="EC2", platform_version="1.4.0", dedupe=True, containerOverrides=[],
                    network_configuration={"aws_vpc_configuration": {"subnets": ["s"],
                                                                     "assign_public_ip": "ENABLED"}})]},
]


@pytest.mark.parametrize(("name", "data"), _loaded_corpus() + [(f"odd{i}", d) for i, d in enumerate(ODD)],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_every_jsonschema_error_is_translated(name: str, data: Any) -> None:
    ours = schema_errors(data)
    assert not [e for e in ours if e.kind == "other"], "a jsonschema error fell through to its own words"
    assert {p for p in _our_paths(data)} == _jsonschema_paths(data)


def test_jsonschema_is_imported_only_to_validate() -> None:
    import subprocess
    import sys

    code = ("import sys, ecsched.config.validate, ecsched.config.schema; assert 'jsonschema' not in sys.modules; "
            "from ecsched.config.schema import schema_errors; schema_errors({}); assert 'jsonschema' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


# --- messages --------------------------------------------------------------------------------------


def test_unknown_keys_suggest_the_nearest_spelling() -> None:
    errors, _ = problems(doc(rule(ScheduleExpression="x", TASKDEFINITION="y"), Cluster="api"))
    assert any(e.startswith("unknown key `Cluster`; did you mean `cluster`?") for e in errors)
    assert "unknown key `ScheduleExpression`; did you mean `scheduleExpression`?" in errors
    assert "unknown key `TASKDEFINITION`; did you mean `taskDefinition`?" in errors


def test_unknown_key_without_a_near_one_lists_the_valid_keys() -> None:
    errors, _ = problems(doc(rule(taskOverride={"bogus": 1})))
    assert errors == ["unknown key `bogus`; valid keys here: cpu, memory"]


def test_a_rule_with_schema_errors_still_gets_its_limit_checks() -> None:
    """Every problem, not the first kind found: a wrong type does not hide a bad cron."""
    errors, _ = problems(doc(rule(taskCount="2", scheduleExpression="cron(0 0 * * * *)", launch_type="FARGATE")))
    assert any("`taskCount` must be an integer" in e for e in errors)
    assert any("exactly one of day-of-month and day-of-week" in e for e in errors)
    assert any("FARGATE needs network_configuration" in e for e in errors)


def test_a_wrongly_typed_value_is_reported_once() -> None:
    errors, _ = problems(doc(rule(containerOverrides={"name": "app"}, network_configuration="vpc")))
    assert errors == ["`containerOverrides` must be a list, not a mapping",
                      "`network_configuration` must be a mapping, not a string"]


def test_tag_keys_and_values_have_their_limits() -> None:
    errors, _ = problems(doc(rule(tags={"k" * 129: "v", "ok": "v" * 257})))
    assert sorted(errors) == ["`ok` is 257 characters long; allowed: at most 256 characters",
                              f"`tags` key `{'k' * 40}…` is 129 characters long; allowed: 1-128 characters"]


def test_limits() -> None:
    ok = {"network_configuration": {"aws_vpc_configuration": {"subnets": ["s"] * 16, "security_groups": ["g"] * 5}},
          "capacityProviderStrategy": [{"capacityProvider": f"c{i}"} for i in range(6)],
          "description": "d" * 512, "name": "n" * 64, "taskCount": 10, "tags": {f"k{i}": "v" for i in range(50)},
          "retryPolicy": {"maximumRetryAttempts": 185, "maximumEventAgeInSeconds": 86400}}
    assert problems(doc(rule(**ok))) == ([], [])
    too_much = {"network_configuration": {"aws_vpc_configuration": {"subnets": ["s"] * 17,
                                                                    "security_groups": ["g"] * 6}},
                "capacityProviderStrategy": [{"capacityProvider": f"c{i}"} for i in range(7)],
                "description": "d" * 513, "name": "n" * 65, "taskCount": 11, "tags": {f"k{i}": "v" for i in range(51)},
                "retryPolicy": {"maximumRetryAttempts": 186, "maximumEventAgeInSeconds": 59}}
    errors, _ = problems(doc(rule(**too_much)))
    assert len(errors) == 9, errors


def test_overrides_size_counts_the_json_eventbridge_receives() -> None:
    def with_env(n: int) -> dict[str, Any]:
        return doc(rule(containerOverrides=[{"name": "app", "environment": {"V": "x" * n}}]))

    # {"containerOverrides":[{"name":"app","environment":[{"name":"V","value":"..."}]}]} is 79 + n.
    assert problems(with_env(8192 - 79))[0] == []
    assert problems(with_env(8192 - 78))[0] == [
        "the overrides are 8193 characters as JSON; EventBridge allows at most 8192 "
        "(move long values into the task definition)"]


def test_launch_type_with_capacity_providers_is_a_warning_not_an_error() -> None:
    """ecschedule's own sample has both: it must keep working (the model drops launch_type)."""
    net = {"aws_vpc_configuration": {"subnets": ["subnet-1"]}}
    errors, warnings = problems(doc(rule(launch_type="FARGATE", network_configuration=net,
                                         capacityProviderStrategy=[{"capacityProvider": "FARGATE"}])))
    assert errors == []
    assert warnings == ["launch_type is ignored because capacityProviderStrategy is given (AWS rejects both "
                        "together); remove `launch_type`"]


def test_fargate_needs_awsvpc_and_ec2_cannot_have_fargate_only_settings() -> None:
    assert problems(doc(rule(launch_type="EC2")))[0] == []
    assert problems(doc(rule(launch_type="FARGATE")))[0] == [
        "FARGATE needs network_configuration.aws_vpc_configuration (subnets, security_groups)"]
    errors, _ = problems(doc(rule(launch_type="EC2", platform_version="1.4.0",
                                  network_configuration={"aws_vpc_configuration": {
                                      "subnets": ["s"], "assign_public_ip": "ENABLED"}})))
    assert len(errors) == 2


def test_scheduler_only_keys_on_rules_are_warned_about() -> None:
    errors, warnings = problems(doc(rule(flexibleTimeWindow=15, startDate="2030-01-01")))
    assert errors == []
    assert warnings == ["`flexibleTimeWindow` applies to `backend: scheduler` only; it is ignored here",
                        "`startDate` applies to `backend: scheduler` only; it is ignored here"]
    errors, warnings = problems(doc(rule(flexibleTimeWindow="off"), backend="scheduler"))
    assert (errors, warnings) == ([], [])
    assert problems(doc(rule(flexibleTimeWindow=0), backend="scheduler"))[0] == [
        "flexibleTimeWindow 0 is out of range: `off`, or 1-1440 minutes"]


def test_at_expressions_need_the_scheduler_backend() -> None:
    at = rule(scheduleExpression="at(2030-01-01T00:00:00)")
    assert problems(doc(at, backend="scheduler"))[0] == []
    assert "need `backend: scheduler`" in problems(doc(at))[0][0]


def test_timezone_on_rules_must_convert_to_utc() -> None:
    assert problems(doc(rule(timezone="Asia/Tokyo")))[0] == []
    assert problems(doc(rule(timezone="Asia/Tokio")))[0] != []


def test_no_rules_is_a_warning() -> None:
    assert problems({"rules": []}) == ([], ["no rules: the file declares nothing to schedule"])
    assert problems({"rules": None}) == ([], ["no rules: the file declares nothing to schedule"])


def test_problems_come_in_file_order_with_locations(tmp_path: Path) -> None:
    p = tmp_path / "f.yaml"
    p.write_text("rules:\n- name: b\n  scheduleExpression: rate(1 days)\n  taskDefinition: t\n"
                 "- name: a\n  scheduleExpression: rate(1 day)\n  taskDefinition: t\n  taskCount: 0\n  frob: 1\n")
    with pytest.raises(ConfigError) as e:
        load([str(p)], environ={})
    assert [(x.line, x.col, x.rule) for x in e.value.problems] == [(3, 3, "b"), (8, 3, "a"), (9, 3, "a")]


def test_duplicate_rule_names_across_files(tmp_path: Path) -> None:
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text("rules:\n- name: same\n  scheduleExpression: rate(1 day)\n  taskDefinition: t\n")
    with pytest.raises(ConfigError) as e:
        load([str(tmp_path / "*.yaml")], environ={})
    [problem] = e.value.problems
    assert problem.file == str(tmp_path / "b.yaml") and problem.line == 2
    assert "also defined in" in problem.message


def test_the_samples_are_schema_valid_as_json_too() -> None:
    data = json.loads((COMPAT / "testdata" / "sample.json").read_text())
    assert [e for e in schema_errors(data) if e.kind != "warning"] == []


def test_configuration_doc_names_every_key() -> None:
    """docs/configuration.md documents every key of the schema (a new key needs its line there)."""
    text = (ROOT / "docs" / "configuration.md").read_text()
    keys: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            keys.update(node.get("properties", {}))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(schema())
    assert keys > {"scheduleExpression", "memoryReservation", "func_prefix"}
    missing = sorted(k for k in keys if f"`{k}`" not in text)
    assert missing == []


def test_the_count_comes_after_the_list_also_through_one_pipe(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "bad.yaml").write_text("rules:\n- name: a\n  taskCount: 11\n")
    r = subprocess.run([sys.executable, "-m", "ecsched", "-c", "bad.yaml", "validate"], cwd=tmp_path,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = r.stdout.splitlines()
    assert r.returncode == 1 and len(lines) == 4 and lines[-1] == "3 problems found", lines


def test_github_annotations_escape_what_the_format_needs() -> None:
    from ecsched.commands.validate import github_line
    from ecsched.errors import Problem

    p = Problem("50% of a\nb", file="a,b:c.yaml", line=3, col=2, rule="r")
    assert github_line(p, "error") == ("::error file=a%2Cb%3Ac.yaml,line=3,col=2,title=ecsched validate::"
                                       "rule r: 50%25 of a%0Ab")


def test_schema_command_prints_the_shipped_schema(cli: Any) -> None:
    r = cli("schema")
    assert r.code == 0 and json.loads(r.out) == schema()


def test_help_does_not_import_jsonschema_and_validate_not_rich(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = ("import sys\nfrom ecsched.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'jsonschema', 'rich', 'boto3', 'botocore'}))")
    (tmp_path / "a.yaml").write_text("rules:\n- name: a\n  scheduleExpression: rate(1 day)\n  taskDefinition: t\n")
    run = lambda *a: subprocess.run([sys.executable, "-c", code, *a], cwd=tmp_path, capture_output=True,  # noqa: E731
                                    text=True).stdout.strip().splitlines()[-1]
    assert run("--help") == "[]"
    assert run("-c", "a.yaml", "validate") == "['jsonschema']"
    assert run("-c", "a.yaml", "validate", "--format", "json") == "['jsonschema']"

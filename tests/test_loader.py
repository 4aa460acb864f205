"""Reading one file: formats, YAML 1.2 scalars, duplicate keys, locations, and read errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ecsched.config.loader import ConfigFile, LoadFailed, LoadOptions, Locations, load_file, parse_yaml


def load(tmp_path: Path, name: str, text: str | bytes, **opts: Any) -> ConfigFile:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return load_file(str(p), LoadOptions(environ=opts.pop("environ", {}), **opts))


def failure(tmp_path: Path, name: str, text: str | bytes) -> list[str]:
    with pytest.raises(LoadFailed) as e:
        load(tmp_path, name, text)
    return [str(p).replace(str(tmp_path) + "/", "") for p in e.value.problems]


# --- YAML ---------------------------------------------------------------------------------------------


def test_plain_scalars_are_typed_as_yaml_1_2_reads_them() -> None:
    """As ecschedule's Go reader: `on`/`yes`/`off` stay text (an environment value `FLAG: on` must reach
    the task as "on", not "true"), and so do times and dates."""
    data, _ = parse_yaml("f", "a: on\nb: yes\nc: off\nd: 12:30\ne: 2026-04-01\nf: 0123\ng: 0x1f\nh: 0o17\n"
                              "i: true\nj: FALSE\nk: ~\nl:\nm: 1.5\nn: '5'\no: !!str 5\np: -3\nq: 1e3\n")
    assert data == {"a": "on", "b": "yes", "c": "off", "d": "12:30", "e": "2026-04-01", "f": 123, "g": 31,
                    "h": 15, "i": True, "j": False, "k": None, "l": None, "m": 1.5, "n": "5", "o": "5", "p": -3,
                    "q": 1000.0}


def test_keys_are_text_too() -> None:
    data, _ = parse_yaml("f", "on: 1\nTRUE: 2\n3: 4\n1.10: 5\n~: 6\n")
    assert data == {"on": 1, "TRUE": 2, "3": 4, "1.10": 5, "~": 6}


def test_merge_keys_and_anchors() -> None:
    data, _ = parse_yaml("f", "base: &b {cluster: api, taskCount: 2}\nrule:\n  <<: *b\n  taskCount: 3\n")
    assert data["rule"] == {"cluster": "api", "taskCount": 3}


def test_every_duplicate_key_is_reported_with_both_lines(tmp_path: Path) -> None:
    assert failure(tmp_path, "d.yaml", "a: 1\nb: 2\na: 3\nrules:\n- name: x\n  name: y\n") == [
        "d.yaml:3:1: duplicate key `a` (first at line 1); YAML readers would silently keep only the last one",
        "d.yaml:6:3: duplicate key `name` (first at line 5); YAML readers would silently keep only the last one",
    ]


def test_locations_point_at_keys_and_items() -> None:
    _, locs = parse_yaml("f", "region: x\nrules:\n- name: a\n  taskCount: 2\n- name: b\n")
    assert locs[("region",)] == (1, 1)
    assert locs[("rules", 0)] == (3, 3)
    assert locs[("rules", 0, "taskCount")] == (4, 3)
    assert locs[("rules", 1, "name")] == (5, 3)


def test_locations_are_computed_only_when_asked() -> None:
    calls = []

    def compute() -> dict[Any, tuple[int, int]]:
        calls.append(1)
        return {("a",): (1, 1)}

    locs = Locations(compute)
    assert calls == []
    assert ("a",) in locs and locs[("a",)] == (1, 1) and dict(locs) == {("a",): (1, 1)}
    assert locs.get(("b",)) is None
    assert calls == [1]


def test_where_falls_back_to_the_closest_located_parent(tmp_path: Path) -> None:
    f = load(tmp_path, "f.yaml", "rules:\n- name: a\n  taskOverride:\n    cpu: 1\n")
    assert f.where(("rules", 0, "taskOverride", "memory")) == {"file": str(tmp_path / "f.yaml"), "line": 3, "col": 3}


# --- JSON and Jsonnet ---------------------------------------------------------------------------------


def test_json_is_located_too(tmp_path: Path) -> None:
    f = load(tmp_path, "f.json", '{\n\t"rules": [\n\t\t{"name": "a", "taskCount": 2}\n\t]\n}\n')
    assert f.data == {"rules": [{"name": "a", "taskCount": 2}]}
    assert f.where(("rules", 0, "taskCount"))["line"] == 3


def test_json_keeps_json_types(tmp_path: Path) -> None:
    """JSON has no `on`/`12:30` ambiguity, and its own reader decides the types."""
    f = load(tmp_path, "f.json", '{"rules": [], "a": "on", "b": 1.0, "c": "2026-04-01"}')
    assert f.data == {"rules": [], "a": "on", "b": 1.0, "c": "2026-04-01"}


def test_json_duplicate_keys(tmp_path: Path) -> None:
    assert failure(tmp_path, "f.json", '{"rules": [],\n "a": 1,\n "a": 2}') == [
        "f.json:3:2: duplicate key `a` (first at line 2); JSON readers would silently keep only the last one"]


def test_jsonnet_problems_are_located_in_the_source(tmp_path: Path) -> None:
    src = ("local job(n) = { name: n, scheduleExpression: 'rate(1 day)', taskDefinition: 't' };\n{\n"
           "  rules: [\n    job('first'),\n    job('second') + { taskCount: 'x' },\n  ],\n}\n")
    f = load(tmp_path, "f.jsonnet", src)
    assert f.where(("rules", 1))["line"] == 5
    assert f.where(("rules", 1, "taskCount"))["line"] == 5
    assert f.where(("rules", 1, "taskCount"))["col"] == src.splitlines()[4].index("taskCount") + 1
    assert f.where(("rules", 0, "name"))["line"] == 4


def test_jsonnet_ext_vars_and_natives(tmp_path: Path) -> None:
    src = ("{ region: std.extVar('R'), rules: [], n: std.extVar('N'), "
           "e: std.native('env')('ECSCHED_T_A', 'dflt'), m: std.native('must_env')('ECSCHED_T_B') }")
    f = load(tmp_path, "f.jsonnet", src, ext_str={"R": "us-east-1"}, ext_code={"N": "1 + 1"},
             environ={"ECSCHED_T_B": "b"})
    assert f.data == {"region": "us-east-1", "rules": [], "n": 2, "e": "dflt", "m": "b"}


# --- templates --------------------------------------------------------------------------------------------


def test_env_templates_in_both_quotings(tmp_path: Path) -> None:
    f = load(tmp_path, "f.yaml", 'a: {{ env "ECSCHED_T_X" "dflt" }}\nb: {{ env `ECSCHED_T_Y` `ECSCHED_T_X` `d2` }}\n'
                                 "c: {{ must_env `ECSCHED_T_Y` }}\nrules: []\n", environ={"ECSCHED_T_Y": "y"})
    assert f.data == {"a": "dflt", "b": "y", "c": "y", "rules": []}


def test_a_template_that_yields_yaml_1_1_words_stays_text(tmp_path: Path) -> None:
    f = load(tmp_path, "f.yaml", "flag: {{ env `ECSCHED_T_F` `on` }}\nrules: []\n")
    assert f.data["flag"] == "on"


# --- read errors ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "message"), [
    (b"", "f.yaml:1:1: the file is empty"),
    (b"  \n\n", "f.yaml:1:1: the file is empty"),
    (b"# only a comment\n", "f.yaml:1:1: the file is empty"),
    (b"rules: []\nx: \x00\x01", "f.yaml:2:4: looks like a binary file"),
    (b"rules: []\nd: caf\xe9\n", "f.yaml:2:7: is not UTF-8 text (byte 0xe9)"),
    ("rules: []\n".encode("utf-16"), "f.yaml:1:1: is UTF-16 text"),
    (b"- a\n- b\n", "f.yaml:1:1: the top level must be a mapping with `rules:`, not a list"),
    (b"just text\n", "f.yaml:1:1: the top level must be a mapping with `rules:`, not `just text`"),
    (b"rules:\n\t- name: a\n", "(YAML does not allow tabs for indentation: use spaces)"),
])
def test_read_errors(tmp_path: Path, raw: bytes, message: str) -> None:
    [problem] = failure(tmp_path, "f.yaml", raw)
    assert message in problem


def test_a_utf8_bom_is_fine(tmp_path: Path) -> None:
    assert load(tmp_path, "f.yaml", b"\xef\xbb\xbfrules: []\n").data == {"rules": []}


def test_missing_file_points_at_an_ecschedule_config_beside_it(tmp_path: Path) -> None:
    with pytest.raises(LoadFailed) as e:
        load_file(str(tmp_path / "ecsched.yaml"), LoadOptions())
    assert "no such file; pass the config with -c FILE" in str(e.value)
    assert "found" not in str(e.value)
    (tmp_path / "ecschedule.yaml").write_text("rules: []\n")
    with pytest.raises(LoadFailed) as e:
        load_file(str(tmp_path / "ecsched.yaml"), LoadOptions())
    assert f"(found ecschedule.yaml here: pass -c {tmp_path / 'ecschedule.yaml'})" in str(e.value)


def test_a_directory_is_not_a_config(tmp_path: Path) -> None:
    with pytest.raises(LoadFailed, match="is a directory"):
        load_file(str(tmp_path), LoadOptions())


def test_environment_values_reach_the_task_as_written(tmp_path: Path) -> None:
    from ecsched.arns import Account
    from ecsched.config import load

    f = tmp_path / "ecsched.yaml"
    f.write_text("region: us-east-1\ncluster: api\nrules:\n- name: a\n  scheduleExpression: rate(1 day)\n"
                 "  taskDefinition: app\n  containerOverrides:\n  - name: app\n"
                 "    environment: {PY: 3.10, ZIP: 0123, HEX: 0x1F, E: 1e3, FLAG: true, N: 7}\n"
                 "  taskCount: 2\n")
    s = load([str(f)]).schedules(Account("123456789012"), "us-east-1")[0]
    assert dict(s.target.container_overrides[0].environment) == {
        "PY": "3.10", "ZIP": "0123", "HEX": "0x1F", "E": "1e3", "FLAG": "true", "N": "7"}
    assert s.target.task_count == 2  # outside `environment`, numbers are still numbers

"""`backend: scheduler` written into a config file (what `migrate` does after the move), by the one
node-position splicer: only the lines that say it change, in every layout the splicer reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecsched.edit import set_backend
from ecsched.errors import EcschedError


def _edit(text: str, moved: set[int], tmp_path: Path, name: str = "x.yaml") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode())
    fe, _ = set_backend(str(path), moved)
    assert path.read_bytes() == text.encode()  # planned, not written
    return fe.new


def test_edit_keeps_crlf_and_a_name_that_is_not_the_first_key(tmp_path: Path) -> None:
    text = "cluster: api\r\nrules:\r\n- taskDefinition: t\r\n  name: a\r\n- name: b\r\n  taskDefinition: t\r\n"
    assert _edit(text, {0}, tmp_path) == ("cluster: api\r\nrules:\r\n- taskDefinition: t\r\n  name: a\r\n"
                                          "  backend: scheduler\r\n- name: b\r\n  taskDefinition: t\r\n")


def test_edit_changes_an_explicit_backend_rather_than_adding_one(tmp_path: Path) -> None:
    text = "backend: rules  # for now\nrules:\n  - name: a\n    backend: 'rules'\n  - name: b\n"
    assert _edit(text, {0}, tmp_path) == ("backend: rules  # for now\nrules:\n  - name: a\n    backend: 'scheduler'\n"
                                          "  - name: b\n")
    assert _edit(text, {0, 1}, tmp_path) == ("backend: scheduler  # for now\nrules:\n  - name: a\n"
                                             "    backend: 'scheduler'\n  - name: b\n")


def test_edit_of_a_file_without_a_final_newline(tmp_path: Path) -> None:
    assert _edit("rules:\n- name: a", {0}, tmp_path) == "backend: scheduler\nrules:\n- name: a"


def test_edit_of_flow_style_rules(tmp_path: Path) -> None:
    text = "cluster: api\nrules:\n- {name: a, taskDefinition: t}  # first\n- {name: b,\n   taskDefinition: t}\n"
    assert _edit(text, {0}, tmp_path) == ("cluster: api\nrules:\n- {name: a, backend: scheduler, taskDefinition: t}"
                                          "  # first\n- {name: b,\n   taskDefinition: t}\n")
    assert _edit(text, {1}, tmp_path) == ("cluster: api\nrules:\n- {name: a, taskDefinition: t}  # first\n"
                                          "- {name: b, backend: scheduler,\n   taskDefinition: t}\n")
    # A rule that inherits `backend: rules` through a merge key gets its own line, even when all move.
    merged = "x-base: &base {backend: rules}\nrules:\n- <<: *base\n  name: a\n"
    assert _edit(merged, {0}, tmp_path) == ("x-base: &base {backend: rules}\nbackend: scheduler\nrules:\n"
                                            "- <<: *base\n  name: a\n  backend: scheduler\n")


def test_edit_of_json(tmp_path: Path) -> None:
    text = '{\n  "cluster": "api",\n  "rules": [\n    {"name": "a", "taskDefinition": "t"},\n' \
           '    {"name": "b", "taskDefinition": "t"}\n  ]\n}\n'
    got = _edit(text, {0}, tmp_path, "x.json")
    assert got == text.replace('{"name": "a",', '{"name": "a", "backend": "scheduler",')
    assert json.loads(_edit(text, {0, 1}, tmp_path, "x.json")) == {**json.loads(text), "backend": "scheduler"}


def test_edit_puts_the_top_level_line_above_the_comment_that_introduces_rules(tmp_path: Path) -> None:
    text = "cluster: api\n\n# the jobs\n# (all of them)\nrules:\n- name: a\n"
    assert _edit(text, {0}, tmp_path) == ("cluster: api\n\nbackend: scheduler\n# the jobs\n# (all of them)\n"
                                          "rules:\n- name: a\n")


def test_nothing_to_change_when_the_rules_already_say_it(tmp_path: Path) -> None:
    text = "backend: scheduler\nrules:\n- name: a\n"
    assert _edit(text, {0}, tmp_path) == text


def test_a_rule_shared_through_an_anchor_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("rules:\n- &a {name: a}\n- *a\n- name: b\n")
    with pytest.raises(EcschedError, match="shared through a YAML anchor"):
        set_backend(str(path), {0})

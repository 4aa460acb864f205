"""ecsched.yamlio: the one YAML reader (1.2 typing, as ecschedule's Go reader) and writer."""

from __future__ import annotations

import pytest
import yaml

from ecsched import yamlio


def test_plain_scalars_are_typed_as_yaml_1_2() -> None:
    data = yamlio.load("a: on\nb: yes\nc: 12:30\nd: 2026-04-01\ne: 0123\nf: 0o17\ng: 0x1f\nh: true\ni: ~\nj: 1.5\n")
    assert data == {"a": "on", "b": "yes", "c": "12:30", "d": "2026-04-01", "e": 123, "f": 15, "g": 31,
                    "h": True, "i": None, "j": 1.5}


def test_load_matches_the_config_loader_on_keys_environment_and_merges() -> None:
    text = "base: &b {x: 1}\nTRUE: 2\nr:\n  <<: *b\n  environment: {PY: 3.10, ON: on, N: ~}\n"
    assert yamlio.load(text) == {"base": {"x": 1}, "TRUE": 2,
                                 "r": {"x": 1, "environment": {"PY": "3.10", "ON": "on", "N": None}}}


def test_duplicate_keys_raise_with_their_line() -> None:
    with pytest.raises(yamlio.YamlError) as e:
        yamlio.load("a: 1\nb: 2\na: 3\n")
    assert e.value.problem_mark is not None and e.value.problem_mark.line == 2
    assert "duplicate key `a` (first at line 1)" in str(e.value.problem)


@pytest.mark.parametrize(("text", "message"), [
    ("a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}' if i > 1 else '*a'] * 10)}]\n" for i in range(1, 7)), "alias bomb"),
    ("x: &x [*x]\n", "a cycle"),
    ("x: " + "[" * 100 + "]" * 100 + "\n", "nested more than 64 levels"),
])
def test_hostile_documents_are_refused(text: str, message: str) -> None:
    with pytest.raises(yaml.YAMLError, match=message):
        yamlio.load(text)


def test_shared_anchors_within_the_limits_load() -> None:
    text = "a: &a [1, 2, 3]\nb: [*a, *a, *a]\n"
    assert yamlio.load(text)["b"] == [[1, 2, 3]] * 3


def test_scalar_is_typed_as_load_types_it() -> None:
    node = yamlio.compose("[on, 0o17, 'x', true]\n")
    assert isinstance(node, yaml.SequenceNode)
    assert [yamlio.scalar(n) for n in node.value] == ["on", 15, "x", True]


def test_dump_is_block_style_with_lists_of_scalars_on_one_line() -> None:
    data = {"rules": [{"name": "a", "command": ["php", "artisan", "x"], "environment": {"A": "1"}}]}
    assert yamlio.dump(data) == ("rules:\n- name: a\n  command: [php, artisan, x]\n  environment:\n"
                                 "    A: '1'\n")
    assert yamlio.dump_all([{"a": 1}, {"b": 2}]) == "a: 1\n---\nb: 2\n"


@pytest.mark.parametrize("text", ["on", "yes", "0o17", "012", "0x1f", "1.5", "true", "~", "", "12:30", "2026-04-01"])
def test_dump_quotes_text_that_either_yaml_version_would_retype(text: str) -> None:
    out = yamlio.dump({"v": text})
    assert yamlio.load(out) == {"v": text}
    assert yaml.safe_load(out) == {"v": text}  # and YAML 1.1 readers (ecschedule's) read the text too

"""Round-trip edits of `disabled:`: only that line changes; enable right after disable gives the same bytes."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecsched import edit, yamlio
from ecsched.errors import EcschedError
from tests.conftest import COMPAT

TODAY = date(2026, 11, 30)


def pause(path: Path, *names: str, reason: str | None = None, resolve: edit.Resolver | None = None) -> None:
    for fe in edit.set_disabled([str(path)], list(names), True, reason=reason, today=TODAY, resolve=resolve):
        fe.write()


def resume(path: Path, *names: str, resolve: edit.Resolver | None = None) -> None:
    for fe in edit.set_disabled([str(path)], list(names), False, resolve=resolve):
        fe.write()


def changed_lines(before: bytes, after: bytes) -> tuple[list[bytes], list[bytes]]:
    """(lines only in before, lines only in after), as a line diff sees them."""
    import difflib

    a, b = before.splitlines(True), after.splitlines(True)
    gone, added = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op != "equal":
            gone += a[i1:i2]
            added += b[j1:j2]
    return gone, added


def loaded(path: Path) -> dict:
    """The file's data as the config loader reads it (YAML 1.2: `disabled: no` is the text "no")."""
    return yamlio.load(edit.mask(path.read_text(encoding="utf-8-sig")).replace("\t", " "))


# --- the ecschedule samples ----------------------------------------------------------------------

SAMPLES = ["sample.yaml", "sample2.yaml", "sample3.yaml", "sample4.yaml", "sample5.yaml", "sample.json"]


@pytest.mark.parametrize("name", SAMPLES)
def test_ecschedule_samples_round_trip_byte_for_byte(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    shutil.copy(COMPAT / "testdata" / name, path)
    original = path.read_bytes()
    pause(path, "hoge-task-name")
    paused = path.read_bytes()
    gone, added = changed_lines(original, paused)
    assert gone == []
    assert added == ([b'      "disabled": true,\n'] if name.endswith(".json") else [b"  disabled: true\n"])
    assert loaded(path)["rules"][0]["disabled"] is True
    resume(path, "hoge-task-name")
    assert path.read_bytes() == original


@pytest.mark.parametrize("name", [n for n in SAMPLES if n.endswith(".yaml")])
def test_reason_is_a_dated_comment_on_that_line(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    shutil.copy(COMPAT / "testdata" / name, path)
    original = path.read_bytes()
    pause(path, "hoge-*", reason="upstream API down\nuntil Monday")
    _, added = changed_lines(original, path.read_bytes())
    assert added == [b"  disabled: true  # paused 2026-11-30: upstream API down until Monday\n"]
    resume(path, "hoge-task-name")
    assert path.read_bytes() == original


# --- tricky files --------------------------------------------------------------------------------

TRICKY = {
    "comments-and-quoting.yaml": (
        "# Batches for the shop.   \n"
        "---\n"
        "region: 'ap-northeast-1'   # Tokyo\n"
        'cluster: "batch"\n'
        "\n"
        "rules:\n"
        "  # nightly report\n"
        "  - name: \"report-nightly\"     # the big one\n"
        "    description: 'レポート: nightly'\n"
        "    scheduleExpression: \"cron(30 18 * * ? *)\"   # 03:30 JST\n"
        "\n"
        "    taskDefinition: app:12\n"
        "    containerOverrides:\n"
        "      - {name: app, command: [php, artisan, \"report:nightly\"]}\n"
        "\n\n"
        "  - name: cleanup\n"
        "    taskDefinition: app\n"
        "    scheduleExpression: >-\n"
        "      rate(1 day)\n"
        "    containerOverrides: [ {name: app, command: [php,  artisan, cleanup]} ]\n"
    ),
    "crlf.yaml": "cluster: c\r\nrules:\r\n- name: a\r\n  scheduleExpression: rate(1 day)  # daily\r\n"
                 "  taskDefinition: t\r\n",
    "no-final-newline.yaml": "cluster: c\nrules:\n- name: a\n  taskDefinition: t\n  scheduleExpression: rate(1 day)",
    "bom.yaml": "\ufeffcluster: c\nrules:\n- name: a\n  scheduleExpression: rate(1 day)\n  taskDefinition: t\n",
    "flow-rule.yaml": "cluster: c\nrules:\n- {name: a, scheduleExpression: 'rate(1 day)', taskDefinition: t}\n"
                      "- {name: b,   taskDefinition: t,\n   scheduleExpression: rate(2 days)}\n",
    "flow-rules-list.yaml": "cluster: c\nrules: [{name: a, scheduleExpression: rate(1 day), taskDefinition: t}]\n",
    "templates.yaml": (
        "cluster: {{ env \"CLUSTER\" \"api\" }}\n"
        "rules:\n"
        "- name: t1\n"
        "  scheduleExpression: {{ env \"CRON\" \"cron(0 0 * * ? *)\" }}\n"
        "  taskDefinition: task1\n"
        "  containerOverrides:\n"
        "  - name: container1\n"
        "    environment:\n"
        "      HOGE_ENV: {{ env \"DUMMY_HOGE_ENV\" \"HOGEGE\" }}\n"
        "      X: {{ must_env `X` }}\n"
    ),
    "name-last.yaml": "cluster: c\nrules:\n- taskDefinition: t\n  scheduleExpression: rate(1 day)\n  name: a\n",
    "block-scalar-before.yaml": ("cluster: c\nrules:\n- name: a\n  description: |\n    multi\n    line\n\n"
                                 "  scheduleExpression: rate(1 day)\n  taskDefinition: t\n"),
    "minified.json": '{"cluster":"c","rules":[{"name":"a","scheduleExpression":"rate(1 day)","taskDefinition":"t"}]}',
    "tabs.json": '{\n\t"cluster": "c",\n\t"rules": [\n\t\t{\n\t\t\t"name": "a",\n\t\t\t"taskDefinition": "t",\n'
                 '\t\t\t"scheduleExpression": "rate(1 day)"\n\t\t}\n\t]\n}\n',
    "four-spaces.json": json.dumps({"cluster": "c", "rules": [{"name": "a", "scheduleExpression": "rate(1 day)",
                                                                "taskDefinition": "t", "description": "日本語"}]},
                                   indent=4, ensure_ascii=False) + "\n",
}


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_tricky_files_round_trip_byte_for_byte(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(TRICKY[name].encode("utf-8"))
    original = path.read_bytes()
    first = "report-nightly" if name.startswith("comments") else ("t1" if name.startswith("templates") else "a")
    pause(path, first)
    paused = path.read_bytes()
    gone, added = changed_lines(original, paused)
    # Only the new line; an inline entry (flow, JSON's comma, a missing final newline) rewrites one line.
    assert len(gone) <= (1 if name.startswith(("flow", "minified", "no-final", "tabs")) else 0)
    assert sum(b"disabled" in a for a in added) == 1 and len(added) <= 2
    assert loaded(path)["rules"][0]["disabled"] is True
    assert {k: v for k, v in loaded(path)["rules"][0].items() if k != "disabled"} == \
        yamlio.load(edit.mask(original.decode("utf-8-sig")).replace("\t", " "))["rules"][0]
    resume(path, first)
    assert path.read_bytes() == original


def test_the_line_goes_after_schedule_expression_with_the_rule_indentation(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(TRICKY["comments-and-quoting.yaml"], encoding="utf-8")
    pause(path, "report-nightly", reason="vendor outage")
    lines = path.read_text(encoding="utf-8").splitlines()
    i = next(i for i, ln in enumerate(lines) if "scheduleExpression" in ln)
    assert lines[i + 1] == "    disabled: true  # paused 2026-11-30: vendor outage"


def test_flow_rule_gets_an_inline_entry_and_comment(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(TRICKY["flow-rule.yaml"], encoding="utf-8")
    original = path.read_bytes()
    pause(path, "a", reason="why")
    assert path.read_text().splitlines()[2] == \
        "- {name: a, scheduleExpression: 'rate(1 day)', disabled: true, taskDefinition: t}  # paused 2026-11-30: why"
    resume(path, "a")
    assert path.read_bytes() == original
    pause(path, "b")  # a multi-line flow mapping: the entry goes on a new line, aligned
    assert path.read_text().splitlines()[4:6] == ["   scheduleExpression: rate(2 days),", "   disabled: true}"]
    resume(path, "b")
    assert path.read_bytes() == original


def test_json_keeps_its_indentation(tmp_path: Path) -> None:
    for name in ("tabs.json", "four-spaces.json"):
        path = tmp_path / name
        path.write_text(TRICKY[name], encoding="utf-8")
        pause(path, "a")
        text = path.read_text(encoding="utf-8")
        indent = "\t\t\t" if name == "tabs.json" else "            "
        assert f'\n{indent}"disabled": true' in text
        assert json.loads(text)["rules"][0]["disabled"] is True


def test_glob_and_several_names_edit_every_match_once(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("cluster: c\nrules:\n" + "".join(
        f"- name: {n}\n  scheduleExpression: rate(1 day)\n  taskDefinition: t\n"
        for n in ("report-a", "report-b", "cleanup", "other")), encoding="utf-8")
    original = path.read_bytes()
    pause(path, "report-*", "cleanup", "report-a")
    rules = loaded(path)["rules"]
    assert [bool(r.get("disabled")) for r in rules] == [True, True, True, False]
    resume(path, "*")
    assert path.read_bytes() == original


def test_existing_false_turns_true_in_place_and_comment_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("cluster: c\nrules:\n- name: a\n  disabled: false  # keep me\n  scheduleExpression: rate(1 day)\n"
                    "  taskDefinition: t\n", encoding="utf-8")
    pause(path, "a")
    assert path.read_text().splitlines()[3] == "  disabled: true  # keep me"
    resume(path, "a")  # running is written as no line at all
    assert "disabled" not in path.read_text()


def test_disabled_as_first_key_is_removed_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("cluster: c\nrules:\n- disabled: true\n  name: a\n  scheduleExpression: rate(1 day)\n"
                    "  taskDefinition: t\n", encoding="utf-8")
    resume(path, "a")
    assert path.read_text() == "cluster: c\nrules:\n- name: a\n  scheduleExpression: rate(1 day)\n  taskDefinition: t\n"


def test_already_in_state_is_reported_and_nothing_changes(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("cluster: c\nrules:\n- name: a\n  scheduleExpression: rate(1 day)\n  taskDefinition: t\n")
    (fe,) = edit.set_disabled([str(path)], ["a"], False)
    assert not fe.changed and fe.unchanged == ["a"]


def test_merge_key_inheritance_is_respected(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("cluster: c\nx-paused: &paused\n  disabled: true\n  taskDefinition: t\nrules:\n"
                    "- <<: *paused\n  name: a\n  scheduleExpression: rate(1 day)\n", encoding="utf-8")
    original = path.read_bytes()
    resume(path, "a")  # inherited `disabled: true`: only an explicit false resumes it
    assert "  disabled: false\n" in path.read_text()
    assert loaded(path)["rules"][0]["disabled"] is False
    pause(path, "a")
    assert loaded(path)["rules"][0]["disabled"] is True
    assert path.read_bytes() != original  # `false` became `true` in place: still one line, still paused


def test_templated_name_is_resolved_through_the_loader(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text('cluster: c\nrules:\n- name: {{ env "RULE" "from-env" }}\n  scheduleExpression: rate(1 day)\n'
                    "  taskDefinition: t\n", encoding="utf-8")
    original = path.read_bytes()
    asked: list[str] = []

    def resolve(p: str) -> list[str]:
        asked.append(p)
        return ["from-env"]

    pause(path, "from-env", resolve=resolve)
    assert asked == [str(path)]
    assert "  disabled: true\n" in path.read_text()
    resume(path, "from-*", resolve=resolve)
    assert path.read_bytes() == original


# --- refusals: a clear message, nothing written --------------------------------------------------


def refused(path: Path, *names: str, disabled: bool = True, reason: str | None = None) -> str:
    before = path.read_bytes()
    with pytest.raises(EcschedError) as e:
        edit.set_disabled([str(path)], list(names), disabled, reason=reason, today=TODAY)
    assert path.read_bytes() == before
    return str(e.value)


def test_unknown_name_lists_the_nearest(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("cluster: c\nrules:\n" + "".join(
        f"- name: {n}\n  scheduleExpression: rate(1 day)\n  taskDefinition: t\n"
        for n in ("report-nightly", "report-weekly", "cleanup")))
    msg = refused(path, "report-nigthly", "cleanup")
    assert "no rule matches `report-nigthly`" in msg and "report-nightly" in msg and "Nothing was written" in msg
    assert "report-weekly" in refused(path, "weekly-*")  # a glob: nearest by its literal part


def test_json_refuses_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(TRICKY["four-spaces.json"])
    assert "JSON has no comments" in refused(path, "a", reason="x")


def test_templated_disabled_value_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text('cluster: c\nrules:\n- name: a\n  disabled: {{ env "OFF" "false" }}\n'
                    "  scheduleExpression: rate(1 day)\n  taskDefinition: t\n")
    assert "template call" in refused(path, "a")


def test_rule_shared_by_an_anchor_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("cluster: c\nrules:\n- &base\n  name: a\n  scheduleExpression: rate(1 day)\n  taskDefinition: t\n"
                    "- <<: *base\n  name: b\n")
    assert "anchor" in refused(path, "a")


def test_syntax_error_is_located(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("cluster: c\nrules:\n- name: a\n  scheduleExpression: [\n")
    assert refused(path, "a").startswith(f"{path}:")


# --- property: any mix of styles round-trips -----------------------------------------------------

_VALUE = st.sampled_from(["rate(1 day)", "'rate(2 days)'", '"cron(0 0 * * ? *)"', '{{ env "C" "rate(1 day)" }}'])
_COMMENT = st.sampled_from(["", "  # note", "   #x"])


@st.composite
def rule_text(draw: st.DrawFn, i: int, seq_indent: str) -> tuple[str, bool]:
    """One rule in a random style, and whether it has a `disabled:` line."""
    keys = [f"name: r{i}", f"scheduleExpression: {draw(_VALUE)}", "taskDefinition: t"]
    has_line = draw(st.booleans())
    if has_line:
        keys.append(f"disabled: {draw(st.sampled_from(['true', 'false', 'yes', 'no']))}")
    keys = draw(st.permutations(keys))
    if draw(st.booleans()) and "{{" not in "".join(keys):
        return seq_indent + "- {" + ", ".join(keys) + "}" + draw(_COMMENT) + "\n", has_line
    out = ""
    for j, k in enumerate(keys):
        out += seq_indent + ("- " if j == 0 else "  ") + k + draw(_COMMENT) + "\n"
        out += "\n" if draw(st.booleans()) else ""
    return out, has_line


@st.composite
def config_text(draw: st.DrawFn) -> tuple[str, set[str]]:
    seq_indent = draw(st.sampled_from(["", "  "]))
    rules = [draw(rule_text(i, seq_indent)) for i in range(draw(st.integers(1, 4)))]
    text = "cluster: c  # top\nrules:\n" + "".join(r for r, _ in rules)
    return text, {f"r{i}" for i, (_, has_line) in enumerate(rules) if has_line}


@settings(max_examples=200, deadline=None)
@given(config_text(), st.data())
def test_property_disable_then_enable_restores_bytes(generated: tuple[str, set[str]], data: st.DataObject) -> None:
    import tempfile

    text, with_line = generated
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "c.yaml"
        path.write_text(text, encoding="utf-8")
        before = loaded(path)
        running = [r["name"] for r in before["rules"] if r.get("disabled") is not True]
        if not running:
            return
        target = data.draw(st.sampled_from(running))
        original = path.read_bytes()
        pause(path, target)
        after = loaded(path)
        for b, a in zip(before["rules"], after["rules"], strict=True):
            if b["name"] == target:
                assert a["disabled"] is True
                assert {k: v for k, v in a.items() if k != "disabled"} == \
                    {k: v for k, v in b.items() if k != "disabled"}
            else:
                assert a == b
        resume(path, target)
        assert loaded(path)["rules"] == [{k: v for k, v in r.items() if not (r["name"] == target and k == "disabled")}
                                         for r in before["rules"]]
        if target not in with_line:  # `disabled: false` comes back as no line: the one documented exception
            assert path.read_bytes() == original


def test_merge_key_with_null_or_false_is_not_paused(tmp_path: Path) -> None:
    for value in ("~", "false", "null"):
        path = tmp_path / "c.yaml"
        path.write_text(f"cluster: c\nx-base: &base\n  disabled: {value}\n  taskDefinition: t\nrules:\n"
                        "- <<: *base\n  name: a\n  scheduleExpression: rate(1 day)\n", encoding="utf-8")
        original = path.read_bytes()
        pause(path, "a")
        assert loaded(path)["rules"][0]["disabled"] is True
        resume(path, "a")
        assert path.read_bytes() == original


def test_flow_rule_with_false_gets_true_and_the_reason_at_the_end_of_the_line(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("cluster: c\nrules:\n"
                    "- {name: a, disabled: false, scheduleExpression: rate(1 day), taskDefinition: t}\n")
    pause(path, "a", reason="why")
    assert path.read_text().splitlines()[2] == \
        "- {name: a, disabled: true, scheduleExpression: rate(1 day), taskDefinition: t}  # paused 2026-11-30: why"
    assert loaded(path)["rules"][0]["taskDefinition"] == "t"


def test_a_value_the_loader_refuses_is_replaced(tmp_path: Path) -> None:
    # YAML 1.2 (the loader's) reads `no` as the text "no", which validate refuses: neither paused nor running.
    path = tmp_path / "c.yaml"
    path.write_text("cluster: c\nrules:\n- {name: a, disabled: no, scheduleExpression: rate(1 day)}\n")
    pause(path, "a")
    assert path.read_text().endswith("- {name: a, disabled: true, scheduleExpression: rate(1 day)}\n")
    path.write_text("cluster: c\nrules:\n- name: a\n  disabled: yes\n  scheduleExpression: rate(1 day)\n")
    resume(path, "a")
    assert path.read_text() == "cluster: c\nrules:\n- name: a\n  scheduleExpression: rate(1 day)\n"

"""The template engine: Go-template function calls in config text, every problem with its line."""

from __future__ import annotations

import pytest

from ecsched.config import template
from ecsched.config.functions import Functions, TemplateError, builtin_functions, go_sprintf
from ecsched.config.template import render

ENV = {"A": "aa", "EMPTY": "", "REGION": "us-east-1"}


def r(text: str, funcs: Functions | None = None, **kw: object) -> str:
    out, problems = render(text, funcs or builtin_functions(ENV), file="f.yaml", **kw)  # type: ignore[arg-type]
    assert not problems, problems
    return out


def problems(text: str, funcs: Functions | None = None) -> list[str]:
    _, found = render(text, funcs or builtin_functions(ENV), file="f.yaml")
    assert found, "expected a problem"
    return [str(p) for p in found]


@pytest.mark.parametrize(("text", "want"), [
    ('x: {{ env "A" }}', "x: aa"),
    ('x: {{ env "NOPE" "dflt" }}', "x: dflt"),
    ('x: {{ env "EMPTY" "A" "dflt" }}', "x: aa"),  # first non-empty variable among all but the last
    ('x: {{ env "NOPE" }}', "x: "),
    ("x: {{ env `A` `dflt` }}", "x: aa"),
    ('x: {{ must_env "A" }}', "x: aa"),
    ('x: "{{ json_escape "q\\"b\\n" }}"', 'x: "q\\"b\\n"'),
    ('{{ printf "%s-%03d-%v%%" (env "A") 7 "z" }}', "aa-007-z%"),
    ('{{ env "A" | printf "<%s>" }}', "<aa>"),
    ('{{ print "a" "b" }}', "ab"),
    ("{{ (env `A`) }}", "aa"),
    ('{{ "\\u65e5\\x41\\t" }}', "日A\t"),
    ("{{ `raw \\n` }}", "raw \\n"),
    ('{{ env "a}}b" "fallback}}" }}', "fallback}}"),  # `}}` inside a string does not end the action
    ("{{-3}}", "-3"),  # not a trim marker: Go needs a space after `{{-`
    ("a {{/* a comment */}}b", "a b"),
])
def test_render_values(text: str, want: str) -> None:
    assert r(text) == want


def test_trim_markers_remove_surrounding_whitespace() -> None:
    assert r('x:   \n  {{- env "A" -}}  \n\t y') == "x:aay"
    assert r('x: {{ env "A" -}}\n  y') == "x: aay"
    assert r('x: \n{{- /* gone */ -}}\n y') == "x:y"


def test_text_without_actions_is_untouched() -> None:
    text = "a: { b: 1 }\nc: '}}'\n"
    assert r(text) == text


@pytest.mark.parametrize(("text", "want"), [
    ('a: 1\nb: {{ must_env "NOPE_VAR" }}', "f.yaml:2:4: environment variable NOPE_VAR is not set"),
    ('{{ envv "A" }}', "f.yaml:1:1: unknown template function `envv`; did you mean `env`?"),
    ('\n\n  {{ tfstate "x" }}', "f.yaml:3:3: unknown template function `tfstate`: declare the tfstate plugin"),
    ('{{ first_tfstate "x" }}', "with `func_prefix: first_`"),
    ("{{ ssm `/x` }}", "declare the ssm plugin under `plugins:`"),
    ("{{ env FOO }}", "`FOO` (an argument of `env`) must be quoted"),
    ("{{ tfstate aws_vpc.main.id }}", "`aws_vpc.main.id` must be quoted"),
    ('{{ if 1 }}x{{ end }}', "`{{ if }}` is not supported"),
    ("{{ .Values }}", "`.Values` refers to template data"),
    ("{{ $x }}", "template variables (`$x`) are not supported"),
    ('{{ env "A" ', "f.yaml:1:1: unclosed action"),
    ('{{ env "A\n}}', "unterminated \"...\" string"),
    ("{{ }}", "empty template action"),
    ('{{ "a" "b" }}', "`b` cannot be given to `a`"),
    ('{{ printf "%s %s" "a" }}', "needs more arguments"),
    ('{{ printf "%s" "a" "b" }}', "extra: `b`"),
    ('{{ printf "%x" "a" }}', "%x is not supported"),
    ('{{ printf "%d" "abc" }}', "%d needs an integer"),
    ('{{ "bad \\q escape" }}', "unknown escape `\\q`"),
    ("{{ plugin }}", "`plugin` needs a function name"),
    ('{{ plugin "first_tfstate" "a" }}', "no plugin function `first_tfstate`; no plugin is declared"),
    ("{{ must_env }}", "`must_env` takes exactly one variable name"),
])
def test_problems_name_the_line_and_the_cause(text: str, want: str) -> None:
    assert any(want in p for p in problems(text)), problems(text)


def test_every_problem_is_reported_not_just_the_first() -> None:
    found = problems('a: {{ must_env "X1" }}\nb: {{ nope }}\nc: {{ env "A" }}\nd: {{ must_env "X2" }}')
    assert [p.split(":")[1] for p in found] == ["1", "2", "4"]


def test_column_points_at_the_action() -> None:
    assert problems('key:   {{ nope "x" }}')[0].startswith("f.yaml:1:8: ")


def test_lenient_render_fills_failures_with_a_placeholder_valid_in_yaml_and_json() -> None:
    out, found = render('a: [{{ nope }}, {{ env "A" }}]\nb: "{{ x }}"', builtin_functions(ENV), file="f",
                        lenient=True)
    assert found == []
    assert out == f'a: [{template.LENIENT_PLACEHOLDER}, aa]\nb: "{template.LENIENT_PLACEHOLDER}"'


def test_plugin_functions_work_directly_and_through_plugin() -> None:
    funcs = builtin_functions(ENV)
    funcs.register("first_tfstate", lambda addr: f"<{addr}>", origin="test plugin")
    assert r('{{ first_tfstate "a.b" }}|{{ plugin "first_tfstate" "a.b" }}', funcs) == "<a.b>|<a.b>"
    assert r('{{ plugin `first_tfstate` (env "A") }}', funcs) == "<aa>"


def test_plugin_with_a_wrong_function_name_suggests_the_declared_ones() -> None:
    funcs = builtin_functions(ENV)
    funcs.register("first_tfstate", lambda addr: addr, origin="test plugin")
    funcs.register("second_tfstate", lambda addr: addr, origin="test plugin")
    assert "did you mean `first_tfstate`?" in problems('{{ plugin "frist_tfstate" "x" }}', funcs)[0]
    msg = problems('{{ plugin "third_ssm" "x" }}', funcs)[0]
    assert "the declared plugins provide: first_tfstate, second_tfstate" in msg
    # `plugin` reaches plugin functions only, not the built-ins
    assert "no plugin function `env`" in problems('{{ plugin "env" "A" }}', funcs)[0]


def test_two_plugins_cannot_register_the_same_function() -> None:
    funcs = builtin_functions(ENV)
    funcs.register("tfstate", lambda a: a, origin="the tfstate plugin (a)")
    with pytest.raises(TemplateError, match=r"`tfstate` is already defined \(by the tfstate plugin \(a\)\)"):
        funcs.register("tfstate", lambda a: a, origin="the tfstate plugin (b)")
    with pytest.raises(TemplateError, match="already defined"):
        funcs.register("env", lambda a: a, origin="a plugin")


def test_once_errors_are_reported_once() -> None:
    funcs = builtin_functions(ENV)

    def broken(*_a: str) -> str:
        raise TemplateError("state file missing", once=True)

    def bad_addr(a: str) -> str:
        raise TemplateError(f"no {a}")

    funcs.register("st", broken, origin="t")
    funcs.register("ad", bad_addr, origin="t")
    _, found = render('{{ st "a" }}\n{{ st "b" }}\n{{ ad "x" }}\n{{ ad "x" }}', funcs, file="f")
    assert [(p.line, p.message) for p in found] == [(1, "state file missing"), (3, "no x"), (4, "no x")]


def test_a_plugin_crash_is_a_problem_not_a_traceback() -> None:
    funcs = builtin_functions(ENV)
    funcs.register("boom", lambda *a: 1 / 0, origin="t")
    found = problems('x\n{{ boom "a" }}', funcs)
    assert found == ['f.yaml:2:1: {{ boom "a" }}: ZeroDivisionError: division by zero']


def test_problems_in_generated_text_are_located_in_the_source() -> None:
    source = 'local x = 1;\n{\n  a: "{{ nope `q` }}",\n  b: \'{{ must_env "NOPE_Y" }}\',\n}\n'
    generated = '{\n   "a": "{{ nope `q` }}",\n   "b": "{{ must_env \\"NOPE_Y\\" }}"\n}\n'
    _, found = render(generated, builtin_functions(ENV), file="x.jsonnet", source=source)
    assert [(p.line, p.col) for p in found] == [(3, 7), (4, 7)]
    _, found = render('"{{ nope }}"', builtin_functions(ENV), file="x.jsonnet", source="{a: std.format(...)}")
    assert found[0].line is None and found[0].file == "x.jsonnet"


def test_escape_actions_renders_back_to_the_same_text() -> None:
    text = 'pw: "a{{b}}c{{{d"'
    assert r(template.escape_actions(text)) == text


def test_go_sprintf_subset() -> None:
    assert go_sprintf("data.x['%s'].id", ["first"]) == "data.x['first'].id"
    assert go_sprintf("%5s|%-3s|%05d|%q|%.2s", ["ab", "c", "-42", 'x"y', "abc"]) == '   ab|c  |-0042|"x\\"y"|ab'
    assert go_sprintf("100%%", []) == "100%"
    with pytest.raises(TemplateError, match="trailing %"):
        go_sprintf("50%", [])


def test_builtin_env_reads_the_given_environ_not_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONLY_IN_OS", "os")
    assert r('{{ env "ONLY_IN_OS" "d" }}', builtin_functions({})) == "d"
    assert r('{{ env "ONLY_IN_OS" "d" }}', builtin_functions(None)) == "os"

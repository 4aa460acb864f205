"""The command line: global options anywhere, ecschedule's spellings, exit codes, errors, and imports."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import ecsched
from ecsched.cli import _merge_globals, build_parser
from ecsched.context import Context
from tests.conftest import FIXTURES, Result, seed_ecs

ROOT = Path(__file__).resolve().parents[1]
RULE = "- name: {name}\n  scheduleExpression: rate(1 day)\n  taskDefinition: task1\n"


def parse(*argv: str) -> argparse.Namespace:
    args = build_parser().parse_args(list(argv))
    _merge_globals(args)
    return args


def plain(ns: argparse.Namespace) -> dict[str, object]:
    return {k: v for k, v in vars(ns).items() if k != "_module"}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("a", "b"):
        (tmp_path / f"{name}.yaml").write_text("region: us-east-1\ncluster: api\nrules:\n" + RULE.format(name=name))
    return tmp_path


# --- options ----------------------------------------------------------------------------------------


def test_global_options_before_and_after_the_subcommand_are_the_same() -> None:
    after = parse("diff", "-c", "x.yaml", "--region", "eu-west-1", "--profile", "p", "--ext-str", "A=1",
                  "--ext-code", "B=2", "--no-color", "--debug")
    before = parse("-c", "x.yaml", "--region", "eu-west-1", "--profile", "p", "--ext-str", "A=1",
                   "--ext-code", "B=2", "--no-color", "--debug", "diff")
    assert plain(after) == plain(before)
    assert before.config == ["x.yaml"] and before.region == "eu-west-1" and before.debug is True


def test_config_is_repeatable_on_both_sides() -> None:
    assert parse("-c", "a.yaml", "--config", "b.yaml", "diff", "-c", "c.yaml").config == ["a.yaml", "b.yaml", "c.yaml"]


def test_ecschedule_spellings() -> None:
    ns = parse("-conf", "a.yaml", "-ext-str", "A=1", "-ext-code", "B=2", "-no-color", "apply", "-all", "-dry-run",
               "-prune", "-rule", "r1", "-rule", "r2", "--conf", "b.yaml")
    assert (ns.config, ns.ext_str, ns.ext_code, ns.no_color) == (["a.yaml", "b.yaml"], ["A=1"], ["B=2"], True)
    assert (ns.all, ns.dry_run, ns.prune, ns.rule) == (True, True, True, ["r1", "r2"])
    ns = parse("-conf", "a.yaml", "diff", "-u", "-all", "-rule", "r1", "-prune", "-no-color")
    assert (ns.unified, ns.all, ns.rule, ns.prune, ns.no_color) == (True, True, ["r1"], True, True)
    assert parse("-conf=a.yaml", "validate").config == ["a.yaml"]
    assert parse("run", "-rule", "r1", "-dry-run").dry_run is True


def test_no_color_alias_turns_colour_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert Context.from_args(parse("validate")).color is True
    assert Context.from_args(parse("validate", "-no-color")).color is False


def test_default_config_is_ecsched_yaml_in_the_working_directory(workdir: Path, cli: Callable[..., Result]) -> None:
    r = cli("validate")
    assert (r.code, r.out) == (1, "ecsched.yaml: no such file; pass the config with -c FILE\n")
    (workdir / "ecsched.yaml").write_text((workdir / "a.yaml").read_text())
    r = cli("validate")
    assert r.code == 0 and "ok: 1 rule in ecsched.yaml" in r.err


def test_several_files_are_one_config(workdir: Path, cli: Callable[..., Result]) -> None:
    r = cli("-c", "a.yaml", "validate", "-c", "b.yaml")
    assert r.code == 0 and "ok: 2 rules in a.yaml, b.yaml" in r.err
    assert "ok: 2 rules" in cli("-c", "*.yaml", "validate").err


def test_ext_str_bare_name_reads_the_environment(workdir: Path, cli: Callable[..., Result],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (workdir / "f.jsonnet").write_text("{ cluster: std.extVar('C'), region: 'us-east-1', rules: [] }")
    monkeypatch.delenv("C", raising=False)
    r = cli("-c", "f.jsonnet", "-ext-str", "C", "render", "--format", "json")
    assert r.code == 1 and "environment variable C is not set" in r.err
    monkeypatch.setenv("C", "from-env")
    assert '"cluster": "from-env"' in cli("-c", "f.jsonnet", "-ext-str", "C", "render", "--format", "json").out


def test_version(cli: Callable[..., Result]) -> None:
    for flag in ("--version", "-version"):
        r = cli(flag)
        assert (r.code, r.out.strip()) == (0, f"ecsched {ecsched.__version__}")


# --- exit codes and errors ------------------------------------------------------------------------------


def test_usage_errors_exit_1_not_2(cli: Callable[..., Result]) -> None:
    """2 means "differences found" (diff --exit-code); a typo must not look like that."""
    for argv in (["bogus"], ["validate", "--bogus"], ["--region"], ["diff", "--format", "xml"]):
        r = cli(*argv)
        assert r.code == 1, argv
        assert "usage:" in r.err and "error:" in r.err


def test_no_subcommand_prints_help_and_exits_1(cli: Callable[..., Result]) -> None:
    r = cli()
    assert r.code == 1 and "COMMAND" in r.out and "validate" in r.out


def test_help_lists_every_command_with_its_help(cli: Callable[..., Result]) -> None:
    from ecsched.cli import command_modules

    r = cli("--help")
    assert r.code == 0
    for name, mod in command_modules().items():
        assert name in r.out
        assert " ".join(mod.HELP.split()[:4]) in " ".join(r.out.split())


def test_subcommand_help_has_its_options_and_the_globals(cli: Callable[..., Result]) -> None:
    r = cli("diff", "--help")
    assert r.code == 0
    for option in ("--exit-code", "-u, --unified", "-rule", "-c FILE, --config FILE, -conf FILE", "--debug"):
        assert option in r.out


def test_validate_exit_codes(workdir: Path, cli: Callable[..., Result]) -> None:
    assert cli("-c", "a.yaml", "validate").code == 0
    (workdir / "bad.yaml").write_text("rules:\n" + RULE.format(name="a b"))
    assert cli("-c", "bad.yaml", "validate").code == 1


def test_diff_exit_code_2_means_differences(aws: str, workdir: Path, cli: Callable[..., Result]) -> None:
    seed_ecs()
    assert cli("-c", "a.yaml", "diff", "--exit-code").code == 2
    assert cli("-c", "a.yaml", "diff").code == 0
    assert cli("-c", "a.yaml", "apply").code == 0
    assert cli("-c", "a.yaml", "diff", "--exit-code").code == 0


def test_an_internal_error_exits_70_and_asks_for_a_report_with_debug(workdir: Path, cli: Callable[..., Result],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import ecsched.commands.validate as validate

    def boom(args: argparse.Namespace, ctx: Context) -> int:
        raise RuntimeError("something broke")

    monkeypatch.setattr(validate, "run", boom)
    r = cli("-c", "a.yaml", "validate")
    assert r.code == 70  # EX_SOFTWARE: neither "invalid input" (1) nor "differences" (2)
    assert r.err.splitlines() == [
        "ecsched: error: internal error: RuntimeError: something broke",
        "ecsched: error: this is a bug in ecsched, not in your file: please report it on the project's issue "
        "tracker with the output of the same command run with --debug"]
    with pytest.raises(RuntimeError, match="something broke"):
        cli("-c", "a.yaml", "validate", "--debug")


def test_debug_shows_the_traceback(workdir: Path) -> None:
    script = textwrap.dedent("""
        import sys
        import ecsched.commands.validate as v
        def boom(args, ctx):
            raise RuntimeError("something broke")
        v.run = boom
        from ecsched.cli import main
        sys.exit(main(sys.argv[1:]))
    """)
    plain_run = subprocess.run([sys.executable, "-c", script, "-c", "a.yaml", "validate"], capture_output=True,
                               text=True, cwd=workdir)
    assert plain_run.returncode == 70 and "Traceback" not in plain_run.stderr and "--debug" in plain_run.stderr
    debug_run = subprocess.run([sys.executable, "-c", script, "-c", "a.yaml", "validate", "--debug"],
                               capture_output=True, text=True, cwd=workdir)
    assert debug_run.returncode == 1
    assert "Traceback (most recent call last)" in debug_run.stderr
    assert "RuntimeError: something broke" in debug_run.stderr


# --- what gets imported ------------------------------------------------------------------------------------------
# `--help`, `validate` and `--format json` never import rich (it is for terminals) nor, but where AWS is read,
# boto3. Each case runs in a fresh interpreter, piped, and lists the watched packages it ended up importing.

WATCHED = ("boto3", "botocore", "jsonschema", "moto", "rich", "deepdiff")
AWS = {"boto3", "botocore"}

_IMPORTS = textwrap.dedent("""
    import json, sys
    from ecsched.cli import main
    try:
        code = main(sys.argv[1:])
    except SystemExit as e:
        code = e.code
    heavy = sorted({m.split(".")[0] for m in sys.modules} & set(%r))
    commands = sorted(m for m in sys.modules if m.startswith("ecsched.commands."))
    print(json.dumps({"code": code, "heavy": heavy, "commands": commands}), file=sys.stderr)
""" % (WATCHED,))


def _imports(*argv: str, cwd: Path) -> dict[str, Any]:
    r = subprocess.run([sys.executable, "-c", _IMPORTS, *argv], capture_output=True, text=True, cwd=cwd)
    result: dict[str, Any] = json.loads(r.stderr.strip().splitlines()[-1])
    return result


def test_the_import_probe_sees_rich_and_boto3(tmp_path: Path) -> None:
    """The probe itself: a run that must import both does show them (else every guard below passes vacuously)."""
    script = _IMPORTS.replace("from ecsched.cli import main", "import boto3, rich.console\nmain = lambda a: 0")
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert {"boto3", "botocore", "rich"} <= set(json.loads(r.stderr.strip().splitlines()[-1])["heavy"])


def test_help_imports_no_command_no_rich_and_no_boto3(tmp_path: Path) -> None:
    for argv in (["--help"], ["validate", "--help"], ["diff", "--help"]):
        got = _imports(*argv, cwd=tmp_path)
        assert got["code"] == 0, argv
        assert got["heavy"] == [], argv
    assert _imports("--help", cwd=tmp_path)["commands"] == []


def test_validate_imports_only_itself_no_rich_and_no_boto3() -> None:
    got = _imports("-c", "configs/jobs.yaml", "validate", cwd=FIXTURES)
    assert got["code"] == 0
    assert got["commands"] == ["ecsched.commands.validate"]
    assert not {*AWS, "rich"} & set(got["heavy"]), got
    got = _imports("-c", "configs/must_env.yaml", "validate", cwd=FIXTURES)  # a failing file too
    assert got["code"] == 1
    assert not {*AWS, "rich"} & set(got["heavy"]), got


def test_render_imports_no_rich_and_no_boto3() -> None:
    for fmt in ([], ["--format", "json"]):
        got = _imports("-c", "configs/jobs.yaml", "render", *fmt, cwd=FIXTURES)
        assert got["code"] == 0, fmt
        assert not {*AWS, "rich"} & set(got["heavy"]), (fmt, got)


def test_diff_format_json_imports_no_rich(aws: str) -> None:
    got = _imports("-c", "configs/literal.yaml", "diff", "--format", "json", cwd=FIXTURES)
    assert got["code"] == 0
    assert "boto3" in got["heavy"]  # it did read AWS
    assert "rich" not in got["heavy"]


def test_the_console_script_and_python_m_agree(workdir: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "ecsched", "-c", "a.yaml", "validate"], capture_output=True, text=True,
                       cwd=workdir)
    assert r.returncode == 0 and "ok: 1 rule in a.yaml" in r.stderr
    r = subprocess.run([sys.executable, "-m", "ecsched", "-c", "missing.yaml", "validate"], capture_output=True,
                       text=True, cwd=workdir)
    assert r.returncode == 1 and r.stdout == "missing.yaml: no such file; pass the config with -c FILE\n"


def test_render_shows_a_file_that_does_not_validate(workdir: Path, cli: Callable[..., Result]) -> None:
    (workdir / "bad.yaml").write_text("rules:\n" + RULE.format(name="x") + "  taskCount: 11\n")
    r = cli("-c", "bad.yaml", "render")
    assert r.code == 1
    assert "taskCount: 11" in r.out
    assert "bad.yaml:5:3: rule x: `taskCount` 11 is out of range 1-10" in r.err

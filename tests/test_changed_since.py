"""`diff/apply --changed-since REF`: only the rules whose resolved definition differs from git REF, plus the
rules deleted since (pruned only with --prune). On a temporary git repository, against moto."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from bench.bench_scale import rule_yaml, write_config
from bench.fixtures import QuotaServer, quota_aws, quota_server
from ecsched.changed import compare
from ecsched.model import EcsTarget, Schedule
from tests.conftest import Result

__all__ = ["quota_aws", "quota_server"]


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.email=t@localhost", "-c", "user.name=t", *args],
                   check=True, capture_output=True)


def make_repo(tmp_path: Path, n: int = 6, name: str = "ecsched.yaml") -> Path:
    """A repo whose origin/main has `n` rules in `name`."""
    repo = tmp_path / "repo"
    repo.mkdir()
    write_config(repo / name, n)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "rules")
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    return repo


def seeded(srv: QuotaServer, cli: Callable[..., Result], tmp_path: Path, n: int = 6) -> Path:
    """The repo, with AWS matching origin/main."""
    repo = make_repo(tmp_path, n)
    assert cli("-c", str(repo / "ecsched.yaml"), "apply", "--quota", "0").code == 0
    srv.layer.reset()
    return repo


def edit_pr(repo: Path) -> Path:
    """A pull request: pauses job-00002, changes job-00003's command, deletes job-00005, adds job-00009."""
    path = repo / "ecsched.yaml"
    write_config(path, 5, paused=frozenset({2}))
    text = path.read_text().replace("'job:3']", "'job:3', --force]") + rule_yaml(9)
    path.write_text(text)
    return path


def changes(res: Result) -> dict[str, str]:
    assert res.code in (0, 2), res.err
    return {c["rule"]: c["action"] for c in json.loads(res.out)["changes"]}


def test_diff_shows_only_the_rules_changed_since_ref(quota_aws: QuotaServer, cli: Callable[..., Result],
                                                     tmp_path: Path) -> None:
    path = edit_pr(seeded(quota_aws, cli, tmp_path))
    res = cli("-c", str(path), "diff", "--changed-since", "origin/main", "--format", "json")
    assert changes(res) == {"job-00002": "update", "job-00003": "update", "job-00009": "create"}
    assert "3 of 6 rules changed, 1 deleted (deletions are pruned only with --prune)" in res.err
    # Only the changed rules that exist were read: not the unchanged ones, not the deleted one.
    assert quota_aws.layer.calls["events:ListTargetsByRule"] == 2
    assert quota_aws.layer.calls["events:ListTagsForResource"] == 2


def test_with_prune_rules_deleted_since_ref_are_deleted(quota_aws: QuotaServer, cli: Callable[..., Result],
                                                        tmp_path: Path) -> None:
    path = edit_pr(seeded(quota_aws, cli, tmp_path))
    res = cli("-c", str(path), "diff", "--changed-since", "origin/main", "--prune", "--format", "json")
    assert changes(res) == {"job-00002": "update", "job-00003": "update", "job-00009": "create",
                            "job-00005": "delete"}
    assert quota_aws.layer.calls["events:ListTargetsByRule"] == 3
    assert quota_aws.layer.calls.get("events:ListRuleNamesByTarget", 0) == 0  # no full prune scan


def test_apply_changed_since_writes_only_those_rules(quota_aws: QuotaServer, cli: Callable[..., Result],
                                                     tmp_path: Path) -> None:
    path = edit_pr(seeded(quota_aws, cli, tmp_path))
    res = cli("-c", str(path), "apply", "--changed-since", "origin/main", "--prune")
    assert res.code == 0, res.err
    # Reads: the rules', and (for the rule to create) whether it was migrated to Scheduler already.
    written = {k.split(":")[1] for k, n in quota_aws.layer.calls.items() if n} - {
        "GetCallerIdentity", "ListRules", "DescribeRule", "ListTargetsByRule", "ListTagsForResource",
        "GET /schedule-groups"}
    assert written <= {"PutRule", "PutTargets", "EnableRule", "DisableRule", "TagResource", "RemoveTargets",
                       "DeleteRule"}
    assert quota_aws.layer.calls["events:DeleteRule"] == 1
    assert quota_aws.layer.calls["events:PutRule"] == 1  # the new rule only
    # The whole file now matches AWS, and the deleted rule is gone.
    full = cli("-c", str(path), "diff", "--exit-code", "--prune")
    assert full.code == 0, full.out


def test_nothing_changed_reads_nothing(quota_aws: QuotaServer, cli: Callable[..., Result], tmp_path: Path) -> None:
    repo = seeded(quota_aws, cli, tmp_path)
    (repo / "ecsched.yaml").write_text((repo / "ecsched.yaml").read_text() + "# a comment only\n")
    res = cli("-c", str(repo / "ecsched.yaml"), "diff", "--changed-since", "origin/main", "--exit-code")
    assert res.code == 0, res.out
    assert "0 of 6 rules changed" in res.err
    assert not any(k.startswith("events:") for k in quota_aws.layer.calls)  # not even the rule list


def test_a_top_level_change_changes_every_rule(quota_aws: QuotaServer, cli: Callable[..., Result],
                                               tmp_path: Path) -> None:
    repo = seeded(quota_aws, cli, tmp_path)
    path = repo / "ecsched.yaml"
    path.write_text(path.read_text().replace("role: ecsEventsRole", "role: batchEventsRole"))
    res = cli("-c", str(path), "diff", "--changed-since", "origin/main", "--format", "json")
    assert set(changes(res).values()) == {"update"} and len(changes(res)) == 6


def test_a_rewrite_that_resolves_the_same_is_not_a_change(quota_aws: QuotaServer, cli: Callable[..., Result],
                                                          tmp_path: Path) -> None:
    repo = seeded(quota_aws, cli, tmp_path)
    path = repo / "ecsched.yaml"
    # Spelled differently, resolved the same: the default task count made explicit, a short role name
    # written as its ARN.
    text = path.read_text().replace("  - name: job-00001\n", "  - name: job-00001\n    taskCount: 1\n")
    role = "    role: arn:aws:iam::123456789012:role/ecsEventsRole\n"
    text = text.replace("  - name: job-00004\n", "  - name: job-00004\n" + role)
    path.write_text(text)
    res = cli("-c", str(path), "diff", "--changed-since", "origin/main", "--format", "json")
    assert changes(res) == {}
    assert "0 of 6 rules changed" in res.err


def test_ref_can_be_a_branch_tag_or_commit(quota_aws: QuotaServer, cli: Callable[..., Result],
                                           tmp_path: Path) -> None:
    repo = seeded(quota_aws, cli, tmp_path)
    git(repo, "tag", "v1")
    path = edit_pr(repo)
    for ref in ("v1", "main", "HEAD"):
        res = cli("-c", str(path), "diff", "--changed-since", ref, "--format", "json")
        assert set(changes(res)) == {"job-00002", "job-00003", "job-00009"}, ref


def test_a_config_file_deleted_since_ref_deletes_its_rules(quota_aws: QuotaServer, cli: Callable[..., Result],
                                                          tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "schedules").mkdir(parents=True)
    write_config(repo / "schedules" / "a.yaml", 2)
    b = repo / "schedules" / "b.yaml"
    b.write_text(write_config(tmp_path / "b.yaml", 4).read_text().replace("job-00000", "job-00100")
                 .replace("job-00001", "job-00101").replace("job-00002", "job-00102").replace("job-00003", "job-00103"))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "two files")
    pattern = str(repo / "schedules" / "*.yaml")
    assert cli("-c", pattern, "apply", "--quota", "0").code == 0
    b.unlink()
    res = cli("-c", pattern, "diff", "--changed-since", "HEAD", "--prune", "--format", "json")
    assert changes(res) == {f"job-001{i:02d}": "delete" for i in range(4)}


def test_a_config_new_since_ref_counts_every_rule(quota_aws: QuotaServer, cli: Callable[..., Result],
                                                 tmp_path: Path) -> None:
    repo = make_repo(tmp_path, 2, name="other.yaml")
    path = write_config(repo / "ecsched.yaml", 3)
    res = cli("-c", str(path), "diff", "--changed-since", "origin/main", "--format", "json")
    assert changes(res) == {f"job-0000{i}": "create" for i in range(3)}


def test_an_invalid_config_at_ref_falls_back_to_every_rule(quota_aws: QuotaServer, cli: Callable[..., Result],
                                                          tmp_path: Path) -> None:
    repo = seeded(quota_aws, cli, tmp_path, n=3)
    path = repo / "ecsched.yaml"
    good = path.read_text()
    path.write_text("rules: [oops\n")
    git(repo, "commit", "-q", "-am", "broken")
    path.write_text(good)
    res = cli("-c", str(path), "diff", "--changed-since", "HEAD", "--format", "json")
    assert changes(res) == {f"job-0000{i}": "noop" for i in range(3)}
    assert "cannot resolve the config at HEAD" in res.err and "every rule counts as changed" in res.err


def test_not_a_git_repository(quota_aws: QuotaServer, cli: Callable[..., Result], tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # never find a repo above tmp_path
    path = write_config(tmp_path / "ecsched.yaml", 2)
    res = cli("-c", str(path), "diff", "--changed-since", "origin/main")
    assert res.code == 1
    assert f"--changed-since needs a git repository: {tmp_path} is not in one" in res.err


def test_unknown_ref(quota_aws: QuotaServer, cli: Callable[..., Result], tmp_path: Path) -> None:
    repo = make_repo(tmp_path, 2)
    res = cli("-c", str(repo / "ecsched.yaml"), "diff", "--changed-since", "upstream/nope")
    assert res.code == 1
    assert "unknown git revision `upstream/nope`" in res.err
    assert "git fetch upstream nope" in res.err
    assert "Traceback" not in res.err


def _schedule(name: str, command: str = "a", tracking: str = "api") -> Schedule:
    from ecsched.model import ContainerOverride

    target = EcsTarget(target_id=name, cluster_arn="arn:aws:ecs:us-east-1:1:cluster/api",
                       role_arn="arn:aws:iam::1:role/r",
                       task_definition_arn="arn:aws:ecs:us-east-1:1:task-definition/t",
                       container_overrides=(ContainerOverride("app", command=(command,)),))
    return Schedule(name=name, expression="rate(1 hour)", target=target, region="us-east-1", tracking_id=tracking)


def test_compare_counts_definition_and_ownership_but_not_where_it_is_written() -> None:
    from ecsched.model import Location

    before = [_schedule("a"), _schedule("b"), _schedule("c"), _schedule("gone")]
    now = [replace(_schedule("a"), source=Location("moved.yaml", 99)),  # only moved: unchanged
           _schedule("b", command="other"), _schedule("c", tracking="web"), _schedule("new")]
    changed, deleted = compare(now, before)
    assert changed == {"b", "c", "new"}
    assert set(deleted) == {"gone"}


def test_a_jsonnet_library_changed_since_ref_changes_the_rules_using_it(
        quota_aws: QuotaServer, cli: Callable[..., Result], tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "lib").mkdir(parents=True)
    (repo / "lib" / "jobs.libsonnet").write_text("{ command: ['php', 'artisan', 'a'] }\n")
    (repo / "ecsched.jsonnet").write_text("""
local jobs = import 'lib/jobs.libsonnet';
{
  region: 'us-east-1', cluster: 'api', role: 'ecsEventsRole',
  rules: [
    { name: 'uses-lib', scheduleExpression: 'rate(1 hour)', taskDefinition: 'app',
      containerOverrides: [{ name: 'app', command: jobs.command }] },
    { name: 'plain', scheduleExpression: 'rate(2 hours)', taskDefinition: 'app' },
  ],
}
""")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "jsonnet")
    path = str(repo / "ecsched.jsonnet")
    assert cli("-c", path, "apply", "--quota", "0").code == 0
    (repo / "lib" / "jobs.libsonnet").write_text("{ command: ['php', 'artisan', 'b'] }\n")
    res = cli("-c", path, "diff", "--changed-since", "HEAD", "--format", "json")
    assert changes(res) == {"uses-lib": "update"}

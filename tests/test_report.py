"""One Report owns a run's counts and its exit code (apply today; migrate and disable through the same API)."""

from __future__ import annotations

from ecsched.report import EXIT_INCOMPLETE, EXIT_OK, Report


class Out:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def info(self, message: str) -> None:
        self.lines.append(("info", message))

    def error(self, message: str) -> None:
        self.lines.append(("error", message))


def test_all_done_exits_0_and_says_so() -> None:
    r = Report("Applied")
    r.record("a", "create", ["PutRule", "PutTargets", "EnableRule"])
    r.record("b", "update", ["PutTargets", "TagResource"])
    assert r.exit_code == EXIT_OK
    assert r.summary() == "Applied 2 changes."
    out = Out()
    r.print_to(out)
    assert out.lines == [("info", "+ a: created (PutRule, PutTargets, EnableRule)"),
                         ("info", "~ b: updated (PutTargets, TagResource)")]


def test_failed_refused_and_unread_each_make_exit_1_and_are_named() -> None:
    for add in (lambda r: r.record("a", "delete", error="DeleteRule failed: boom"),
                lambda r: r.refuse("a", "it belongs to trackingId `web`"),
                lambda r: r.skip("a", "ListTargetsByRule failed: InternalFailure")):
        r = Report("Migrated")
        r.record("ok", "migrate", ["CreateSchedule"])
        add(r)
        assert r.exit_code == EXIT_INCOMPLETE
        out = Out()
        r.print_to(out)
        assert [lvl for lvl, _ in out.lines] == ["info", "error"]
        assert out.lines[1][1].startswith("rule a: ")
    assert r.summary() == "Migrated 1 change, 1 not read (run it again: those rules were left as they are)."


def test_json_has_results_summary_and_exit_code() -> None:
    r = Report()
    r.record("a", "update", ["PutTargets"])
    r.record("b", "create", error="PutRule failed: x")
    r.skip("", "ListRules failed: y")
    doc = r.as_json()
    assert doc["results"] == [{"rule": "a", "action": "update", "ok": True, "calls": ["PutTargets"]},
                              {"rule": "b", "action": "create", "ok": False, "error": "PutRule failed: x"}]
    assert doc["unread"] == [{"rule": None, "error": "ListRules failed: y"}]
    assert doc["summary"] == {"done": 1, "failed": 1, "refused": 0, "unread": 1} and doc["exit_code"] == 1

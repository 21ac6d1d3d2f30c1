"""``FleetReport`` from the one JSON line of ``odfix fix --json``, on simulated PCs."""

import json
from datetime import UTC, datetime

import pytest

from odfix import __version__
from odfix.cli import main
from odfix.errors import BadInput
from odfix.fleet.report import FleetReport, from_line, verdict_for


def _fix_line(capsys, *args: str) -> tuple[int, dict]:
    code = main(["fix", "--json", *args])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and len(lines[0]) <= 2048
    return code, json.loads(lines[0])


def test_paused_then_resumed_run_reports_needs_person_then_fixed(capsys):
    code, paused = _fix_line(capsys, "--simulate", "password-reset", "--apply", "--yes")
    report = from_line(paused)
    assert code == 4 and report.verdict == "needs-person" and report.exit_code == 4
    assert report.run_id == paused["run"] and report.source == "cli" and report.kind == "fix"
    assert report.cause == "stale-token-password-change"
    outcomes = {m.method: m.outcome for m in report.methods}
    # a password reset proves no broken registration: Disconnect is not planned (issue 9)
    assert outcomes == {"new-password-sign-in": "needs-person", "credential-cleanup": "not-run",
                        "wam-signout": "not-run", "unlink-relink-onedrive": "not-run"}
    assert report.device_name == "PC-0001" and report.user == "user1@contoso.com"
    assert report.odfix_version == __version__
    assert report.started_at <= report.ended_at and report.started_at.tzinfo is not None

    code, done = _fix_line(capsys, "--simulate", "password-reset", "--resume")
    fixed = from_line(done)
    assert code == 0 and fixed.verdict == "fixed" and fixed.run_id == report.run_id
    outcomes = {m.method: m.outcome for m in fixed.methods}
    assert outcomes["new-password-sign-in"] == "not-fixed"
    assert outcomes["credential-cleanup"] == "fixed" and outcomes["wam-signout"] == "not-run"
    assert "reconnect-work-account" not in outcomes
    assert fixed.user == report.user


def test_dry_run_is_a_problem_with_planned_methods_and_the_pc_named(capsys):
    code, line = _fix_line(capsys, "--simulate", "cloned-image")
    report = from_line(line)
    assert code == 1 and report.verdict == "problem" and report.cause == "device-registration"
    assert report.methods and {m.outcome for m in report.methods} == {"planned"}
    assert report.device_id and report.device_name and report.join_type != "unknown"
    assert report.run_id.startswith("d-")  # no journal run: a digest of device, host, time


def test_healthy_pc_is_healthy_not_fixed(capsys):
    code, line = _fix_line(capsys, "--simulate", "healthy", "--apply", "--yes")
    report = from_line(line)
    assert code == 0 and report.verdict == "healthy" and report.methods == []


def test_round_trip_through_json_keeps_every_field(capsys):
    _, line = _fix_line(capsys, "--simulate", "stale-credentials", "--apply", "--yes")
    report = from_line(line)
    again = FleetReport.model_validate_json(json.dumps(report.dump()))
    assert again == report and report.dump()["schema"] == "odfix.fleet-report/1"


@pytest.mark.parametrize(("code", "applied", "verdict"), [
    (0, False, "healthy"), (0, True, "fixed"), (1, False, "problem"),
    (3, True, "still-failing"), (4, True, "needs-person"), (5, True, "error"),
    (70, False, "error")])
def test_verdicts_follow_the_exit_codes(code, applied, verdict):
    assert verdict_for(code, applied) == verdict


def test_outcomes_read_checks_before_steps():
    line = {"run": "r1", "exit": 3, "applied": True, "cause": "device-registration",
            "plan": ["a", "b", "c", "d"],
            "steps": ["a/1:done", "b/1:failed", "c/1:declined"],
            "checks": ["a:account=ok,prt=fail", "b:account=fail"],
            "start": "2026-11-20T09:00:00Z"}
    report = from_line(line, now=datetime(2026, 11, 21, tzinfo=UTC))
    assert [(m.method, m.outcome) for m in report.methods] == [
        ("a", "not-fixed"), ("b", "not-fixed"), ("c", "declined"), ("d", "not-run")]
    assert report.started_at == datetime(2026, 11, 20, 9, tzinfo=UTC)
    assert report.ended_at == report.started_at and report.odfix_version == "unknown"


@pytest.mark.parametrize("doc", [{"error": "boom", "exit": 2}, {"cause": "x"}, [],
                                 {"exit": "1", "cause": "x"}, {"exit": True, "cause": "x"}])
def test_what_is_not_a_report_line_is_bad_input(doc):
    with pytest.raises(BadInput):
        from_line(doc)

"""``odfix fix``, ``odfix journal`` and ``odfix demo`` through ``odfix.cli.main``."""

import json
import sys

import pytest

from odfix.cli import main
from odfix.exitcodes import ExitCode
from odfix.fix.engine import FixReport, StepReport


def _one_json_line(out: str) -> dict:
    lines = out.splitlines()
    assert len(lines) == 1, out
    assert len(lines[0]) <= 2048
    return json.loads(lines[0])


@pytest.mark.skipif(sys.platform == "win32", reason="checks the non-Windows refusal")
def test_fix_without_simulate_off_windows_exits_5_with_one_line(capsys):
    assert main(["fix", "--apply", "--yes"]) == ExitCode.WRONG_CONTEXT
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and "--simulate" in captured.err


def test_dry_run_lists_targets_and_changes_nothing(capsys, data_dir):
    assert main(["fix", "--simulate", "password-reset"]) == ExitCode.PROBLEM
    out = capsys.readouterr().out
    assert "OneDrive Cached Credential Business - Business1" in out
    assert "SSO_POP_Device" not in out and "dry run" in out
    assert not (data_dir / "journal.jsonl").exists()


def test_unattended_json_run_pauses_then_resume_fixes(capsys):
    code = main(["fix", "--simulate", "password-reset", "--apply", "--yes", "--json"])
    assert code == ExitCode.NEEDS_USER
    paused = _one_json_line(capsys.readouterr().out)
    assert paused["exit"] == 4 and "--resume" in paused["reason"]
    code = main(["fix", "--simulate", "password-reset", "--resume", "--json"])
    done = _one_json_line(capsys.readouterr().out)
    assert code == ExitCode.OK and done["healthy"] and done["run"] == paused["run"]
    assert main(["journal", "--json"]) == ExitCode.OK
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert [r["status"] for r in runs] == ["exit 0"]
    assert main(["journal", "--run", done["run"], "--json"]) == ExitCode.OK
    entries = json.loads(capsys.readouterr().out)["entries"]
    creds = [e["data"]["before"] for e in entries
             if e["kind"] == "change" and e["data"].get("what") == "credential"]
    assert creds and all({"target", "type", "persist", "last_written"} <= set(c) for c in creds)
    assert not any(k in json.dumps(entries).lower() for k in ("blob", "password\":"))


def test_interactive_simulated_run_narrates_and_ends_healthy(capsys):
    assert main(["fix", "--simulate", "multiple-identities", "--apply"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "clear-office-identity" in out and "healthy" in out


def test_journal_of_an_unknown_run_is_bad_input(capsys):
    assert main(["journal", "--run", "nope"]) == ExitCode.BAD_INPUT
    assert "no run" in capsys.readouterr().err


def test_empty_journal_is_shown(capsys):
    assert main(["journal"]) == ExitCode.OK
    assert "empty" in capsys.readouterr().out


def test_demo_fixes_the_default_scenario(capsys):
    assert main(["demo", "--json"]) == ExitCode.OK
    doc = json.loads(capsys.readouterr().out)
    assert doc["scenario"] == "password-reset" and doc["healthy"]
    assert doc["onedrive_folder_untouched"] and doc["deleted"]
    assert all("MicrosoftOffice" in d or "OneDrive Cached" in d for d in doc["deleted"])


def test_demo_narrates_and_stops_for_the_admin_case(capsys):
    assert main(["demo", "--scenario", "entra-joined-needs-admin"]) == ExitCode.NEEDS_USER
    assert "--allow-unjoin" in capsys.readouterr().out


def test_demo_of_an_unknown_scenario_is_bad_input(capsys):
    assert main(["demo", "--scenario", "nope"]) == ExitCode.BAD_INPUT


def test_compact_json_stays_within_intune_limit():
    steps = [StepReport(id=f"method-{i}/{i}", method="m", title="t" * 50, action="person",
                        context="ui", status="done", notes=["n" * 300]) for i in range(200)]
    report = FixReport(cause="stale-token-password-change", join_type="hybrid-joined",
                       plan=["wam-signout"] * 20, applied=True, steps=steps,
                       reason="r" * 3000, exit_code=3)
    doc = report.compact()
    assert len(json.dumps(doc, ensure_ascii=False)) <= 2048 and doc["truncated"]


def test_unjoin_with_allow_unjoin_restarts_then_resumes_to_healthy(capsys):
    args = ["fix", "--simulate", "entra-joined-needs-admin", "--json"]
    assert main([*args, "--apply"]) == ExitCode.NEEDS_USER
    assert "--allow-unjoin" in _one_json_line(capsys.readouterr().out)["reason"]
    assert main([*args, "--apply", "--allow-unjoin"]) == ExitCode.NEEDS_USER
    restarting = _one_json_line(capsys.readouterr().out)
    assert "restarting" in restarting["reason"]
    assert main([*args, "--resume"]) == ExitCode.OK
    assert _one_json_line(capsys.readouterr().out)["run"] == restarting["run"]

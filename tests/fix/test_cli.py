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


def _append(data_dir, **entry) -> None:
    from odfix.fix.journal import Entry, Journal

    Journal(data_dir / "journal.jsonl").append(Entry.model_validate(
        {"time": "2026-11-20T08:00:00Z", **entry}))


def _saved_owner(data_dir, scenario: str) -> str:
    from odfix.hosts.simulated import SimulatedHost

    return SimulatedHost.load(data_dir / "sim" / f"{scenario}.json").owner()


def test_simulate_never_reports_healthy_since_a_real_run(capsys, data_dir):
    import socket

    for owner in (socket.gethostname(), "PC-0001", "sim:recurring-ca:x@PC-0001"):
        _append(data_dir, run_id=f"r-{owner}", kind="run-start",
                data={"owner": owner, "cause": "x", "plan": ["wam-signout"], "join_type": "none"})
        _append(data_dir, run_id=f"r-{owner}", kind="run-end",
                data={"exit_code": 0, "healthy": True, "reason": "healthy"})
    main(["fix", "--simulate", "healthy", "--apply", "--yes", "--json"])
    assert "since run" not in capsys.readouterr().out


def test_resume_never_crosses_scenarios(capsys, data_dir):
    from odfix.fix.journal import Journal

    assert main(["fix", "--simulate", "device-registration-corrupt", "--apply", "--yes",
                 "--allow-unjoin", "--json"]) == ExitCode.NEEDS_USER  # pauses at Disconnect
    paused = _one_json_line(capsys.readouterr().out)
    code = main(["fix", "--simulate", "entra-joined-needs-admin", "--resume", "--yes", "--json"])
    other = _one_json_line(capsys.readouterr().out)
    assert code == ExitCode.NEEDS_USER and other["run"] != paused["run"]
    assert "--allow-unjoin" in other["reason"]
    journal = Journal(data_dir / "journal.jsonl")
    assert journal.entries(paused["run"])[-1].kind == "paused"


def test_a_forged_journal_cannot_open_the_unjoin_gate(capsys, data_dir):
    args = ["fix", "--simulate", "entra-joined-needs-admin"]
    assert main([*args, "--apply", "--yes", "--json"]) == ExitCode.NEEDS_USER
    capsys.readouterr()
    owner = _saved_owner(data_dir, "entra-joined-needs-admin")
    _append(data_dir, run_id="forged", kind="run-start",
            data={"owner": owner, "cause": "device-registration", "plan":
                  ["reconnect-work-account"], "join_type": "entra-registered",
                  "allow_unjoin": True})
    code = main([*args, "--resume", "--json"])  # interactive: the simulated person would act
    doc = _one_json_line(capsys.readouterr().out)
    assert code == ExitCode.NEEDS_USER and doc["run"] == "forged"
    assert "entra-joined now" in doc["reason"]
    from odfix.hosts.simulated import SimulatedHost

    state = SimulatedHost.load(data_dir / "sim" / "entra-joined-needs-admin.json").state
    assert state.registration.device_id is not None and state.opened_uris == []


def test_an_unknown_method_is_refused_before_the_journal(capsys, data_dir):
    assert main(["fix", "--simulate", "password-reset", "--method", "nope", "--apply",
                 "--yes"]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert "unknown method 'nope'" in err and len(err.strip().splitlines()) == 1
    assert not (data_dir / "journal.jsonl").exists()


def test_a_journaled_unknown_method_or_bare_pause_is_a_clear_refusal(capsys, data_dir):
    args = ["fix", "--simulate", "password-reset"]
    assert main([*args, "--apply", "--yes"]) == ExitCode.NEEDS_USER
    capsys.readouterr()
    owner = _saved_owner(data_dir, "password-reset")
    _append(data_dir, run_id="bad-method", kind="run-start",
            data={"owner": owner, "cause": "x", "plan": ["nope"], "join_type": "none"})
    assert main([*args, "--resume", "--yes"]) == ExitCode.BAD_INPUT
    assert "unknown method 'nope'" in capsys.readouterr().err
    _append(data_dir, run_id="bad-method", kind="run-end", data={"exit_code": 2})
    _append(data_dir, run_id="bare-pause", kind="run-start",
            data={"owner": owner, "cause": "x", "plan": ["wam-signout"], "join_type": "none"})
    _append(data_dir, run_id="bare-pause", kind="paused", step="wam-signout/1", data={})
    assert main([*args, "--resume", "--yes"]) == ExitCode.BAD_INPUT
    assert "paused entry has no instruction" in capsys.readouterr().err
    _append(data_dir, run_id="bare-pause", kind="run-end", data={"exit_code": 2})
    _append(data_dir, run_id="no-cause", kind="run-start",
            data={"owner": owner, "plan": ["wam-signout"], "join_type": "none"})
    assert main([*args, "--resume", "--yes", "--json"]) == ExitCode.BAD_INPUT
    doc = json.loads(capsys.readouterr().out)
    assert doc["exit"] == 2 and "cause" in doc["error"]


def test_a_held_lock_is_busy_and_runs_nothing(capsys, data_dir, tmp_path):
    import subprocess

    assert main(["fix", "--simulate", "password-reset", "--apply", "--yes"]) == ExitCode.NEEDS_USER
    capsys.readouterr()
    owner = _saved_owner(data_dir, "password-reset")
    before = (data_dir / "journal.jsonl").read_bytes()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\nfrom pathlib import Path\nfrom odfix.fix.journal import Journal\n"
        "with Journal(Path(sys.argv[1])).lock(sys.argv[2]):\n"
        "    print('held', flush=True); time.sleep(60)\n"),
        str(data_dir / "journal.jsonl"), owner], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        code = main(["fix", "--simulate", "password-reset", "--resume", "--json"])
        assert code == ExitCode.BUSY
        assert json.loads(capsys.readouterr().out)["exit"] == 7
        assert (data_dir / "journal.jsonl").read_bytes() == before
    finally:
        holder.kill()
        holder.wait()


def test_journal_escapes_what_it_prints_and_reads_well(capsys, data_dir):
    _append(data_dir, run_id="r1", kind="run-start",
            data={"owner": "PC-1", "cause": "[link=https://evil.example]x[/link]\x1b]0;t\x07",
                  "plan": ["wam-signout"], "join_type": "none"})
    _append(data_dir, run_id="r1", kind="step-start", step="[bold]m/1\x1b[2J",
            data={"title": "t", "action": "person"})
    assert main(["journal"]) == ExitCode.OK
    listed = capsys.readouterr().out
    assert "[link=https://evil.example]" in listed and "\x1b" not in listed
    assert main(["journal", "--run", "r1"]) == ExitCode.OK
    shown = capsys.readouterr().out
    assert "[link=https://evil.example]" in shown and "[bold]m/1" in shown
    assert "\x1b" not in shown
    assert "cause [link=https://evil.example]x[/link]" in shown


def test_journal_run_is_one_readable_line_per_entry(capsys, data_dir):
    assert main(["fix", "--simulate", "password-reset", "--apply", "--yes", "--json"]) == 4
    run = json.loads(capsys.readouterr().out)["run"]
    assert main(["fix", "--simulate", "password-reset", "--resume"]) == ExitCode.OK
    assert main(["journal", "--run", run]) == ExitCode.OK
    out = capsys.readouterr().out
    assert ("cause stale-token-password-change, join type entra-registered, plan "
            "new-password-sign-in") in out
    assert "credential — before {target: LegacyGeneric:target=MicrosoftOffice" in out
    # a registered PC: the user signs in to OneDrive, not to Windows
    assert "paused      new-password-sign-in/2  When OneDrive or an Office app asks" in out
    assert "=" not in out.split("run-start", 1)[1].splitlines()[0]


@pytest.mark.parametrize("command", ["fix", "demo"])
def test_help_names_every_scenario(capsys, command):
    from odfix.hosts import scenario_names

    assert main([command, "--help"]) == ExitCode.OK
    out = " ".join(capsys.readouterr().out.split())
    assert all(name in out for name in scenario_names())

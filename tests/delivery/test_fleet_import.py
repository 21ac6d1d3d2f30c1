"""``odfix fleet import``: Intune run states (Graph's wire format) → per cause/method counts.

The scripts' output in each run state is real odfix output: the detection line of
``odfix diagnose --live --json --compact`` and the fix runs of ``odfix fix --apply --yes`` on
simulated PCs, placed where Intune puts them (pre-/post-remediation detection output). The
run-state envelope follows Microsoft Graph's documented deviceHealthScriptDeviceState
(tests/fixtures/intune/README.md); device names and ids are placeholders.
"""

import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from odfix.cli import main
from odfix.fleet import runstates
from odfix.fleet.summary import summarize

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tenant"))
gs = importlib.import_module("graph_server")

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "intune" / "deviceRunStates.json"
SCRIPT = "5a1f-odfix-remediation"


def _line(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    main(list(args))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and len(lines[0]) <= 2048, lines
    return lines[0]


def _detect(capsys, scenario: str) -> str:
    return _line(capsys, "diagnose", "--live", "--simulate", scenario, "--json", "--compact")


def _state(number: int, name: str, pre: str, post: str | None, remediation: str,
           device_id: str | None = None) -> dict[str, Any]:
    """A run state as Graph returns it with $expand=managedDevice."""
    return {
        "@odata.type": "#microsoft.graph.deviceHealthScriptDeviceState",
        "id": f"{SCRIPT}:{number:04d}", "detectionState": "fail" if post else "success",
        "lastStateUpdateDateTime": "2026-11-20T09:30:00.4418045Z",
        "expectedStateUpdateDateTime": "2026-11-21T09:30:00Z",
        "lastSyncDateTime": "2026-11-20T09:29:49.3205976Z",
        "preRemediationDetectionScriptOutput": pre, "preRemediationDetectionScriptError": None,
        "remediationScriptError": None, "postRemediationDetectionScriptOutput": post,
        "postRemediationDetectionScriptError": None, "remediationState": remediation,
        "assignmentFilterIds": [],
        "managedDevice": {"id": f"md-{number:04d}", "deviceName": name,
                          "azureADDeviceId": device_id or f"entra-{number:04d}",
                          "userPrincipalName": f"user{number}@contoso.com"},
    }


def _one_pc(capsys, data: Path, scenario: str, *fix_args: str) -> tuple[str, str]:
    """Detection, the remediation's fix run, detection again, on one simulated PC."""
    os.environ["ODFIX_DATA_DIR"] = str(data / scenario)
    pre = _detect(capsys, scenario)
    main(["fix", "--simulate", scenario, "--apply", "--yes", "--json", *fix_args])
    capsys.readouterr()
    return pre, _detect(capsys, scenario)


@pytest.fixture
def fleet(capsys, tmp_path, monkeypatch) -> list[dict[str, Any]]:
    monkeypatch.setenv("ODFIX_DATA_DIR", str(tmp_path))
    states = []
    pre, post = _one_pc(capsys, tmp_path, "multiple-identities")
    states.append(_state(1, "PC-FIXED", pre, post, "success"))
    pre, post = _one_pc(capsys, tmp_path, "password-reset")
    states.append(_state(2, "PC-SIGNIN", pre, post, "success"))
    pre, post = _one_pc(capsys, tmp_path, "connectivity-tls", "--method", "clear-office-identity")
    states.append(_state(3, "PC-TLS", pre, post, "remediationFailed"))
    os.environ["ODFIX_DATA_DIR"] = str(tmp_path / "healthy")
    states.append(_state(4, "PC-OK", _detect(capsys, "healthy"), None, "skipped"))
    os.environ["ODFIX_DATA_DIR"] = str(tmp_path / "cloned")
    clone = _detect(capsys, "cloned-image")  # two PCs from one image: the same device id
    states.append(_state(5, "PC-IMG-1", clone, None, "unknown"))
    states.append(_state(6, "PC-IMG-2", clone, None, "unknown"))
    broken = _state(7, "PC-BROKEN", "", None, "skipped")
    broken.update(detectionState="scriptError",
                  preRemediationDetectionScriptError="odfix: error: odfix.exe not found")
    states.append(broken)
    states.append({**_state(8, "PC-NEW", "", None, "unknown"), "detectionState": "pending"})
    return states


def _check(summary) -> None:
    causes = {row.cause: row for row in summary.causes}
    assert summary.pcs == 7 and summary.healthy == 1 and summary.errors == 1  # PC-NEW not run
    fixed = causes["multiple-identities"]
    assert (fixed.found, fixed.fixed) == (1, 1)
    person = causes["stale-token-password-change"]
    assert (person.found, person.needs_person) == (1, 1)
    tls = causes["connectivity-tls"]
    assert (tls.found, tls.still_failing) == (1, 1)
    assert causes["device-registration"].not_remediated == 2
    methods = {row.method: row for row in summary.methods}
    assert (methods["clear-office-identity"].ran, methods["clear-office-identity"].fixed) == (2, 1)
    assert sum(row.needs_person for row in summary.methods) == 1  # the sign-in step waits
    assert methods["clear-office-identity"].not_fixed == 1
    assert [(c.device_id, c.names) for c in summary.clones] == [
        ("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", ["PC-IMG-1", "PC-IMG-2"])]


def test_import_from_a_saved_graph_answer(fleet, tmp_path, capsys):
    saved = tmp_path / "runstates.json"
    saved.write_text(json.dumps({"@odata.context": "https://graph.microsoft.com/beta/$metadata#"
                                 "deviceManagement/deviceHealthScripts('x')/deviceRunStates",
                                 "value": fleet}))
    reports = tmp_path / "reports.jsonl"
    assert main(["fleet", "import", str(saved), "--json", "--reports", str(reports)]) == 0
    doc = json.loads(capsys.readouterr().out)
    _check(summarize([r for s in runstates.read_file(saved) if (r := runstates.to_report(s))]))
    assert doc["pcs"] == 7 and doc["clones"][0]["names"] == ["PC-IMG-1", "PC-IMG-2"]
    lines = [json.loads(x) for x in reports.read_text().splitlines()]
    assert len(lines) == 7 and {x["source"] for x in lines} == {"intune"}
    signin = next(x for x in lines if x["device_name"] == "PC-SIGNIN")
    assert signin["kind"] == "fix" and signin["verdict"] == "needs-person"
    assert signin["run_id"] != "" and not signin["run_id"].startswith("intune:")  # the fix run


def test_the_same_states_twice_count_once(fleet, tmp_path, capsys):
    saved = tmp_path / "pages.jsonl"
    page = json.dumps({"value": fleet})
    saved.write_text(page + "\n" + page + "\n")  # two pulls appended
    assert main(["fleet", "import", str(saved), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["pcs"] == 7 and doc["reports"] == 14


def test_import_pulls_every_page_from_graph_with_the_device_expanded(fleet, capsys,
                                                                     monkeypatch):
    state = gs.GraphState(run_states={SCRIPT: fleet}, page_size=3)
    monkeypatch.setenv("ODFIX_TEST_TOKEN", gs.TOKEN)
    with gs.GraphServer(state) as server:
        code = main(["fleet", "import", "--script-id", SCRIPT, "--tenant", "contoso.com",
                     "--token-env", "ODFIX_TEST_TOKEN", "--graph-url", server.url, "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    doc = json.loads(out.out)
    assert doc["pcs"] == 7 and doc["reports"] == 7
    hits = [h for h in state.log if "deviceRunStates" in h.path]
    assert len(hits) == 3 and hits[0].path.startswith("/beta/deviceManagement/")
    assert "managedDevice" in hits[0].query


def test_the_documented_example_reads_and_counts_as_a_script_error(capsys):
    assert main(["fleet", "import", str(FIXTURE), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["pcs"] == 1 and doc["errors"] == 1  # its outputs are placeholder text


@pytest.mark.parametrize(("text", "message"), [
    ("not json", "not JSON"), ('{"value": 3}', "not a deviceRunStates answer"),
    ('{"value": [{"detectionState": "fail"}]}', "run state 1: id"),
])
def test_bad_files_are_one_line_exit_2(tmp_path, capsys, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    assert main(["fleet", "import", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_files_and_pull_together_are_refused(tmp_path, capsys):
    assert main(["fleet", "import", str(FIXTURE), "--script-id", "x"]) == 2
    assert main(["fleet", "import"]) == 2

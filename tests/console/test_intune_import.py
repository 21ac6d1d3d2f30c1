"""``odfix fleet import --report-to``: Intune run states reach the console the way PCs' reports do
(one idempotent write, attached to cases by device and user)."""

import importlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from console_kit import FIXTURES, LiveServer, add_token
from sqlalchemy import Engine, select

from odfix.cli import main
from odfix.console.app import create_app
from odfix.console.config import ConsoleConfig
from odfix.console.db import Case, Report, sessions

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "delivery"))
fleet = importlib.import_module("test_fleet_import").fleet  # real odfix lines in Intune states


@pytest.fixture(params=["sqlite"])
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'console.db'}"


def _case(engine: Engine, upn: str, device_id: str | None) -> int:
    """A case opened at intake (a technician's, before Intune reported)."""
    with sessions(engine)() as db:
        case = Case(upn=upn, device_id=device_id, cause="connectivity-tls",
                    join_type="hybrid-joined", status="open", source="intake",
                    needs_person=False)
        db.add(case)
        db.commit()
        return case.id


def test_intune_run_states_are_stored_like_reports(
        fleet: list[dict[str, Any]], engine: Engine, db_url: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    saved = tmp_path / "runstates.json"
    saved.write_text(json.dumps({"value": fleet}))
    token = add_token(engine, "Intune")
    tls_case = _case(engine, "user1@contoso.com", "entra-0003")  # PC-TLS's device and user
    user_case = _case(engine, "user7@contoso.com", None)  # PC-BROKEN's user, no PC known yet
    server = LiveServer(create_app(ConsoleConfig(db_url=db_url)))
    try:
        monkeypatch.delenv("ODFIX_REPORT_TOKEN", raising=False)
        assert main(["fleet", "import", str(saved), "--report-to", server.url]) == 2
        assert "ODFIX_REPORT_TOKEN" in capsys.readouterr().err
        monkeypatch.setenv("ODFIX_REPORT_TOKEN", token)
        assert main(["fleet", "import", str(saved), "--report-to", server.url, "--json"]) == 0
        out = capsys.readouterr()
        assert json.loads(out.out)["pcs"] == 7  # stdout: still the one summary document
        assert "posted 7 reports to the console: 7 new, 0 already there" in out.err
        assert main(["fleet", "import", str(saved), "--report-to", server.url]) == 0
        assert "7 reports to the console: 0 new, 7 already there" in capsys.readouterr().err
    finally:
        server.stop()
    with sessions(engine)() as db:
        reports = {r.device_name: r for r in db.scalars(select(Report))}
        assert len(reports) == 7 and {r.source for r in reports.values()} == {"intune"}
        assert reports["PC-TLS"].case_id == tls_case  # by device and user
        assert reports["PC-BROKEN"].case_id == user_case  # by user, the case had no PC
        assert reports["PC-OK"].case_id is None  # healthy and no open case: nothing opened
        clones = {reports["PC-IMG-1"].case_id, reports["PC-IMG-2"].case_id}
        assert len(clones) == 1 and None not in clones  # one device id: one case
        fixed = db.get(Case, reports["PC-FIXED"].case_id)
        assert fixed is not None and (fixed.status, fixed.source) == ("fixed", "fleet")
        assert fixed.method == "clear-office-identity"
        signin = db.get(Case, reports["PC-SIGNIN"].case_id)
        assert signin is not None and signin.needs_person and signin.status == "open"


def test_unreachable_console_is_exit_6(capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv("ODFIX_REPORT_TOKEN", "odfx_x")
    monkeypatch.setattr("odfix.fleet.post.time.sleep", lambda _: None)
    saved = FIXTURES / "intune" / "deviceRunStates.json"  # Graph's documented example
    assert main(["fleet", "import", str(saved), "--report-to", url, "--json"]) == 6
    out = capsys.readouterr()
    assert "after 0 of 1 reports; run the import again" in json.loads(out.out)["error"]

"""Fleet ingest: enrolment tokens, idempotency by run id, cases opened and fixed by reports."""

import hashlib
import json
from datetime import UTC, datetime, timedelta

from console_kit import T0, Console, post, report
from sqlalchemy import func, select, text

from odfix.console.db import Case, EnrolmentToken, Report, WeeklyStat, sessions


def test_tokens_are_stored_hashed_and_revocable(lead: Console) -> None:
    token = lead.token()
    assert lead.client.get("/fleet").text.count(token) == 0  # shown once
    with sessions(lead.engine)() as db:
        row = db.scalars(select(EnrolmentToken)).one()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    with lead.engine.connect() as conn:  # the token itself is nowhere in the database
        for table in ("enrolment_tokens", "settings", "sites"):
            assert token not in repr(conn.execute(text(f"SELECT * FROM {table}")).all())
    assert post(lead, token, report("r1")).status_code == 201
    lead.post(f"/fleet/tokens/{row.id}/revoke")
    refused = post(lead, token, report("r2"))
    assert refused.status_code == 401 and "revoked" in refused.json()["error"]
    with sessions(lead.engine)() as db:
        assert db.scalar(select(func.count()).select_from(Report)) == 1


def test_ingest_is_idempotent(lead: Console) -> None:
    token = lead.token()
    first = post(lead, token, report("run-1"))
    assert first.status_code == 201 and first.json() == {"run_id": "run-1",
                                                         "status": "created"}
    again = post(lead, token, report("run-1"))
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    batch = post(lead, token, [report("run-1"), report("run-2"), report("run-2")])
    assert [r["status"] for r in batch.json()["results"]] == ["duplicate", "created",
                                                              "duplicate"]
    with sessions(lead.engine)() as db:
        assert db.scalar(select(func.count()).select_from(Report)) == 2
        stats = db.scalars(select(WeeklyStat)).all()
        assert sum(s.runs for s in stats) == 0  # detections are not fix attempts


def test_bad_requests_get_json_errors(lead: Console) -> None:
    token = lead.token()
    client = lead.client
    assert client.post("/api/v1/reports", json=report("x")).status_code == 401
    wrong = post(lead, "odfx_not-a-token", report("x"))
    assert wrong.status_code == 401
    for body, status in ((b"{not json", 422), (b'{"run_id": "x"}', 422), (b"[]", 422),
                         (json.dumps(report("y") | {"run_id": ""}).encode(), 422),
                         (b" " * 300_000, 413)):
        response = client.post("/api/v1/reports", content=body,
                               headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == status, body[:40]
        assert "error" in response.json()
    with sessions(lead.engine)() as db:
        assert db.scalar(select(func.count()).select_from(Report)) == 0


def test_reports_open_and_fix_cases(lead: Console) -> None:
    token = lead.token()
    # a failing detection opens a case for the PC; a fix run that needs the user keeps it open
    post(lead, token, report("a1", verdict="problem"))
    post(lead, token, report("a2", verdict="needs-person", at=T0 + timedelta(hours=1),
                             methods=[("credential-cleanup", "needs-person")]))
    with sessions(lead.engine)() as db:
        case = db.scalars(select(Case)).one()
        assert (case.status, case.source, case.needs_person, case.method) == (
            "open", "fleet", True, "credential-cleanup")
    # the verified fix closes it: time to fix from the first failing report to the fix
    post(lead, token, report("a3", verdict="fixed", at=T0 + timedelta(hours=2), minutes=10,
                             methods=[("credential-cleanup", "not-fixed"),
                                      ("reconnect-work-account", "fixed")]))
    with sessions(lead.engine)() as db:
        case = db.scalars(select(Case)).one()
        assert (case.status, case.method, case.ttf_s) == ("fixed", "reconnect-work-account",
                                                          2 * 3600 + 600)
        assert {r.case_id for r in db.scalars(select(Report))} == {case.id}
    # the same user fails again on that PC two days later: a new case, marked recurring
    post(lead, token, report("a4", at=T0 + timedelta(days=2, hours=2, minutes=10)))
    with sessions(lead.engine)() as db:
        new = db.scalars(select(Case).where(Case.status == "open")).one()
        assert new.user_gap_s == new.device_gap_s == 2 * 86400
    # a healthy run on another PC opens nothing
    post(lead, token, report("b1", verdict="healthy", device="DEV-2", user="bob@contoso.com"))
    with sessions(lead.engine)() as db:
        assert db.scalar(select(func.count()).select_from(Case)) == 2


def test_intake_case_gets_the_pcs_reports(lead: Console) -> None:
    from console_kit import FIXTURES

    zipped = (FIXTURES / "bundles" / "collected_pc0001.zip").read_bytes()
    lead.post("/intake", {"upn": "ada@contoso.com"},
              files={"bundle": ("pc.zip", zipped, "application/zip")})
    token = lead.token()
    with sessions(lead.engine)() as db:
        case = db.scalars(select(Case)).one()
    device = case.device_id.upper()  # device ids match whatever their case
    post(lead, token, report("c1", verdict="fixed", device=device,
                             methods=[("credential-cleanup", "fixed")], at=datetime.now(UTC)))
    with sessions(lead.engine)() as db:
        fixed = db.get(Case, case.id)
        assert fixed is not None and fixed.status == "fixed"
        assert fixed.method == "credential-cleanup"
    assert "c1" in lead.client.get(f"/cases/{case.id}").text

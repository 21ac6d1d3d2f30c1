"""Intake: the uploaded zip or pasted captures through the CLI's loader and rules, into a case."""

import html
import io
import re
import zipfile

from console_kit import FIXTURES, Console
from sqlalchemy import func, select

from odfix.console.db import Case, Intake, sessions
from odfix.diagnosis import diagnose
from odfix.evidence import bundle
from odfix.guide import load_guide
from odfix.publish import ticket

ZIP = FIXTURES / "bundles" / "collected_pc0001.zip"
DSREG = FIXTURES / "dsregcmd" / "hybrid_prt_failure_learn.txt"


def _upload(console: Console, data: bytes, name: str = "pc.zip", **fields: str) -> object:
    return console.post("/intake", {"ticket": "INC-1", **fields},
                        files={"bundle": (name, data, "application/zip")})


def test_upload_opens_a_case_with_the_cli_diagnosis(lead: Console) -> None:
    expected = diagnose([bundle.load(ZIP)], error_code="0x8004de40")
    page = _upload(lead, ZIP.read_bytes(), error_code="0x8004de40", upn="Ada@Contoso.com")
    assert page.status_code == 200
    top = expected.causes[0]
    assert f"Diagnosis: {top.id}" in page.text
    for finding in expected.findings[:3]:  # cited evidence lines, as the CLI cites them
        for citation in finding.evidence[:2]:
            assert f"{citation.file}:{citation.line}" in page.text
    for item in expected.plan:
        assert f'href="/kb#m-{item.method}"' in page.text
    with sessions(lead.engine)() as db:
        case = db.scalars(select(Case)).one()
        assert (case.cause, case.upn, case.ticket, case.status) == (
            top.id, "ada@contoso.com", "INC-1", "open")
        assert case.device_id == expected.pcs[0].device_id
        assert case.device_name == "PC-0001" and case.join_type == expected.join_type
    case_page = lead.client.get(f"/cases/{case.id}")
    assert "PC-0001" in case_page.text and top.id in case_page.text
    # the ticket note of `odfix diagnose --note`, its KB link on this console, on both pages
    expected_note = ticket.render(ticket.for_diagnosis(expected, load_guide(),
                                                       kb="http://testserver/kb"))
    for shown in (page.text, case_page.text):
        note = html.unescape(re.search(r'<textarea id="ticket-note"[^>]*>(.*?)</textarea>',
                                       shown, re.S).group(1))
        stamp = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC")  # made a moment apart
        assert stamp.sub("T", note) == stamp.sub("T", expected_note)
        assert 'data-copy="ticket-note"' in shown
    assert "Cause: " in note and "(http://testserver/kb#" in note


def test_second_intake_adds_to_the_case(lead: Console) -> None:
    _upload(lead, ZIP.read_bytes())
    with sessions(lead.engine)() as db:
        case_id = db.scalar(select(Case.id))
    page = lead.post("/intake", {"case_id": str(case_id),
                                 "dsregcmd_status.txt": DSREG.read_text(encoding="utf-8")})
    assert page.status_code == 200 and f'href="/cases/{case_id}"' in page.text
    with sessions(lead.engine)() as db:
        assert db.scalar(select(func.count()).select_from(Case)) == 1
        assert db.scalar(select(func.count()).select_from(Intake)) == 2


def test_pasted_captures(lead: Console) -> None:
    page = lead.post("/intake", {"dsregcmd_status.txt": DSREG.read_text(encoding="utf-8")})
    assert page.status_code == 200 and "Diagnosis:" in page.text
    assert "dsregcmd_status.txt:" in page.text  # a cited line


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_bad_input_gets_a_clear_page(lead: Console) -> None:
    cases = [
        (b"not a zip at all", "not a readable zip file"),
        (_zip({"../evil.txt": b"x"}), "refused member"),
        (_zip({"holiday.jpg": b"x"}), "no readable evidence"),
    ]
    for data, message in cases:
        page = _upload(lead, data, name="user.zip")
        assert page.status_code == 400, message
        assert message in page.text and "Traceback" not in page.text
        assert "/tmp/" not in page.text  # the upload's name, not the server's scratch path
    empty = lead.post("/intake", {})
    assert empty.status_code == 400 and "nothing to diagnose" in empty.text
    assert lead.client.get("/intakes/999").status_code == 404
    assert lead.client.get("/cases/abc").status_code == 400
    with sessions(lead.engine)() as db:
        assert db.scalar(select(func.count()).select_from(Case)) == 0


def test_oversized_upload_is_refused(engine: object, db_url: str) -> None:
    from console_kit import make_console

    for console in make_console(engine, db_url, max_upload_bytes=50_000):  # type: ignore[arg-type]
        console.login()
        page = _upload(console, b"x" * 60_000)
        assert page.status_code == 413


def test_case_status_and_list_filters(lead: Console) -> None:
    _upload(lead, ZIP.read_bytes())
    with sessions(lead.engine)() as db:
        case_id = db.scalar(select(Case.id))
    lead.post(f"/cases/{case_id}", {"status": "fixed", "ticket": "INC-9"})
    listed = lead.client.get("/cases?status=fixed").text
    assert re.search(rf'href="/cases/{case_id}"', listed) and "INC-9" in listed
    assert f'href="/cases/{case_id}"' not in lead.client.get("/cases?status=open").text
    bad = lead.post(f"/cases/{case_id}", {"status": "exploded"})
    assert bad.status_code == 400 and "unknown status" in bad.text

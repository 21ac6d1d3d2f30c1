"""Intake and cases: diagnose what a user sent (the CLI's loader and rules), open or add to a case.

The cause and the plan come from ``odfix.diagnosis.diagnose``; this module only stores them.
"""

import json
import re
import tempfile
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from odfix.console.db import Case, Intake, now, table_of
from odfix.errors import BadInput

if TYPE_CHECKING:
    from odfix.diagnosis.models import Diagnosis
    from odfix.evidence.bundle import Bundle

PASTE_NAMES = ("dsregcmd_status.txt", "cmdkey_list.txt", "aad_operational.xml", "onedrive.reg",
               "office_identity.reg", "winhttp_proxy.txt")
"""Captures a technician can paste into the intake form, by conventional name."""
STATUSES = ("open", "fixed", "closed")


def load_upload(data: bytes, filename: str) -> "Bundle":
    """An uploaded zip through the CLI's hardened loader (limits, refused members)."""
    from odfix.evidence import bundle

    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(filename or "upload.zip").stem)[:80] or "upload"
    with tempfile.TemporaryDirectory(prefix="odfix-intake-") as scratch:
        path = Path(scratch) / f"{stem}.zip"
        path.write_bytes(data)
        try:
            return bundle.load(path)
        except BadInput as error:  # name the upload, not the scratch file
            raise BadInput(error.message.replace(str(path), filename or "upload")) from None


def load_pasted(pasted: Mapping[str, str]) -> "Bundle":
    """Pasted captures (conventional names) as a bundle."""
    from odfix.evidence import bundle

    files = {name: text.encode("utf-8") for name, text in pasted.items()
             if name in PASTE_NAMES and text.strip()}
    if not files:
        raise BadInput("nothing to diagnose: upload the zip the user sent or paste at least "
                       "one capture")
    return bundle.from_files(files, "pasted")


def diagnose(bundle: "Bundle", error_code: str | None) -> "Diagnosis":
    from odfix.diagnosis import diagnose as run

    if not bundle.evidence.model_dump(exclude_none=True):
        problems = "; ".join(bundle.problems) or "no capture under a conventional name"
        raise BadInput(f"no readable evidence in {bundle.name}: {problems}")
    return run([bundle], error_code=error_code or None)


def ticket_note(diagnosis: "Diagnosis", kb_url: str) -> str:
    """The ticket note of ``odfix diagnose --note``, its KB link pointing at ``kb_url``."""
    from odfix.guide import load_guide
    from odfix.publish import ticket

    return ticket.render(ticket.for_diagnosis(diagnosis, load_guide(), kb=kb_url))


def top_cause(diagnosis: "Diagnosis") -> str:
    return diagnosis.causes[0].id if diagnosis.causes else "healthy"


def last_fixed(conn: Connection | Session, devices: Iterable[str], users: Iterable[str]
               ) -> dict[tuple[str, str], datetime]:
    """When each of these users' (``("u", upn)``) and devices' (``("d", id)``) last case was
    fixed."""
    c = table_of(Case).c
    out: dict[tuple[str, str], datetime] = {}
    for kind, column, keys in (("u", c.upn, users), ("d", c.device_id, devices)):
        wanted = list(keys)
        if wanted:
            for key, at in conn.execute(select(column, func.max(c.fixed_at))
                                        .where(column.in_(wanted), c.fixed_at.is_not(None))
                                        .group_by(column)):
                out[(kind, key)] = at
    return out


def gaps(fixed: Mapping[tuple[str, str], datetime], upn: str | None, device_id: str | None,
         opened: datetime) -> dict[str, int]:
    """``user_gap_s``/``device_gap_s`` of a case opened at ``opened`` (recurrence)."""
    out = {}
    for kind, key, column in (("u", upn, "user_gap_s"), ("d", device_id, "device_gap_s")):
        before = fixed.get((kind, key)) if key else None
        if before is not None and before <= opened:
            out[column] = int((opened - before).total_seconds())
    return out


def record_intake(db: Session, *, account: int, bundle: "Bundle", diagnosis: "Diagnosis",
                  error_code: str | None, ticket: str | None, upn: str | None,
                  case_id: int | None, note: str | None = None) -> Intake:
    """Store a diagnosis; add it to ``case_id`` or open a case for it."""
    pc = diagnosis.pcs[0] if diagnosis.pcs else None
    device_id = pc.device_id.lower() if pc and pc.device_id else None
    upn = (upn or getattr(pc, "user", None) or "").strip().lower() or None
    cause = top_cause(diagnosis)
    if case_id is not None:
        case = db.get(Case, case_id)
        if case is None:
            raise BadInput(f"no case {case_id}")
        case.cause = cause if cause != "healthy" else case.cause
        case.join_type = diagnosis.join_type
        case.upn = case.upn or upn
        case.device_id = case.device_id or device_id
        case.device_name = case.device_name or (pc.host_name if pc else None)
        case.ticket = case.ticket or ticket
    else:
        opened = now()
        fixed = last_fixed(db, [device_id] if device_id else [], [upn] if upn else [])
        case = Case(ticket=ticket, upn=upn, device_id=device_id,
                    device_name=pc.host_name if pc else None, cause=cause,
                    join_type=diagnosis.join_type, status="open", source="intake",
                    needs_person=False, opened_at=opened, created_by=account,
                    **gaps(fixed, upn, device_id, opened))
        db.add(case)
        db.flush()
    intake = Intake(case_id=case.id, created_by=account, bundle_name=bundle.name,
                    error_code=error_code or None, cause=cause,
                    diagnosis=diagnosis.model_dump_json(), note=note)
    db.add(intake)
    db.commit()
    return intake


def set_status(db: Session, case: Case, status: str) -> None:
    """A technician closes, reopens or marks a case fixed by hand."""
    if status not in STATUSES:
        raise BadInput(f"unknown status {status!r} (one of {', '.join(STATUSES)})")
    case.status = status
    if status == "fixed":
        case.fixed_at = now()
        case.ttf_s = max(0, int((case.fixed_at - case.opened_at).total_seconds()))
        case.closed_at = None
    elif status == "closed":
        case.closed_at = now()
    else:
        case.fixed_at = case.closed_at = case.ttf_s = None
    db.commit()


def diagnosis_of(intake: Intake) -> dict[str, Any]:
    return dict(json.loads(intake.diagnosis))

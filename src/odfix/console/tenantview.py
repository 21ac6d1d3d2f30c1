"""Tenant analyses in the console: run ``odfix.tenant`` on uploaded exports, keep the result,
and line its users up with the cases ("12 open cases, 9 of them under the 24 h policy")."""

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from odfix.console.db import Analysis, AnalysisUser, Case
from odfix.errors import BadInput

if TYPE_CHECKING:
    from odfix.tenant.analyze import Analysis as TenantAnalysis

COMPANIONS = ("users", "policies", "groups", "devices", "audits")
"""Optional directory files, as ``odfix signins analyze`` takes them."""


def _safe(name: str, fallback: str) -> str:
    clean = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name or fallback).name)[:100]
    return clean if clean.strip("._") else fallback


def analyse(signins: list[tuple[str, bytes]], companions: dict[str, tuple[str, bytes]]
            ) -> "TenantAnalysis":
    """Run the tenant analysis on uploaded files (sign-in exports plus directory files)."""
    if not signins:
        raise BadInput("upload at least one sign-in export (Graph JSON, portal CSV/JSON, "
                       "Log Analytics export or Parquet from 'odfix signins pull')")
    with tempfile.TemporaryDirectory(prefix="odfix-tenant-") as scratch:
        base = Path(scratch)
        files = []
        for i, (name, data) in enumerate(signins):
            path = base / f"{i:03d}-{_safe(name, 'signins.json')}"
            path.write_bytes(data)
            files.append(path)
        extra: dict[str, Path] = {}
        for what, (name, data) in companions.items():
            if what not in COMPANIONS:
                raise BadInput(f"unknown companion file {what!r}")
            path = base / f"{what}-{_safe(name, what + '.json')}"
            path.write_bytes(data)
            extra[what] = path
        return analyse_files(files, extra)


def analyse_files(signins: list[Path], companions: dict[str, Path]) -> "TenantAnalysis":
    """Run the tenant analysis on sign-in files and directory files (``COMPANIONS``)."""
    from odfix.tenant.analyze import run

    return run(signins, **companions)  # type: ignore[arg-type]


def store(db: Session, name: str, result: "TenantAnalysis", account: int) -> Analysis:
    """Keep the whole analysis and one row per affected user."""
    policies = {p.id: p for p in result.policies}
    row = Analysis(name=name[:200] or "sign-in analysis", created_by=account,
                   result=result.model_dump_json())
    db.add(row)
    db.flush()
    for user in result.users:
        if not user.affected:  # occasional failures only: listed in the result, not a case
            continue
        rec = user.recurrence
        policy = policies.get(rec.policy_ids[0]) if rec and rec.policy_ids else None
        top = max(user.categories.items(), key=lambda kv: kv[1])[0] if user.categories else None
        db.add(AnalysisUser(
            analysis_id=row.id, upn=user.upn.lower(), failures=user.failures,
            category=rec.category if rec else top,
            period_hours=rec.period_hours if rec else None,
            policy_id=policy.id if policy else None, policy_name=policy.name if policy else None,
            sign_in_frequency_hours=policy.sign_in_frequency_hours if policy else None,
            password_change=user.password_change_correlated))
    db.commit()
    return row


@dataclass
class PolicyCases:
    policy_id: str
    name: str
    sign_in_frequency_hours: float | None
    users: int
    open_cases: int
    case_ids: list[int] = field(default_factory=list)


@dataclass
class Linked:
    """An analysis lined up with the cases of its users."""

    open_cases: int
    """Open cases in the console (all users)."""
    open_cases_of_users: int
    """...of users this analysis lists."""
    policies: list[PolicyCases]
    password_change_cases: int
    user_cases: dict[str, list[tuple[int, str]]]
    """upn -> [(case id, status)] for the analysis's users."""


def link(db: Session, analysis_id: int) -> Linked:
    users = db.scalars(select(AnalysisUser).where(AnalysisUser.analysis_id == analysis_id)).all()
    by_upn = {u.upn: u for u in users}
    cases: dict[str, list[tuple[int, str]]] = {}
    upns = list(by_upn)
    for start in range(0, len(upns), 500):
        for case_id, upn, status in db.execute(
                select(Case.id, Case.upn, Case.status)
                .where(Case.upn.in_(upns[start:start + 500])).order_by(Case.id.desc())):
            if upn:
                cases.setdefault(upn, []).append((case_id, status))
    policies: dict[str, PolicyCases] = {}
    password = 0
    open_of_users = 0
    for upn, user in by_upn.items():
        open_ids = [cid for cid, status in cases.get(upn, []) if status == "open"]
        open_of_users += len(open_ids)
        if user.password_change:
            password += len(open_ids)
        if user.policy_id:
            entry = policies.setdefault(user.policy_id, PolicyCases(
                user.policy_id, user.policy_name or user.policy_id,
                user.sign_in_frequency_hours, 0, 0))
            entry.users += 1
            entry.open_cases += len(open_ids)
            entry.case_ids.extend(open_ids)
    total_open = db.scalar(select(func.count()).select_from(Case).where(Case.status == "open"))
    return Linked(open_cases=int(total_open or 0), open_cases_of_users=open_of_users,
                  policies=sorted(policies.values(), key=lambda p: (-p.open_cases, p.name)),
                  password_change_cases=password, user_cases=cases)


def for_user(db: Session, upn: str) -> AnalysisUser | None:
    """The newest analysis row of a user (for the case page)."""
    return db.scalars(select(AnalysisUser).where(AnalysisUser.upn == upn.lower())
                      .order_by(AnalysisUser.analysis_id.desc()).limit(1)).first()

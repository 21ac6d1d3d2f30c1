"""Tenant view: the analysis runs through odfix.tenant, is kept, and its users meet their cases."""

import json
import re
from pathlib import Path

from console_kit import Console
from sqlalchemy import func, select

from odfix.console.db import Analysis, AnalysisUser, Case, sessions
from odfix.tenant.synth import synthesize


def test_analysis_links_users_to_cases(lead: Console, tmp_path: Path) -> None:
    made = synthesize(tmp_path / "signins.json", users=120, days=10, seed=3)
    truth = json.loads(made.truth.read_text())
    sif_users = truth["sif_users"]
    assert len(sif_users) >= 2
    with sessions(lead.engine)() as db:  # open cases: every SIF user, plus two others
        for upn in [*sif_users, "someone@contoso.com", "other@contoso.com"]:
            db.add(Case(upn=upn.lower(), cause="recurring-conditional-access",
                        join_type="entra-joined", status="open", source="intake",
                        needs_person=False))
        db.add(Case(upn=sif_users[0], cause="recurring-conditional-access",
                    join_type="entra-joined", status="fixed", source="intake",
                    needs_person=False))
        db.commit()
    files = [("signins", (made.signins.name, made.signins.read_bytes(), "application/json")),
             ("users", (made.users.name, made.users.read_bytes(), "application/json")),
             ("policies", (made.policies.name, made.policies.read_bytes(), "application/json"))]
    page = lead.post("/tenant", {"name": "November"}, files=files)
    assert page.status_code == 200, page.text[:500]
    open_total = len(sif_users) + 2
    headline = re.sub(r"\s+", " ", re.search(r'<p class="headline">(.*?)</p>', page.text,
                                              re.S).group(1))
    assert headline.startswith(f"{open_total} open cases; {len(sif_users)} of them are users "
                               "in this analysis")
    assert (f"<b>{len(sif_users)}</b> of them users under the 24 h sign-in-frequency policy"
            in headline)
    with sessions(lead.engine)() as db:
        analysis = db.scalars(select(Analysis)).one()
        kept = json.loads(analysis.result)  # the whole --json document is kept
        assert kept["summary"]["signins"] == made.rows
        linked = db.scalars(select(AnalysisUser).where(AnalysisUser.policy_id
                                                       == truth["sif_policy_id"])).all()
        assert {u.upn for u in linked} == {u.lower() for u in sif_users}
        case_id = db.scalar(select(Case.id).where(Case.upn == sif_users[0].lower(),
                                                  Case.status == "open"))
    case_page = lead.client.get(f"/cases/{case_id}").text
    assert "Sign-in frequency 24 h" in case_page and "recurring every ~" in case_page
    assert "November" in lead.client.get("/tenant").text


def test_bad_tenant_uploads(lead: Console) -> None:
    nothing = lead.post("/tenant", {"name": "x"})
    assert nothing.status_code == 400 and "upload at least one sign-in export" in nothing.text
    junk = lead.post("/tenant", {}, files=[("signins", ("s.json", b"{not json", "text/plain"))])
    assert junk.status_code == 400 and "Traceback" not in junk.text
    with sessions(lead.engine)() as db:
        assert db.scalar(select(func.count()).select_from(Analysis)) == 0

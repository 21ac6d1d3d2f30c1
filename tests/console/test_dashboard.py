"""The dashboard's figures from reports posted through ingest, checked against hand counts."""

import re
from datetime import timedelta

from console_kit import T0, Console, post, report
from sqlalchemy import select

from odfix.console import dashboard
from odfix.console.db import Case, sessions

H = timedelta(hours=1)


def _seed(console: Console) -> None:
    token = console.token()
    cc, rc, lj = "credential-cleanup", "reconnect-work-account", "dsregcmd-leave-join"
    stale = "stale-token-password-change"
    for body in (
        # PC 1: fixed by Method 1 after 1 h 10 min
        report("p1a", device="D1", host="PC-1", user="u1@x.com", cause=stale),
        report("p1b", verdict="fixed", device="D1", host="PC-1", user="u1@x.com",
               cause=stale, at=T0 + H, minutes=10, methods=[(cc, "fixed")]),
        # PC 2: Method 1 needed the user, Method 2 fixed it after 3 h 10 min
        report("p2a", device="D2", host="PC-2", user="u2@x.com", cause=stale),
        report("p2b", verdict="needs-person", device="D2", host="PC-2", user="u2@x.com",
               cause=stale, at=T0 + H, methods=[(cc, "needs-person")]),
        report("p2c", verdict="fixed", device="D2", host="PC-2", user="u2@x.com", cause=stale,
               at=T0 + 3 * H, minutes=10, methods=[(cc, "not-fixed"), (rc, "fixed")]),
        # PC 3: still failing
        report("p3a", device="D3", host="PC-3", user="u3@x.com", cause=stale),
        # one device id on two PC names: a cloned image; the first copy is fixed in 10 min
        report("c4", verdict="fixed", device="CLONE", host="PC-4", user="u4@x.com",
               cause="cloned-image", methods=[(lj, "fixed")], minutes=10),
        report("c5", device="CLONE", host="PC-5.corp.example", user="u5@x.com",
               cause="cloned-image", at=T0 + H),
        # user 1 is back two days later on the same PC
        report("p1c", device="D1", host="PC-1", user="u1@x.com", cause=stale,
               at=T0 + timedelta(days=2)),
    ):
        assert post(console, token, body).status_code == 201


def test_figures(lead: Console) -> None:
    _seed(lead)
    with lead.engine.connect() as conn:
        board = dashboard.build(conn, days=14, today=T0 + timedelta(days=3))
    causes = {r.key: r for r in board.causes}
    stale = causes["stale-token-password-change"]
    assert (stale.cases, stale.open, stale.fixed, stale.needs_person) == (4, 2, 2, 1)
    # per cause, the fix runs: two verified fixes, one pause for the user, in three runs
    assert (stale.runs, stale.runs_fixed, stale.runs_needed_person) == (3, 2, 1)
    assert stale.success_rate == 2 / 3 and stale.person_share == 1 / 3
    pair = board.matrix[("stale-token-password-change", "credential-cleanup")]
    assert (pair.runs, pair.runs_fixed, pair.runs_needed_person) == (2, 1, 1)
    assert (stale.median_s, stale.p90_s) == (4200, 11400)
    clone = causes["cloned-image"]
    assert (clone.cases, clone.open, clone.median_s) == (2, 1, 600)
    methods = {r.key: r for r in board.methods}
    cc = methods["credential-cleanup"]
    assert (cc.runs, cc.runs_fixed, cc.runs_needed_person) == (2, 1, 1)
    assert cc.success_rate == 0.5 and cc.person_share == 0.5 and cc.median_s == 4200
    assert methods["reconnect-work-account"].success_rate == 1.0
    assert methods["reconnect-work-account"].median_s == 11400
    assert [(r.key, r.times) for r in board.recurring_users] == [("u1@x.com", 1)]
    # the clone's second PC fails 50 min after the first was fixed: its device id is back too
    assert [(r.key, r.times) for r in board.recurring_devices] == [("clone", 1), ("d1", 1)]
    assert [(c.device_id, c.names) for c in board.clones] == [("clone", ["pc-4", "pc-5"])]
    week = next(w for w in board.weeks if w.week == "2026-11-02")
    assert (week.runs, week.fixed, week.needed_person) == (4, 3, 1)
    with lead.engine.connect() as conn:
        short = dashboard.build(conn, days=1, today=T0 + timedelta(days=3))
    assert short.recurring_users == [] and short.recurring_user_count == 0


def test_page_renders_svg_and_tables(lead: Console) -> None:
    _seed(lead)
    page = lead.client.get("/dashboard?days=14")
    assert page.status_code == 200
    assert page.text.count("<svg") >= 4
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', page.text)  # nothing fetched
    for text in ("stale-token-password-change", "1.2 h", "3.2 h", "u1@x.com", "pc-4, pc-5",
                 "67 %", "50 %", "Which method works for which cause"):
        assert text in page.text, text
    assert "<script" not in page.text.replace('<script src="/static/console.js" defer>', "")
    with sessions(lead.engine)() as db:
        recurring = db.scalars(select(Case).where(Case.user_gap_s.is_not(None))).one()
    assert recurring.upn == "u1@x.com"
    assert lead.client.get("/dashboard?days=abc").status_code == 400

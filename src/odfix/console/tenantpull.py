"""Tenant pulls from the console: sign-in logs from Microsoft Graph with the app-only
credentials the admin configured for the server (``odfix serve --graph-tenant …
--graph-client-id …``; the secret in ``ODFIX_GRAPH_CLIENT_SECRET`` or a certificate file), never
typed into a page.

A lead asks for a window; the server runs ``odfix.tenant.pull.Puller`` (the CLI's pull: paging,
pacing under the reporting limit, retries on 429/503) into a scratch folder in a background
thread, analyses the files exactly like an upload (``tenantview``) and keeps the result. Progress
and outcome live in the ``tenant_pulls`` table, so every worker shows them; a pull whose row
stops moving for ``STALE`` (the server was restarted) no longer blocks a new one.
"""

import logging
import tempfile
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from odfix.console import tenantview
from odfix.console.config import GraphPullConfig
from odfix.console.db import TenantPull, now
from odfix.errors import BadInput, Busy, OdfixError
from odfix.tenant.pull_checkpoint import EVENT_TYPES, PullPlan

log = logging.getLogger("odfix.console.tenantpull")
STALE = timedelta(minutes=5)
EXTRAS = ("users", "policies", "groups", "devices", "audits")
"""The directory files an analysis uses, pulled along with the sign-ins."""
MAX_DAYS = 30
"""Graph keeps sign-ins for 30 days."""


def plan_for(since: datetime, until: datetime) -> PullPlan:
    """The plan of a console pull: both event types, every directory file, 6 h slices."""
    if until - since > timedelta(days=MAX_DAYS):
        raise BadInput(f"pull at most {MAX_DAYS} days (Graph keeps sign-ins for 30 days)")
    try:
        return PullPlan(since=since, until=until, event_types=tuple(EVENT_TYPES), extras=EXTRAS)
    except ValueError as error:
        raise BadInput(str(error).splitlines()[-1].strip()) from None


def running(db: Session) -> TenantPull | None:
    """The pull still making progress, if any."""
    return db.scalars(select(TenantPull).where(
        TenantPull.status == "running", TenantPull.updated_at > now() - STALE)
        .order_by(TenantPull.id.desc()).limit(1)).first()


def start(make_session: sessionmaker[Any], settings: GraphPullConfig, *, account: int,
          name: str, plan: PullPlan, http_client: Any = None) -> int:
    """Record a pull and run it in a background thread; its id (refused while one runs)."""
    with make_session() as db:
        busy = running(db)
        if busy is not None:
            raise Busy(f"pull #{busy.id} is still running; wait for it to finish")
        row = TenantPull(name=name[:200], since=plan.since, until=plan.until, status="running",
                         created_by=account, created_at=now(), updated_at=now())
        db.add(row)
        db.commit()
        pull_id = row.id
    threading.Thread(target=run, args=(make_session, settings, pull_id, plan, account),
                     kwargs={"http_client": http_client}, name=f"odfix-pull-{pull_id}",
                     daemon=True).start()
    return pull_id


def run(make_session: sessionmaker[Any], settings: GraphPullConfig, pull_id: int,
        plan: PullPlan, account: int, *, http_client: Any = None) -> None:
    """Pull, analyse, keep; the row ends ``done`` (with its analysis) or ``failed`` (why)."""
    try:
        with tempfile.TemporaryDirectory(prefix="odfix-pull-") as scratch:
            analysis_id, rows, warnings = _pull_and_analyse(
                make_session, settings, pull_id, plan, account, Path(scratch), http_client)
        _finish(make_session, pull_id, "done", analysis_id=analysis_id, rows=rows,
                message="; ".join(warnings) or None)
    except OdfixError as error:
        _finish(make_session, pull_id, "failed", message=error.message)
    except Exception:
        log.exception("tenant pull %d failed", pull_id)
        _finish(make_session, pull_id, "failed", message="internal error: it was logged on "
                                                         "the server")


def _pull_and_analyse(make_session: sessionmaker[Any], settings: GraphPullConfig, pull_id: int,
                      plan: PullPlan, account: int, out: Path, http_client: Any
                      ) -> tuple[int, int, list[str]]:
    from odfix.tenant.auth import AuthOptions, token_source
    from odfix.tenant.graph import GraphClient
    from odfix.tenant.graph_throttle import ThrottleLimit, TokenBucket
    from odfix.tenant.pull import Puller, PullProgress

    options = AuthOptions(
        tenant=settings.tenant, client_id=settings.client_id, graph_url=settings.graph_url,
        authority_host=settings.authority_host,
        secret_env=None if settings.certificate else settings.secret_env,
        certificate=Path(settings.certificate) if settings.certificate else None,
        needs=("signins", *plan.extras))
    pacer = TokenBucket.for_limit(ThrottleLimit(requests=settings.rate_limit))

    def progress(step: PullProgress) -> None:
        with make_session() as db:
            db.execute(update(TenantPull).where(TenantPull.id == pull_id).values(
                rows=step.rows, pages=step.pages, updated_at=now()))
            db.commit()

    with GraphClient(token_source(options, http_client=http_client),
                     base_url=settings.graph_url, pacer=pacer) as client:
        result = Puller(client, out, on_progress=progress).run(plan)
    rows = sum(result.rows.values())
    if not result.files:
        raise BadInput(f"Graph returned no sign-ins between {plan.since:%Y-%m-%d %H:%M} and "
                       f"{plan.until:%Y-%m-%d %H:%M} UTC")
    analysis = tenantview.analyse_files(
        [out / name for name in result.files],
        {what: out / f"{what}.json" for what in result.extras})
    with make_session() as db:
        kept = tenantview.store(db, _name(db, pull_id), analysis, account)
    return kept.id, rows, result.warnings


def _name(db: Session, pull_id: int) -> str:
    row = db.get(TenantPull, pull_id)
    assert row is not None
    return row.name or f"Graph pull {row.since:%Y-%m-%d} – {row.until:%Y-%m-%d}"


def _finish(make_session: sessionmaker[Any], pull_id: int, status: str, *,
            analysis_id: int | None = None, rows: int | None = None,
            message: str | None = None) -> None:
    values: dict[str, Any] = {"status": status, "updated_at": now(), "finished_at": now(),
                              "analysis_id": analysis_id, "message": (message or "")[:1000]
                              or None}
    if rows is not None:
        values["rows"] = rows
    with make_session() as db:
        db.execute(update(TenantPull).where(TenantPull.id == pull_id).values(**values))
        db.commit()

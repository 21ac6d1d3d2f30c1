"""Fleet report ingest: group commit, idempotent by run id, written before it is acknowledged.

Requests hand their parsed ``FleetReport`` to one writer thread per process and wait. The
writer takes whatever is queued (up to ``max_batch``), and in ONE transaction checks the
enrolment tokens, inserts the new reports (``ON CONFLICT (run_id) DO NOTHING``: a retry is a
``duplicate``, never a second row), attaches them to cases (opening one for a failing PC without
an open case, fixing it on a verified fix) and updates the rollups; only after the commit are the
waiting requests answered. A crash before the commit loses only unanswered requests, which the
posting client retries.
"""

import asyncio
import hashlib
import json
import logging
import queue
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    cast,
    column,
    insert,
    or_,
    select,
    text,
    update,
    values,
)
from sqlalchemy.dialects import postgresql, sqlite

from odfix.console import rollup
from odfix.console.cases import gaps, last_fixed
from odfix.console.db import Case, EnrolmentToken, Report, now, table_of
from odfix.fleet.report import FleetReport

log = logging.getLogger("odfix.console.ingest")

Status = Literal["created", "duplicate", "unauthorized", "error"]
PROBLEM_VERDICTS = {"problem", "still-failing", "needs-person", "error", "fixed"}
"""Verdicts that mean the PC had the error: such a report opens a case when none is open."""
OUTCOMES = {"fixed": "fixed", "still-failing": "failed", "needs-person": "needs-person",
            "healthy": "healthy", "problem": "problem", "error": "error"}
"""The report's verdict as the rollups count it (``rollup.ATTEMPTS``)."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def report_method(report: FleetReport) -> str | None:
    """The method that fixed the PC, else the last one that ran."""
    for result in report.methods:
        if result.outcome == "fixed":
            return result.method
    tried = [r.method for r in report.methods if r.outcome not in ("planned", "not-run")]
    return tried[-1] if tried else None


def report_row(report: FleetReport, document: str | None = None) -> dict[str, Any]:
    """The ``reports`` row of one report (without site, token, case and receive time);
    ``document``: the JSON text as received (else the report serialised)."""
    return {
        "run_id": report.run_id, "source": report.source,
        "upn": report.user.lower() if report.user else None,
        "device_id": report.device_id.lower() if report.device_id else None,
        "device_name": report.device_name, "cause": report.cause,
        "join_type": report.join_type, "method": report_method(report),
        "outcome": OUTCOMES[report.verdict], "exit_code": report.exit_code,
        "started_at": report.started_at, "finished_at": report.ended_at,
        "document": document if document is not None else json.dumps(
            report.dump(), ensure_ascii=False, separators=(",", ":")),
    }


@dataclass
class _Item:
    token: str
    row: dict[str, Any]
    verdict: str
    future: "asyncio.Future[Status]"
    loop: asyncio.AbstractEventLoop


@dataclass
class _Open:
    """An open case as the batch sees it: new (``id`` 0, ``row`` to insert) or stored."""

    id: int
    upn: str | None
    device_id: str | None
    opened_at: datetime
    state: dict[str, Any]
    """The columns reports change (``MUTABLE``); a new case's whole row."""
    dirty: bool = False


MUTABLE = ("method", "needs_person", "status", "fixed_at", "ttf_s")


class QueueFull(Exception):
    """The writer is this far behind: the client should retry later (503)."""


class Writer:
    """The process's one ingest writer thread. Several workers (PostgreSQL) write concurrently:
    their batches take advisory locks on the PCs and users they touch (``write_batch``)."""

    def __init__(self, engine: Engine, *, max_batch: int = 500, max_queue: int = 20_000) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.max_queue = max_queue
        self.queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._loop, name="odfix-ingest", daemon=True)
        self.thread.start()

    async def submit(self, token: str, reports: Sequence[tuple[FleetReport, str | None]]
                     ) -> list[Status]:
        """Queue reports (each with its JSON text) and wait until they are committed or
        refused."""
        if self.queue.qsize() + len(reports) > self.max_queue:
            raise QueueFull
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[Status]] = []
        for report, document in reports:
            future: asyncio.Future[Status] = loop.create_future()
            self.queue.put(_Item(token, report_row(report, document), report.verdict, future,
                                 loop))
            futures.append(future)
        if len(futures) == 1:
            return [await futures[0]]
        return list(await asyncio.gather(*futures))

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=30)

    def _loop(self) -> None:
        while True:
            first = self.queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._commit(batch)
                    return
                batch.append(item)
            self._commit(batch)

    def _commit(self, batch: list[_Item]) -> None:
        try:
            results = self._write(batch)
        except Exception:
            log.exception("ingest batch of %d failed; writing one by one", len(batch))
            results = []
            for item in batch:
                try:
                    results.extend(self._write([item]))
                except Exception:
                    log.exception("ingest of run %s failed", item.row["run_id"])
                    results.append("error")
        answers: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Status], Status]]] = {}
        for item, status in zip(batch, results, strict=True):
            answers.setdefault(item.loop, []).append((item.future, status))
        for loop, pairs in answers.items():  # one wake-up of each event loop per batch
            loop.call_soon_threadsafe(_resolve, pairs)

    def _write(self, batch: list[_Item]) -> list[Status]:
        with self.engine.begin() as conn:
            return write_batch(conn, [(i.token, i.row, i.verdict) for i in batch])


def _resolve(pairs: list[tuple["asyncio.Future[Status]", Status]]) -> None:
    for future, status in pairs:
        if not future.done():
            future.set_result(status)


def write_batch(conn: Connection, items: Sequence[tuple[str, dict[str, Any], str]]
                ) -> list[Status]:
    """Store one batch in the caller's transaction; the status of each item, in order."""
    hashes = {token_hash(token) for token, _, _ in items}
    tokens = {t.token_hash: (t.id, t.site_id) for t in conn.execute(
        select(EnrolmentToken.id, EnrolmentToken.site_id, EnrolmentToken.token_hash)
        .where(EnrolmentToken.token_hash.in_(hashes), EnrolmentToken.revoked_at.is_(None)))}
    statuses: list[Status] = []
    rows: dict[str, dict[str, Any]] = {}
    verdicts: dict[str, str] = {}
    received = now()
    for token, row, verdict in items:
        owner = tokens.get(token_hash(token))
        if owner is None:
            statuses.append("unauthorized")
        elif row["run_id"] in rows:
            statuses.append("duplicate")
        else:
            rows[row["run_id"]] = {**row, "token_id": owner[0], "site_id": owner[1],
                                   "received_at": received}
            verdicts[row["run_id"]] = verdict
            statuses.append("created")
    created: set[str] = set()
    if rows:
        if conn.dialect.name == "postgresql":
            _lock_keys(conn, rows.values())
        table = table_of(Report)
        stmt = (postgresql.insert(table) if conn.dialect.name == "postgresql"
                else sqlite.insert(table)).on_conflict_do_nothing(index_elements=["run_id"])
        ids: dict[int, str] = {i: r for i, r in conn.execute(  # run id order: no deadlocks
            stmt.returning(table.c.id, table.c.run_id), [rows[k] for k in sorted(rows)])}
        created = {run_id for _, run_id in ids.items()}
        new = sorted((rows[r] | {"id": i} for i, r in ids.items()),
                     key=lambda r: r["finished_at"])
        _attach(conn, new, verdicts)
        rollup.add_reports(conn, new)
    seen: set[str] = set()
    out: list[Status] = []
    for (_, row, _), status in zip(items, statuses, strict=True):
        if status == "created":
            run_id = row["run_id"]
            status = "created" if run_id in created and run_id not in seen else "duplicate"
            seen.add(run_id)
        out.append(status)
    return out


_LOCK = text("SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(k, 0) "
             "AS h FROM unnest(CAST(:keys AS text[])) AS k ORDER BY h) AS keys")


def _lock_keys(conn: Connection, rows: Iterable[dict[str, Any]]) -> None:
    """Hold (until commit) a PostgreSQL advisory lock on each PC and user of the batch, taken
    in one order: a concurrent batch (another worker's) touching the same PC or user waits, so
    it sees this batch's cases instead of opening a second one."""
    keys = sorted({f"d:{r['device_id']}" for r in rows if r["device_id"]}
                  | {f"u:{r['upn']}" for r in rows if r["upn"]})
    if keys:
        conn.execute(_LOCK, {"keys": keys})


def _attach(conn: Connection, reports: list[dict[str, Any]], verdicts: dict[str, str]) -> None:
    """Link new reports (in time order) to open cases; open or fix cases as the verdicts say.

    Whatever the batch size, this is five statements: find the open cases, when the users'
    and PCs' last cases were fixed, insert the new cases, update the changed ones, link.
    """
    devices = {r["device_id"] for r in reports if r["device_id"]}
    users = {r["upn"] for r in reports if r["upn"]}
    if not devices and not users:
        return
    c = table_of(Case).c
    found = conn.execute(select(c.id, c.upn, c.device_id, c.opened_at,
                                *(c[name] for name in MUTABLE)).where(
        c.status == "open", or_(c.device_id.in_(devices), c.upn.in_(users)))).all()
    open_cases = [_Open(row[0], row[1], row[2], row[3], dict(zip(MUTABLE, row[4:], strict=True)))
                  for row in found]
    fixed_at = last_fixed(conn, devices, users)
    new: list[_Open] = []
    links: list[tuple[int, _Open]] = []
    for report in reports:
        case = _match(open_cases, report)
        verdict = verdicts[report["run_id"]]
        if case is None:
            if verdict not in PROBLEM_VERDICTS:
                continue
            case = _new_case(report, fixed_at)
            open_cases.append(case)
            new.append(case)
        links.append((report["id"], case))
        if _apply(case, report, verdict):
            open_cases.remove(case)
            if case.upn:
                fixed_at[("u", case.upn)] = report["finished_at"]
            if case.device_id:
                fixed_at[("d", case.device_id)] = report["finished_at"]
    if new:
        ids = conn.execute(insert(table_of(Case)).returning(c.id, sort_by_parameter_order=True),
                           [case.state for case in new]).scalars().all()
        for case, case_id in zip(new, ids, strict=True):
            case.id = case_id
    changed = [case for case in {id(c): c for _, c in links}.values()
               if case.dirty and case not in new]
    if changed:
        _update_by_id(conn, table_of(Case), MUTABLE, sorted(
            (case.id, *(case.state[k] for k in MUTABLE)) for case in changed))
    if links:
        _update_by_id(conn, table_of(Report), ("case_id",),
                      sorted((rid, case.id) for rid, case in links))


def _update_by_id(conn: Connection, table: Table, names: Sequence[str],
                  rows: list[tuple[Any, ...]]) -> None:
    """Set ``names`` of the rows ``(id, *values)``: one ``UPDATE … FROM (VALUES …)`` on
    PostgreSQL (one round trip), an executemany on SQLite (in-process)."""
    if conn.dialect.name != "postgresql":
        conn.execute(update(table).where(table.c.id == bindparam("b_id")).values(
            {n: bindparam(f"b_{n}", type_=table.c[n].type) for n in names}),
            [{"b_id": row[0], **{f"b_{n}": v for n, v in zip(names, row[1:], strict=True)}}
             for row in rows])
        return
    given = values(column("b_id", table.c.id.type),
                   *(column(f"b_{n}", table.c[n].type) for n in names), name="given").data(rows)
    conn.execute(update(table).where(table.c.id == given.c.b_id).values(  # NULLs need a type
        {n: cast(given.c[f"b_{n}"], table.c[n].type) for n in names}))


def _match(cases: list[_Open], report: dict[str, Any]) -> _Open | None:
    """The open case of this PC and user (or of this user, opened without a PC)."""
    device, upn = report["device_id"], report["upn"]
    for case in reversed(cases):
        if device and case.device_id == device and (not upn or not case.upn or case.upn == upn):
            return case
    for case in reversed(cases):
        if upn and case.upn == upn and not case.device_id:
            return case
    return None


def _new_case(report: dict[str, Any], fixed_at: dict[tuple[str, str], datetime]) -> _Open:
    opened = report["started_at"] or report["finished_at"]
    upn, device = report["upn"], report["device_id"]
    row = {"upn": upn, "device_id": device, "device_name": report["device_name"],
           "cause": report["cause"], "join_type": report["join_type"], "status": "open",
           "source": "fleet", "needs_person": False, "opened_at": opened, "method": None,
           "fixed_at": None, "ttf_s": None, "user_gap_s": None, "device_gap_s": None,
           **gaps(fixed_at, upn, device, opened)}
    return _Open(0, upn, device, opened, row)


def _apply(case: _Open, report: dict[str, Any], verdict: str) -> bool:
    """Record a report on its case; True when it fixed the case."""
    state = case.state
    if report["method"] and state["method"] != report["method"]:
        state["method"], case.dirty = report["method"], True
    if verdict == "needs-person" and not state["needs_person"]:
        state["needs_person"], case.dirty = True, True
    if verdict not in ("fixed", "healthy"):
        return False
    fixed = report["finished_at"]
    state.update(status="fixed", fixed_at=fixed,
                 ttf_s=max(0, int((fixed - case.opened_at).total_seconds())))
    case.dirty = True
    return True

"""Rollups kept beside the reports: weekly run counts per cause and method, and device names.

Ingest adds each batch of new reports here in the same transaction (``add_reports``); migration
0002 fills them from the reports stored before it (``backfill``). The dashboard reads these
instead of scanning a million reports.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, case, select
from sqlalchemy.dialects import postgresql, sqlite

from odfix.console.db import DeviceName, Report, WeeklyStat, table_of

ATTEMPTS = {"fixed": "fixed", "failed": None, "needs-person": "needed_person"}
"""Outcomes that count as a fix attempt, and the counter each one also bumps."""
NO_METHOD = "-"


def week_of(moment: datetime) -> str:
    """The ISO week's Monday, ``YYYY-MM-DD``."""
    return (moment.date() - timedelta(days=moment.weekday())).isoformat()


def _insert(conn: Connection, target: Any) -> Any:
    return (postgresql.insert(target) if conn.dialect.name == "postgresql"
            else sqlite.insert(target))


def add_reports(conn: Connection, reports: Iterable[Mapping[str, Any]]) -> None:
    """Count new reports (mappings with ``finished_at``, ``cause``, ``method``, ``outcome``,
    ``device_id``, ``device_name``) into the rollups."""
    counts: Counter[tuple[str, str, str, str]] = Counter()
    names: dict[tuple[str, str], tuple[datetime, datetime]] = {}
    for r in reports:
        if r["outcome"] in ATTEMPTS:
            key = (week_of(r["finished_at"]), r["cause"], r["method"] or NO_METHOD)
            counts[(*key, "runs")] += 1
            extra = ATTEMPTS[r["outcome"]]
            if extra:
                counts[(*key, extra)] += 1
        if r["device_id"] and r["device_name"]:
            pair = (r["device_id"].lower(), r["device_name"].split(".", 1)[0].lower())
            seen = names.get(pair)
            at = r["finished_at"]
            names[pair] = (min(seen[0], at), max(seen[1], at)) if seen else (at, at)
    _add_counts(conn, counts)
    _add_names(conn, names)


def _add_counts(conn: Connection, counts: Counter[tuple[str, str, str, str]]) -> None:
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for (week, cause, method, column), n in counts.items():
        row = rows.setdefault((week, cause, method), {
            "week": week, "cause": cause, "method": method, "runs": 0, "fixed": 0,
            "needed_person": 0})
        row[column] += n
    if not rows:
        return
    stats = table_of(WeeklyStat)
    stmt = _insert(conn, stats)
    stmt = stmt.on_conflict_do_update(
        index_elements=["week", "cause", "method"],
        set_={c: stats.c[c] + stmt.excluded[c] for c in ("runs", "fixed", "needed_person")})
    conn.execute(stmt, [rows[k] for k in sorted(rows)])  # one order everywhere: no deadlocks


def _add_names(conn: Connection, names: dict[tuple[str, str], tuple[datetime, datetime]]) -> None:
    if not names:
        return
    target = table_of(DeviceName)
    stmt = _insert(conn, target)
    stmt = stmt.on_conflict_do_update(
        index_elements=["device_id", "device_name"],
        set_={"last_seen": case((stmt.excluded.last_seen > target.c.last_seen,
                                 stmt.excluded.last_seen), else_=target.c.last_seen)})
    conn.execute(stmt, [{"device_id": d, "device_name": n, "first_seen": first,
                         "last_seen": last} for (d, n), (first, last) in sorted(names.items())])


def backfill(conn: Connection, chunk: int = 10_000) -> None:
    """Fill the rollups from every stored report (migration 0002)."""
    c = table_of(Report).c
    columns = (c.id, c.finished_at, c.cause, c.method, c.outcome, c.device_id, c.device_name)
    last = 0
    while True:
        rows = conn.execute(select(*columns).where(c.id > last)
                            .order_by(c.id).limit(chunk)).mappings().all()
        if not rows:
            return
        add_reports(conn, [dict(row) for row in rows])
        last = rows[-1]["id"]

"""The lead's figures: per cause and per method, recurrences, cloned device ids, weekly trends.

Every query reads an index or a rollup (``weekly_stats``, ``device_names``), never all reports:
percentiles walk the ``(cause, ttf_s)`` / ``(method, ttf_s)`` indexes with OFFSET, which both
SQLite and PostgreSQL answer without sorting.
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, func, select

from odfix.console.db import Case, DeviceName, WeeklyStat, table_of
from odfix.console.rollup import NO_METHOD, week_of


@dataclass
class Row:
    """One cause or method."""

    key: str
    cases: int = 0
    open: int = 0
    fixed: int = 0
    needs_person: int = 0
    runs: int = 0
    runs_fixed: int = 0
    runs_needed_person: int = 0
    median_s: int | None = None
    p90_s: int | None = None

    @property
    def success_rate(self) -> float | None:
        """Verified fixes per fix run (fleet reports), else fixed per closed case."""
        if self.runs:
            return self.runs_fixed / self.runs
        done = self.cases - self.open
        return self.fixed / done if done else None

    @property
    def person_share(self) -> float | None:
        if self.runs:
            return self.runs_needed_person / self.runs
        return self.needs_person / self.cases if self.cases else None


@dataclass
class Recurring:
    key: str
    times: int


@dataclass
class Clone:
    device_id: str
    names: list[str]


@dataclass
class Week:
    week: str
    runs: int = 0
    fixed: int = 0
    needed_person: int = 0
    by_cause: dict[str, int] = field(default_factory=dict)


@dataclass
class Dashboard:
    days: int
    causes: list[Row]
    methods: list[Row]
    recurring_users: list[Recurring]
    recurring_user_count: int
    recurring_devices: list[Recurring]
    recurring_device_count: int
    clones: list[Clone]
    weeks: list[Week]
    totals: dict[str, int]
    matrix: dict[tuple[str, str], Row]
    """(cause, method) -> fix runs: which method works for which cause."""


def _percentile(conn: Connection, column: str, key: str, n: int, q: float) -> int | None:
    if n == 0:
        return None
    c = table_of(Case).c
    offset = max(0, math.ceil(q * n) - 1)  # nearest rank
    return conn.execute(select(c.ttf_s).where(c[column] == key, c.ttf_s.is_not(None))
                        .order_by(c.ttf_s).limit(1).offset(offset)).scalar()


def _rows(conn: Connection, column: str) -> dict[str, Row]:
    c = table_of(Case).c
    rows: dict[str, Row] = {}
    for key, status, n, person in conn.execute(
            select(c[column], c.status, func.count(), func.sum(func.cast(c.needs_person,
                                                                          type_=c.ttf_s.type)))
            .where(c[column].is_not(None)).group_by(c[column], c.status)):
        row = rows.setdefault(key, Row(key))
        row.cases += n
        row.needs_person += int(person or 0)
        if status == "open":
            row.open += n
        elif status == "fixed":
            row.fixed += n
    for row in rows.values():
        with_ttf = conn.execute(select(func.count()).where(
            c[column] == row.key, c.ttf_s.is_not(None))).scalar_one()
        row.median_s = _percentile(conn, column, row.key, with_ttf, 0.5)
        row.p90_s = _percentile(conn, column, row.key, with_ttf, 0.9)
    return rows


def _recurring(conn: Connection, column: str, gap: str, days: int,
               top: int) -> tuple[list[Recurring], int]:
    c = table_of(Case).c
    within = c[gap] <= days * 86400
    ranked = conn.execute(select(c[column], func.count()).where(within, c[column].is_not(None))
                          .group_by(c[column]).order_by(func.count().desc(), c[column])
                          .limit(top)).all()
    count = conn.execute(select(func.count(func.distinct(c[column]))).where(within)).scalar_one()
    return [Recurring(k, n) for k, n in ranked], int(count)


def _clones(conn: Connection, top: int = 50) -> list[Clone]:
    d = table_of(DeviceName).c
    shared = (select(d.device_id).group_by(d.device_id).having(func.count() > 1)
              .order_by(d.device_id).limit(top).subquery())
    names: dict[str, list[str]] = defaultdict(list)
    for device_id, name in conn.execute(select(d.device_id, d.device_name)
                                        .where(d.device_id.in_(select(shared.c.device_id)))
                                        .order_by(d.device_id, d.device_name)):
        names[device_id].append(name)
    return [Clone(k, v) for k, v in names.items()]


def _weeks(conn: Connection, count: int, today: datetime
           ) -> tuple[list[Week], dict[tuple[str, str], Row]]:
    """The last ``count`` weeks' runs, and every (cause, method)'s totals (all weeks)."""
    w = table_of(WeeklyStat).c
    first = week_of(today - timedelta(weeks=count - 1))
    weeks = {week_of(today - timedelta(weeks=i)): Week(week_of(today - timedelta(weeks=i)))
             for i in range(count - 1, -1, -1)}
    for week, cause, runs, fixed, person in conn.execute(
            select(w.week, w.cause, func.sum(w.runs), func.sum(w.fixed),
                   func.sum(w.needed_person)).where(w.week >= first)
            .group_by(w.week, w.cause)):
        if week in weeks:
            bucket = weeks[week]
            bucket.runs += runs
            bucket.fixed += fixed
            bucket.needed_person += person
            bucket.by_cause[cause] = bucket.by_cause.get(cause, 0) + runs
    pairs: dict[tuple[str, str], Row] = {}
    for cause, method, runs, fixed, person in conn.execute(
            select(w.cause, w.method, func.sum(w.runs), func.sum(w.fixed),
                   func.sum(w.needed_person)).group_by(w.cause, w.method)):
        pairs[(cause, method)] = Row(method, runs=runs, runs_fixed=fixed,
                                     runs_needed_person=person)
    return list(weeks.values()), pairs


def build(conn: Connection, *, days: int = 14, weeks: int = 12, top: int = 15,
          today: datetime | None = None) -> Dashboard:
    """Everything the dashboard page shows; ``days``: the recurrence window."""
    causes = _rows(conn, "cause")
    methods = _rows(conn, "method")
    trend, pairs = _weeks(conn, weeks, today or datetime.now(UTC))
    for (cause, method), counted in pairs.items():
        for row in (causes.setdefault(cause, Row(cause)),
                    None if method == NO_METHOD else methods.setdefault(method, Row(method))):
            if row is not None:
                row.runs += counted.runs
                row.runs_fixed += counted.runs_fixed
                row.runs_needed_person += counted.runs_needed_person
    users, user_count = _recurring(conn, "upn", "user_gap_s", days, top)
    devices, device_count = _recurring(conn, "device_id", "device_gap_s", days, top)
    c = table_of(Case).c
    totals = {status: int(n) for status, n in conn.execute(
        select(c.status, func.count()).group_by(c.status))}
    return Dashboard(
        days=days,
        causes=sorted(causes.values(), key=lambda r: (-r.cases, r.key)),
        methods=sorted(methods.values(), key=lambda r: (-(r.runs or r.cases), r.key)),
        recurring_users=users, recurring_user_count=user_count,
        recurring_devices=devices, recurring_device_count=device_count,
        clones=_clones(conn), weeks=trend, totals=totals,
        matrix={k: v for k, v in pairs.items() if k[1] != NO_METHOD})

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


def _percentiles(conn: Connection, wanted: list[tuple[str, str, int, float]]
                 ) -> list[int | None]:
    """Nearest-rank percentiles of ``ttf_s`` for (column, key, count, q), in one statement:
    each is an OFFSET into the (key, ttf_s) index."""
    c = table_of(Case).c
    parts = [select(c.ttf_s).where(c[column] == key, c.ttf_s.is_not(None)).order_by(c.ttf_s)
             .limit(1).offset(max(0, math.ceil(q * n) - 1)).scalar_subquery()
             for column, key, n, q in wanted if n]
    found = iter(conn.execute(select(*parts)).one() if parts else ())
    return [next(found) if n else None for _, _, n, _ in wanted]


def _rows(conn: Connection) -> tuple[dict[str, Row], dict[str, Row], dict[str, int]]:
    """Cases per cause and per method, and per status: one scan of the covering summary index
    (``ix_cases_summary``), then percentiles from the (key, ttf_s) indexes."""
    c = table_of(Case).c
    causes: dict[str, Row] = {}
    methods: dict[str, Row] = {}
    totals: dict[str, int] = {}
    timed: dict[tuple[str, str], int] = {}
    for cause, method, status, person, n, with_ttf in conn.execute(
            select(c.cause, c.method, c.status, c.needs_person, func.count(), func.count(c.ttf_s))
            .group_by(c.cause, c.method, c.status, c.needs_person)):
        totals[status] = totals.get(status, 0) + n
        for column, key, table in (("cause", cause, causes), ("method", method, methods)):
            if key is None:
                continue
            row = table.setdefault(key, Row(key))
            row.cases += n
            row.needs_person += n if person else 0
            row.open += n if status == "open" else 0
            row.fixed += n if status == "fixed" else 0
            timed[(column, key)] = timed.get((column, key), 0) + with_ttf
    rows = [(column, row) for column, table in (("cause", causes), ("method", methods))
            for row in table.values()]
    values = _percentiles(conn, [(column, row.key, timed[(column, row.key)], q)
                                 for column, row in rows for q in (0.5, 0.9)])
    for i, (_, row) in enumerate(rows):
        row.median_s, row.p90_s = values[2 * i], values[2 * i + 1]
    return causes, methods, totals


def _recurring(conn: Connection, column: str, gap: str, days: int,
               top: int) -> tuple[list[Recurring], int]:
    c = table_of(Case).c
    within = c[gap] <= days * 86400
    # grouped by lower(key) (keys are stored lower-case): a plain key would let SQLite walk the
    # whole key index instead of the short gap range of the (gap, key) index
    key = func.lower(c[column])
    ranked = conn.execute(select(key, func.count()).where(within, c[column].is_not(None))
                          .group_by(key).order_by(func.count().desc(), key)
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
    causes, methods, totals = _rows(conn)
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
    return Dashboard(
        days=days,
        causes=sorted(causes.values(), key=lambda r: (-r.cases, r.key)),
        methods=sorted(methods.values(), key=lambda r: (-(r.runs or r.cases), r.key)),
        recurring_users=users, recurring_user_count=user_count,
        recurring_devices=devices, recurring_device_count=device_count,
        clones=_clones(conn), weeks=trend, totals=totals,
        matrix={k: v for k, v in pairs.items() if k[1] != NO_METHOD})

"""The Alembic migrations build exactly the models' schema, and upgrade a populated database."""

import json
from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, insert, select, text

from odfix.console import migrate
from odfix.console.db import Base, DeviceName, WeeklyStat, make_engine


def test_head_matches_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert migrate.current(engine) is None
        migrate.upgrade(engine)
        assert migrate.current(engine) == migrate.head()
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        migrate.upgrade(engine)  # idempotent: a second start changes nothing
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        engine.dispose()


def test_upgrade_from_the_first_schema_keeps_and_rolls_up_reports(db_url: str) -> None:
    engine = make_engine(db_url)
    t0 = datetime(2026, 11, 2, 9, tzinfo=UTC)  # a Monday
    try:
        migrate.upgrade(engine, "0001")
        reports = [
            ("r1", t0, "cloned-image", "dsregcmd-leave-join", "fixed", "DEV-A", "PC-1"),
            ("r2", t0 + timedelta(days=1), "cloned-image", "dsregcmd-leave-join", "failed",
             "DEV-A", "PC-2"),
            ("r3", t0 + timedelta(days=8), "stale-token-password-change",
             "credential-cleanup", "needs-person", "DEV-B", "PC-3"),
            ("r4", t0 + timedelta(days=8), "healthy", None, "healthy", "DEV-B", "PC-3"),
        ]
        with engine.begin() as conn:  # the first schema, written with plain SQL
            conn.execute(text("INSERT INTO sites (id, name, created_at) VALUES (1, 'HQ', :t)"),
                         {"t": t0})
            conn.execute(text("INSERT INTO enrolment_tokens (id, site_id, label, token_hash, "
                              "prefix, created_at) VALUES (1, 1, 'x', 'h', 'p', :t)"), {"t": t0})
            for run, at, cause, method, outcome, device, name in reports:
                conn.execute(text(
                    "INSERT INTO reports (run_id, received_at, site_id, token_id, source, "
                    "device_id, device_name, cause, join_type, method, outcome, exit_code, "
                    "finished_at, document) VALUES (:run, :at, 1, 1, 'cli', :device, :name, "
                    ":cause, 'hybrid-joined', :method, :outcome, 0, :at, :doc)"),
                    {"run": run, "at": at, "device": device, "name": name, "cause": cause,
                     "method": method, "outcome": outcome, "doc": json.dumps({"run": run})})
        migrate.upgrade(engine)
        with engine.connect() as conn:
            stats = {(s.week, s.cause, s.method): (s.runs, s.fixed, s.needed_person)
                     for s in conn.execute(select(WeeklyStat))}
            assert stats == {
                ("2026-11-02", "cloned-image", "dsregcmd-leave-join"): (2, 1, 0),
                ("2026-11-09", "stale-token-password-change", "credential-cleanup"): (1, 0, 1),
            }
            names = sorted(conn.execute(select(DeviceName.device_id, DeviceName.device_name)))
            assert names == [("dev-a", "pc-1"), ("dev-a", "pc-2"), ("dev-b", "pc-3")]
            assert conn.execute(text("SELECT count(*) FROM reports")).scalar() == 4
        with engine.begin() as conn:  # the upgraded schema takes new rows
            conn.execute(insert(WeeklyStat).values(week="2026-11-16", cause="x", method="-",
                                                   runs=1, fixed=0, needed_person=0))
            assert conn.execute(select(func.count()).select_from(WeeklyStat)).scalar() == 3
    finally:
        engine.dispose()

"""Ingest under concurrency: retries of one report racing each other, and two writers (two
workers on PostgreSQL) attaching reports of the same PC at the same time."""

import asyncio
import threading
import time
from typing import Any

import pytest
from console_kit import add_token, report
from sqlalchemy import Engine, func, select

from odfix.console.db import Case, Report, sessions
from odfix.console.ingest import Writer, report_row, write_batch
from odfix.fleet.report import FleetReport


def _item(token: str, run: str, **kw: Any) -> tuple[str, dict[str, Any], str]:
    parsed = FleetReport.model_validate(report(run, **kw))
    return token, report_row(parsed), parsed.verdict


def test_concurrent_retries_store_one_row(engine: Engine) -> None:
    """50 copies of each of 20 reports submitted at once: one row and one "created" each."""
    token = add_token(engine)
    writer = Writer(engine, max_batch=7)  # many small batches, so copies land in different ones

    async def main() -> list[list[str]]:
        parsed = [FleetReport.model_validate(report(f"retry-{n}", device=f"D{n % 5}"))
                  for n in range(20)]
        sends = [writer.submit(token, [(p, None)]) for p in parsed for _ in range(50)]
        return list(await asyncio.gather(*sends))

    try:
        statuses = [s for answer in asyncio.run(main()) for s in answer]
    finally:
        writer.close()
    assert statuses.count("created") == 20 and statuses.count("duplicate") == 980
    with sessions(engine)() as db:
        assert db.scalar(select(func.count()).select_from(Report)) == 20
        assert db.scalar(select(func.count(func.distinct(Report.run_id)))) == 20
        assert db.scalar(select(func.count()).select_from(Case)) == 5  # one per PC


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # one SQLite process: one writer
def test_two_writers_attach_one_pc_to_one_case(engine: Engine, db_url: str) -> None:
    """Writer A's batch opens a case for PC D and has not committed when writer B's batch
    (another worker) brings a second failing report of D: B waits for A and joins its case."""
    token = add_token(engine)
    a_written = threading.Event()
    done: dict[str, float] = {}

    def writer_a() -> None:
        with engine.begin() as conn:
            write_batch(conn, [_item(token, "a-1", device="D", host="PC-D")])
            a_written.set()
            time.sleep(1.0)
            done["a"] = time.monotonic()

    def writer_b() -> None:
        a_written.wait(10)
        with engine.begin() as conn:
            write_batch(conn, [_item(token, "b-1", device="D", host="PC-D",
                                     verdict="still-failing",
                                     methods=[("wam-signout", "not-fixed")])])
        done["b"] = time.monotonic()

    threads = [threading.Thread(target=writer_a), threading.Thread(target=writer_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert done["b"] >= done["a"]  # B waited for A's commit
    with sessions(engine)() as db:
        cases = db.scalars(select(Case).where(Case.device_id == "d")).all()  # stored lower
        assert len(cases) == 1 and cases[0].status == "open"
        assert cases[0].method == "wam-signout"  # B's report was applied to A's case
        linked = set(db.scalars(select(Report.case_id)))
        assert linked == {cases[0].id}

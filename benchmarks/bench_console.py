"""Console benchmarks: report ingest throughput and page latency, on SQLite and PostgreSQL.

``python3 dev.py bench console [ingest|pages] [sqlite|postgresql]``

Each runs the real server (``odfix serve``: uvicorn, httptools, uvloop) in its own process and
drives it from separate client processes (a small keep-alive HTTP/1.1 client on asyncio, so the
clients cost little of the two cores the server also runs on). The baseline is the same clients
sending the same number of requests, at the same concurrency, to a static file of the same
server (``/static/console.css``), measured in the same run, alternating with the subject.

* ingest: 20,000 distinct synthetic reports per round plus 10 % re-sends (a client retrying),
  one report per request, 32 concurrent connections from 2 processes; then the database is
  checked: every acknowledged report stored, none twice, every re-send answered "duplicate".
* pages: 100,000 cases and 1,000,000 reports written straight into a fresh database (bulk
  inserts, rollups filled by migration 0002's backfill; ``ODFIX_BENCH_SQLITE=path`` and
  ``ODFIX_BENCH_PGROOT=folder`` keep and reuse a filled database), then 60 signed-in requests
  per page (dashboard, case list, a case, fleet) interleaved with the static page, one at a
  time, after a warm-up; p50/p95.
"""

import asyncio
import json
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "console"))

from console_pg import PgServer  # noqa: E402

CLIENT_PROCESSES = 2
CONNECTIONS = 16
REPORTS = int(os.environ.get("ODFIX_BENCH_REPORTS", "20000"))
RESENDS = 0.10
ROUNDS = int(os.environ.get("ODFIX_BENCH_ROUNDS", "3"))


# -- a small HTTP/1.1 keep-alive client ------------------------------------------------------

async def _connection(port: int, requests: list[tuple[bytes, str]],
                      out: list[tuple[str, int, bytes, float]]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while requests:
            request, tag = requests.pop()
            started = time.perf_counter()
            writer.write(request)
            status = int((await reader.readline()).split()[1])
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                key, _, value = line.partition(b":")
                if key.strip().lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length)
            out.append((tag, status, body, time.perf_counter() - started))
    finally:
        writer.close()


def _client(port: int, requests: list[tuple[bytes, str]], connections: int
            ) -> tuple[float, float, list[tuple[str, int, bytes, float]]]:
    out: list[tuple[str, int, bytes, float]] = []

    async def main() -> tuple[float, float]:
        start = time.time()
        await asyncio.gather(*(_connection(port, requests, out) for _ in range(connections)))
        return start, time.time()

    start, end = asyncio.run(main())
    return start, end, out


def drive(port: int, requests: list[tuple[bytes, str]], processes: int = CLIENT_PROCESSES,
          connections: int = CONNECTIONS) -> tuple[float, list[tuple[str, int, bytes, float]]]:
    """Send every request; the wall time from the first client's start to the last's end."""
    shares = [requests[i::processes] for i in range(processes)]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        done = pool.starmap(_client, [(port, share, connections) for share in shares])
    start = min(d[0] for d in done)
    end = max(d[1] for d in done)
    return end - start, [r for d in done for r in d[2]]


def post(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{head}\r\n").encode() + body


def get(path: str, headers: dict[str, str] | None = None) -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    return f"GET {path} HTTP/1.1\r\nHost: bench\r\n{head}\r\n".encode()


# -- the server ------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(url: str) -> tuple[str, str]:
    """Migrate, make the break-glass account and an enrolment token: (password, token)."""
    from odfix.console import auth, migrate
    from odfix.console.db import EnrolmentToken, Site, make_engine, sessions

    engine = make_engine(url)
    migrate.upgrade(engine)
    token, digest, prefix = auth.new_token()
    with sessions(engine)() as db:
        password = auth.set_break_glass_password(db)
        site = Site(name=f"bench-{prefix}")
        db.add(site)
        db.flush()
        db.add(EnrolmentToken(site_id=site.id, label="bench", token_hash=digest, prefix=prefix))
        db.commit()
    engine.dispose()
    return password, token


class Server:
    def __init__(self, url: str, data: Path, workers: int = 1) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "odfix", "serve", "--port", str(self.port), "--db", url,
             "--workers", str(workers)], env={**os.environ, "ODFIX_DATA_DIR": str(data)},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.1)
        time.sleep(1.0 if workers > 1 else 0.3)  # every worker listening

    def cpu(self) -> float:
        """CPU seconds the server and its workers have used so far."""
        total = 0.0
        pids = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        if children.exists():
            pids += [int(p) for p in children.read_text().split()]
        tick = os.sysconf("SC_CLK_TCK")
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / tick
        return total

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def databases(which: list[str], base: Path, *, reuse: bool = False
              ) -> Iterator[tuple[str, str, Any]]:
    """(name, URL, server to stop) for each database asked for; ``reuse`` (pages): the filled
    database kept by ``ODFIX_BENCH_SQLITE=file`` / ``ODFIX_BENCH_PGROOT=folder``, if set."""
    for name in which:
        if name == "sqlite":
            kept = os.environ.get("ODFIX_BENCH_SQLITE") if reuse else None
            yield name, f"sqlite:///{kept or base / 'bench.db'}", None
        else:
            root = os.environ.get("ODFIX_BENCH_PGROOT") if reuse else None
            pg = PgServer(durable=True, keep=Path(root) if root else None)
            yield name, pg.create("bench", reuse=root is not None), pg


# -- ingest ----------------------------------------------------------------------------------

def _reports(count: int, prefix: str) -> list[dict[str, Any]]:
    from console_fleet import simulate

    out: list[dict[str, Any]] = []
    episodes = 0
    end = datetime.now(UTC)
    while len(out) < count:
        out.extend(simulate(2000, devices=20_000, seed=len(out), end=end,
                            prefix=f"{prefix}{episodes}"))
        episodes += 1
    return out[:count]


def ingest_round(server: "Server", token: str, prefix: str) -> dict[str, Any]:
    rng = random.Random(prefix)
    reports = _reports(REPORTS, prefix)
    auth = {"Authorization": f"Bearer {token}"}
    requests = [(post("/api/v1/reports", json.dumps(r).encode(), auth), r["run_id"])
                for r in reports]
    resends = [(post("/api/v1/reports", json.dumps(r).encode(), auth), "again:" + r["run_id"])
               for r in rng.sample(reports, int(REPORTS * RESENDS))]
    mixed = requests + resends
    rng.shuffle(mixed)
    cpu = server.cpu()
    seconds, results = drive(server.port, mixed)
    cpu = server.cpu() - cpu
    created = {t.removeprefix("again:") for t, s, b, _ in results
               if s == 201 and json.loads(b)["status"] == "created"}
    duplicates = sum(1 for t, s, b, _ in results if s == 200
                     and json.loads(b)["status"] == "duplicate")
    failed = [(t, s) for t, s, _, _ in results if s not in (200, 201)]
    return {"seconds": seconds, "cpu": cpu, "requests": len(results), "created": created,
            "duplicates": duplicates, "failed": failed, "sent": {r["run_id"] for r in reports}}


def static_round(server: "Server", count: int) -> tuple[float, float]:
    """(wall seconds, server CPU seconds) for ``count`` requests of the static page."""
    cpu = server.cpu()
    seconds, results = drive(server.port, [(get("/static/console.css"), "s")] * count)
    assert all(s == 200 for _, s, _, _ in results), "static baseline failed"
    return seconds, server.cpu() - cpu


def check_store(url: str, acknowledged: set[str]) -> tuple[int, int, int]:
    """(rows, lost = acknowledged but absent, duplicated = rows past distinct run ids)."""
    from sqlalchemy import func, select

    from odfix.console.db import Report, make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(Report)).scalar_one()
        distinct = conn.execute(select(func.count(func.distinct(Report.run_id)))).scalar_one()
        stored = set(conn.execute(select(Report.run_id)).scalars())
    engine.dispose()
    return rows, len(acknowledged - stored), rows - distinct


def bench_ingest(which: list[str]) -> None:
    for name, url, pg in databases(which, Path(tempfile.mkdtemp(prefix="odfix-bench-"))):
        try:
            _, token = prepare(url)
            for workers in ([1] if name == "sqlite" else [1, 2]):
                server = Server(url, Path(tempfile.mkdtemp(prefix="odfix-bench-data-")), workers)
                acknowledged: set[str] = set()
                ratios, rates, bases, cpus, static_cpus = [], [], [], [], []
                try:
                    for n in range(ROUNDS):
                        first_static = n % 2 == 0
                        total = int(REPORTS * (1 + RESENDS))
                        if first_static:
                            base, base_cpu = static_round(server, total)
                        got = ingest_round(server, token, f"{name}{workers}r{n}-")
                        if not first_static:
                            base, base_cpu = static_round(server, total)
                        assert not got["failed"], got["failed"][:5]
                        assert got["created"] == got["sent"], "a report was not acknowledged"
                        assert got["duplicates"] == int(REPORTS * RESENDS)
                        acknowledged |= got["created"]
                        rate = got["requests"] / got["seconds"]
                        rates.append(rate)
                        bases.append(total / base)
                        ratios.append(got["seconds"] / base)
                        cpus.append(got["cpu"] / got["requests"])
                        static_cpus.append(base_cpu / total)
                finally:
                    server.stop()
                rows, lost, duplicated = check_store(url, acknowledged)
                print(f"ingest {name} workers={workers}: "
                      f"{statistics.median(rates):,.0f} reports/s (median of {ROUNDS} rounds "
                      f"of {int(REPORTS * (1 + RESENDS)):,} requests, "
                      f"{CONNECTIONS * CLIENT_PROCESSES} connections; best {max(rates):,.0f}); "
                      "static page "
                      f"{statistics.median(bases):,.0f} req/s; ingest/static time "
                      f"{statistics.median(ratios):.2f}x; server CPU per request "
                      f"{statistics.median(cpus) * 1000:.2f} ms (static "
                      f"{statistics.median(static_cpus) * 1000:.2f} ms); stored {rows:,}, "
                      f"lost {lost}, duplicated {duplicated}", flush=True)
        finally:
            if pg is not None:
                pg.stop()


# -- pages -----------------------------------------------------------------------------------

CASES = 100_000
REPORT_ROWS = 1_000_000


def populate(url: str, seed: int = 11) -> list[int]:
    """100,000 cases and 1,000,000 reports (synthetic), rollups from the backfill."""
    from sqlalchemy import insert, select, text

    from odfix.console import rollup
    from odfix.console.db import Case, EnrolmentToken, Report, make_engine, table_of
    from odfix.console.ingest import OUTCOMES

    rng = random.Random(seed)
    from console_fleet import CAUSES

    causes = list(CAUSES)
    methods = ["wam-signout", "credential-cleanup", "reconnect-work-account",
               "unlink-relink-onedrive", "clear-office-identity", "dsregcmd-leave-join",
               "reset-onedrive", "connectivity-checks"]
    verdicts = list(OUTCOMES)
    end = datetime.now(UTC)
    engine = make_engine(url)
    with engine.begin() as conn:
        token = conn.execute(select(EnrolmentToken.id, EnrolmentToken.site_id)).first()
        assert token is not None
        cases = []
        for _ in range(CASES):
            opened = end - timedelta(seconds=rng.uniform(0, 365 * 86400))
            status = rng.choices(("fixed", "open", "closed"), (0.85, 0.1, 0.05))[0]
            ttf = int(rng.lognormvariate(9.5, 1.1)) if status == "fixed" else None
            device = rng.randrange(60_000)
            cases.append({
                "upn": f"user{device:05d}@contoso.example", "device_id": f"dev-{device:06d}",
                "device_name": f"PC-{device:05d}", "cause": rng.choice(causes),
                "join_type": "hybrid-joined", "status": status,
                "method": rng.choice(methods), "needs_person": rng.random() < 0.2,
                "source": "fleet", "opened_at": opened,
                "fixed_at": opened + timedelta(seconds=ttf) if ttf else None,
                "ttf_s": ttf, "user_gap_s": int(rng.uniform(0, 60 * 86400))
                if rng.random() < 0.15 else None,
                "device_gap_s": int(rng.uniform(0, 60 * 86400)) if rng.random() < 0.15
                else None})
        for start in range(0, CASES, 10_000):
            conn.execute(insert(table_of(Case)), cases[start:start + 10_000])
        ids = list(conn.execute(select(Case.id)).scalars())
    document = json.dumps({"schema": "odfix.fleet-report/1", "note": "x" * 300})
    for start in range(0, REPORT_ROWS, 20_000):
        rows = []
        for n in range(start, min(REPORT_ROWS, start + 20_000)):
            device = rng.randrange(60_000)
            at = end - timedelta(seconds=rng.uniform(0, 365 * 86400))
            verdict = rng.choice(verdicts)
            rows.append({
                "run_id": f"bench-{n}", "received_at": at, "site_id": token[1],
                "token_id": token[0], "case_id": rng.choice(ids), "source": "intune",
                "upn": f"user{device:05d}@contoso.example", "device_id": f"dev-{device:06d}",
                "device_name": f"PC-{device:05d}" if rng.random() > 0.001
                else f"PC-{device + 1:05d}", "cause": rng.choice(causes),
                "join_type": "hybrid-joined", "method": rng.choice(methods),
                "outcome": OUTCOMES[verdict], "exit_code": 0, "started_at": at,
                "finished_at": at, "document": document})
        with engine.begin() as conn:
            conn.execute(insert(table_of(Report)), rows)
    with engine.begin() as conn:
        for name in ("weekly_stats", "device_names"):
            conn.execute(text(f"DELETE FROM {name}"))
        rollup.backfill(conn)
    # what autovacuum does to a live database (after a bulk load PostgreSQL's index-only scans
    # still visit the heap until the visibility map is set); statistics on both
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql"
                          else "ANALYZE"))
    engine.dispose()
    return ids


def _populated(url: str) -> list[int]:
    """The case ids of a database ``populate`` already filled (to reuse it), else []."""
    from sqlalchemy import func, select

    from odfix.console.db import Case, Report, make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        reports = conn.execute(select(func.count()).select_from(Report)).scalar_one()
        ids = list(conn.execute(select(Case.id)).scalars()) if reports >= REPORT_ROWS else []
    engine.dispose()
    return ids


def _page_times(port: int, password: str, pages: dict[str, str]) -> dict[str, list[float]]:
    """Sign in, warm up, then 60 rounds of one request per page, one at a time."""
    import re

    import httpx

    times: dict[str, list[float]] = {key: [] for key in pages}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        csrf = re.search(r'name="csrf" value="([^"]+)"', http.get("/login").text)
        assert csrf
        http.post("/login/local", data={"user": "admin", "password": password,
                                        "csrf": csrf.group(1)})
        for path in pages.values():
            for _ in range(3):
                assert http.get(path).status_code == 200, path
        for _ in range(60):
            for key, path in pages.items():
                started = time.perf_counter()
                response = http.get(path)
                times[key].append(time.perf_counter() - started)
                assert response.status_code == 200, (key, response.status_code)
    return times


def _p95(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[max(0, int(len(ordered) * 0.95 + 0.5) - 1)]


def bench_pages(which: list[str]) -> None:
    for name, url, pg in databases(which, Path(tempfile.mkdtemp(prefix="odfix-bench-")),
                                   reuse=True):
        try:
            password, _ = prepare(url)
            ids = _populated(url)
            if len(ids) < CASES:
                started = time.perf_counter()
                ids = populate(url)
                print(f"pages {name}: wrote {CASES:,} cases and {REPORT_ROWS:,} reports in "
                      f"{time.perf_counter() - started:.0f} s", flush=True)
            server = Server(url, Path(tempfile.mkdtemp(prefix="odfix-bench-data-")))
            try:
                times = _page_times(server.port, password, {
                    "dashboard": "/dashboard", "cases": "/cases",
                    "case": f"/cases/{ids[len(ids) // 2]}", "fleet": "/fleet",
                    "static": "/static/console.css"})
            finally:
                server.stop()
            static = _p95(times["static"])
            for key in times:
                if key == "static":
                    continue
                p95 = _p95(times[key])
                print(f"pages {name} {key}: p50 {statistics.median(times[key]) * 1000:.0f} ms, "
                      f"p95 {p95 * 1000:.0f} ms ({p95 / static:.0f}x the static page's p95 "
                      f"{static * 1000:.1f} ms)", flush=True)
        finally:
            if pg is not None:
                pg.stop()


def main(argv: list[str]) -> int:
    jobs = [a for a in argv if a in ("ingest", "pages")] or ["ingest", "pages"]
    which = [a for a in argv if a in ("sqlite", "postgresql")] or ["sqlite", "postgresql"]
    if "ingest" in jobs:
        bench_ingest(which)
    if "pages" in jobs:
        bench_pages(which)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

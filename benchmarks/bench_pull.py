"""Pull benchmark: ``odfix signins pull`` against the local Graph server at the documented limit.

Graph allows 5 reporting requests per 10 s per app per tenant, 1,000 rows a page: a ceiling of
500 rows/s. Time is scaled down ``--scale`` times on both sides (the server throttles 5 requests per
10/scale s, the client paces for the same), so the ceiling becomes ``500 * scale`` rows/s. The
server runs in its own process (no shared GIL) and answers 429 + Retry-After above the limit.

Figures: rows/s as a percentage of the ceiling (target >= 90%), 429 answers, the busiest window,
lost and duplicated rows (target 0), and as the baseline measured in the same run, the same pull
with neither throttle nor pacing — the machine's own capacity, to show the limit is what binds.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import tempfile
import time
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SERVER_DIR = ROOT / "tests" / "tenant"
START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 11, 2, tzinfo=UTC)


def _serve(conn: Connection, rows: int, throttle: tuple[int, float] | None) -> None:
    sys.path.insert(0, str(SERVER_DIR))
    import graph_server as gs

    signins = gs.seed_signins(rows, START, END, seed=11, users=2000)
    expected = {r["id"]: gs.event_types(r)[0] for r in signins}
    state = gs.GraphState(signins=signins, throttle=throttle)
    for record in signins:
        state.text(record)
    state.collection("signins", "createdDateTime")
    with gs.GraphServer(state) as server:
        conn.send((server.url, expected))
        conn.recv()
        conn.send([(h.at, h.status) for h in server.reporting_hits()])
        conn.recv()


def _run(rows: int, scale: float, throttled: bool, slice_hours: float) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from odfix.tenant.graph import GraphClient
    from odfix.tenant.graph_throttle import REPORTS_LIMIT, TokenBucket
    from odfix.tenant.pull import Puller
    from odfix.tenant.pull_checkpoint import PullPlan

    limit = REPORTS_LIMIT.scaled(scale)
    ours, theirs = mp.get_context("fork").Pipe()
    server = mp.get_context("fork").Process(
        target=_serve, args=(theirs, rows, (limit.requests, limit.window_s) if throttled else None))
    server.start()
    url, expected = ours.recv()
    pa.array([0])  # pyarrow's one-time lazy imports stay out of the timing
    pacer = TokenBucket.for_limit(limit) if throttled else None
    plan = PullPlan(since=START, until=END, slice_hours=slice_hours, extras=())
    with tempfile.TemporaryDirectory() as out, \
            GraphClient(lambda refresh: "test-token", base_url=url, pacer=pacer) as client:
        began = time.perf_counter()
        Puller(client, Path(out)).run(plan)
        elapsed = time.perf_counter() - began
        pulled = [(r["id"], r["event_type"]) for path in Path(out).rglob("*.parquet")
                  for r in pq.read_table(path, columns=["id", "event_type"]).to_pylist()]
    ours.send("log")
    hits = ours.recv()
    ours.send("stop")
    server.join()
    got = dict(pulled)
    import graph_server as gs

    return {
        "rows": len(pulled),
        "seconds": elapsed,
        "rows_per_s": len(pulled) / elapsed,
        "ceiling": limit.ceiling * 1000,
        "requests": len(hits),
        "throttled": sum(1 for _, status in hits if status == 429),
        "busiest": gs.max_in_window([at for at, _ in hits], limit.window_s),
        "lost": len(expected.keys() - got.keys()),
        "duplicated": len(pulled) - len(got),
        "wrong_type": sum(1 for k, v in got.items() if expected.get(k, v) != v),
        "limit": limit,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_pull")
    parser.add_argument("--rows", type=int, default=120_000)
    parser.add_argument("--scale", type=float, default=8.0)
    parser.add_argument("--slice-hours", type=float, default=12.0)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(SERVER_DIR))
    base = _run(args.rows, args.scale, False, args.slice_hours)
    paced = _run(args.rows, args.scale, True, args.slice_hours)
    limit = paced["limit"]
    print(f"rows {args.rows:,} over 24 h, slices {args.slice_hours:g} h, 1,000-row pages; "
          f"time scaled {args.scale:g}x: {limit.requests} requests / {limit.window_s:g} s "
          f"(Graph: 5 / 10 s), ceiling {paced['ceiling']:,.0f} rows/s")
    print(f"baseline, no throttle: {base['rows_per_s']:,.0f} rows/s "
          f"({base['rows_per_s'] / paced['ceiling']:.1f}x the ceiling), "
          f"lost {base['lost']}, duplicated {base['duplicated']}")
    share = paced["rows_per_s"] / paced["ceiling"]
    print(f"throttled pull: {paced['rows_per_s']:,.0f} rows/s = {share:.1%} of the ceiling "
          f"({paced['seconds']:.1f} s, {paced['requests']} requests, {paced['throttled']} "
          f"answered 429, busiest window {paced['busiest']}/{limit.requests}), "
          f"lost {paced['lost']}, duplicated {paced['duplicated']}, "
          f"wrong type {paced['wrong_type']}")
    ok = share >= 0.9 and not (paced["lost"] or paced["duplicated"] or paced["wrong_type"]
                               or base["lost"] or base["duplicated"])
    print("target (>= 90% of the ceiling, 0 lost/duplicated):", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Benchmark ``odfix signins analyze`` on 1,000,000 sign-ins in Graph's document shape.

    python3 dev.py bench signins                       # 1,000,000 rows (~1.3 GB, cached)
    .venv/bin/python benchmarks/bench_signins.py --rows 100000    # quick run

Compares, each in its own child process (wall time and peak RSS from
``resource.getrusage(RUSAGE_CHILDREN)`` of a per-job watcher process):
  odfix   end-to-end ``odfix signins analyze FILE --users --audits --policies --devices --json``
  pandas  (a) plain ``json`` + pandas: the same classification and per-user counts
  floor   (b) a raw DuckDB ``read_json`` of the same records as NDJSON, reading just the columns
          odfix's analysis reads (``odfix.tenant.schema.GRAPH_COLUMNS``) into a table
Targets: odfix >= 20x faster than pandas, <= 2x the floor, peak RSS <= 1 GiB.
Floor and odfix run as five back-to-back pairs (order alternating); the ratio to the floor is
the median of the five pairs' ratios, so that a slow spell of this shared machine hits both
sides of a ratio. Every job's input files are read once just before it starts (warm page
cache). Best and median times are printed too; peak RSS is the highest of the runs.
The ``ODFIX_BENCH_SIGNINS_ROWS`` environment variable also sets the size.
"""

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
GENERATOR = "v3"  # bump when synth output changes, so cached files are rebuilt
PAIRS = 5  # floor/odfix pairs, back to back (the machine is shared); pandas runs once


def _data(rows: int) -> tuple[Path, Path]:
    from odfix.tenant.synth import synthesize

    DATA.mkdir(exist_ok=True)
    graph = DATA / f"signins-{rows}-{GENERATOR}.json"
    ndjson = DATA / f"signins-{rows}-{GENERATOR}.ndjson"
    users = max(100, rows // 50)
    for path, fmt in ((graph, "graph"), (ndjson, "ndjson")):
        if not path.exists():
            print(f"generating {path.name} ...", flush=True)
            start = time.perf_counter()
            tmp = path.with_name(path.name + ".part")
            synthesize(tmp, users=users, days=30, seed=1, rows=rows, fmt=fmt)  # type: ignore[arg-type]
            for kind in ("users", "audits", "policies", "devices", "truth"):
                tmp.with_name(f"{tmp.stem}.{kind}.json").rename(
                    path.with_name(f"{path.stem}.{kind}.json"))
            tmp.rename(path)
            print(f"  {time.perf_counter() - start:.1f} s, {path.stat().st_size / 1e9:.2f} GB",
                  flush=True)
    return graph, ndjson


def _pandas(graph: str) -> None:
    """Baseline (a): load the whole document with json, classify and count with pandas."""
    import pandas as pd

    from odfix.guide.codes import load_catalog

    categories = load_catalog().aadsts_categories()
    with open(graph, encoding="utf-8") as fh:
        records = json.load(fh)["value"]
    frame = pd.DataFrame.from_records(records)
    frame["upn"] = frame["userPrincipalName"].str.lower()
    frame["code"] = frame["status"].str.get("errorCode").fillna(0).astype(int)
    failures = frame[frame["code"] != 0].copy()
    failures["category"] = failures["code"].map(categories).fillna("unknown")
    per_user = failures.groupby(["upn", "category"]).size().unstack(fill_value=0)
    totals = frame.groupby("upn").size()
    print(len(per_user), int(totals.sum()), file=sys.stderr)


def _floor(ndjson: str) -> None:
    """Baseline (b): DuckDB reads the NDJSON records, just the columns odfix uses."""
    import duckdb

    from odfix.tenant.schema import GRAPH_COLUMNS

    con = duckdb.connect()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_json(?, format='newline_delimited', "
                f"columns={GRAPH_COLUMNS!r})", [ndjson]).fetchall()
    print(con.execute("SELECT count(*) FROM t").fetchall(), file=sys.stderr)


def _watch(argv: list[str]) -> None:
    """Run one job as a child; print its wall time and peak RSS (RUSAGE_CHILDREN) as JSON."""
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "rss": peak, "rc": done.returncode,
                      "stderr": done.stderr[-400:]}))


def _warm(paths: list[Path]) -> None:
    """Read the inputs once so that every job starts with them in the page cache.

    This VM reclaims cold page cache within minutes; without this a job that found its input
    evicted measured 13.7 s instead of ~4 s, stalled on the disk with both cores idle.
    """
    buffer = bytearray(16 << 20)
    for path in paths:
        with path.open("rb", buffering=0) as fh:
            while fh.readinto(buffer):
                pass


def _run(name: str, argv: list[str], inputs: list[Path]) -> dict[str, Any]:
    """One job in its own watcher process, its inputs warmed: wall seconds and peak RSS."""
    _warm(inputs)
    out = subprocess.run([sys.executable, __file__, "--watch", *argv], capture_output=True,
                         text=True, check=True)
    run: dict[str, Any] = json.loads(out.stdout)
    if run["rc"] != 0:
        raise SystemExit(f"{name} failed: {run['stderr']}")
    return run


def _pairs(floor: tuple[list[str], list[Path]], odfix: tuple[list[str], list[Path]],
           count: int) -> list[tuple[float, float, int]]:
    """``count`` back-to-back (floor, odfix) pairs, the order alternating, as (floor s, odfix s,
    odfix peak RSS): the machine's slow and fast spells then hit both sides of a ratio."""
    out = []
    for n in range(count):
        jobs = [("floor", floor), ("odfix", odfix)]
        got = {name: _run(name, *job) for name, job in (jobs if n % 2 == 0 else jobs[::-1])}
        out.append((got["floor"]["seconds"], got["odfix"]["seconds"], got["odfix"]["rss"]))
        print(f"  pair {n + 1}: floor {out[-1][0]:6.2f} s   odfix {out[-1][1]:6.2f} s   "
              f"ratio {out[-1][1] / out[-1][0]:5.2f}x", flush=True)
    return out


def main(argv: list[str]) -> int:
    if argv[:1] == ["--watch"]:
        _watch(argv[1:])
        return 0
    if argv[:1] == ["--pandas"]:
        _pandas(argv[1])
        return 0
    if argv[:1] == ["--floor"]:
        _floor(argv[1])
        return 0
    rows = int(os.environ.get("ODFIX_BENCH_SIGNINS_ROWS", "1000000"))
    if argv[:1] == ["--rows"]:
        rows = int(argv[1])
    graph, ndjson = _data(rows)
    companions = {k: graph.with_name(f"{graph.stem}.{k}.json")
                  for k in ("users", "audits", "policies", "devices")}
    comp = [f"--{k}={p}" for k, p in companions.items()]
    print(f"{rows:,} sign-ins, {graph.stat().st_size / 1e9:.2f} GB Graph document, "
          f"{os.cpu_count()} CPUs", flush=True)
    me = [sys.executable, __file__]
    pairs = _pairs(([*me, "--floor", str(ndjson)], [ndjson]),
                   ([sys.executable, "-m", "odfix", "signins", "analyze", str(graph), *comp,
                     "--json"], [graph, *companions.values()]), PAIRS)
    pandas = _run("pandas", [*me, "--pandas", str(graph)], [graph])
    floors, odfixes = [p[0] for p in pairs], [p[1] for p in pairs]
    ratio = statistics.median(o / f for f, o, _ in pairs)
    odfix_median = statistics.median(odfixes)
    rss = max(p[2] for p in pairs) / 2**30
    print(f"  floor  best {min(floors):6.2f} s  median {statistics.median(floors):6.2f} s")
    print(f"  odfix  best {min(odfixes):6.2f} s  median {odfix_median:6.2f} s")
    print(f"  pandas      {pandas['seconds']:6.2f} s   peak RSS {pandas['rss'] / 2**30:.2f} GiB")
    print(f"odfix vs floor:  {ratio:.2f}x the floor's time, median of the pairs "
          f"(best against best {min(odfixes) / min(floors):.2f}x; target <= 2x)")
    print(f"odfix vs pandas: {pandas['seconds'] / odfix_median:.1f}x faster with odfix's median "
          f"({pandas['seconds'] / min(odfixes):.1f}x with its best; target >= 20x)")
    print(f"odfix peak RSS:  {rss:.2f} GiB (target <= 1 GiB)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent / "src"))
    sys.exit(main(sys.argv[1:]))

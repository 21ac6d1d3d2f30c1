"""Every evidence parser on hostile input at 1, 4 and 16 MB: time and memory grow linearly.

Each case is an input that once made a parser backtrack or go quadratic (builders in
tests/evidence/hostile.py). For each size it records the best CPU and wall time per parse over
``REPEAT`` rounds and the peak memory the parse allocated (``tracemalloc``, a separate run, so
tracing does not slow the timed ones). The baseline, measured in the same run on the same
bytes, is reading the input: ``common.decode`` plus walking its lines. Reported: CPU and wall
seconds at 16 MB, the 16 MB CPU time as a multiple of the baseline's, and the growth per
doubling of the size ((t16/t4) ** 0.5: 2.0 for a linear parser; the target is <= 2.2) of CPU
time and of memory. CPU time (``process_time``) is used for the ratios because this machine is
shared: wall time moves with the other processes' load, CPU time much less.

``python3 dev.py bench parsers_linear`` (10-30 minutes on a shared machine); ``--quick`` runs
1 and 4 MB only; words after the options pick cases by name (``... references``). The benchmark
runner passes no arguments: run the file itself for those.
"""

import contextlib
import gc
import itertools
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "evidence"))

import hostile  # noqa: E402

from odfix.evidence import (  # noqa: E402
    aad_events,
    credentials,
    dsregcmd,
    network,
    office_identity,
    onedrive,
    regfile,
)
from odfix.evidence.common import ParseError, decode, iter_lines  # noqa: E402

MB = 1 << 20
SIZES = (1 * MB, 4 * MB, 16 * MB)
REPEAT = 3
ROUND_S = 0.2
TARGET = 2.2

CASES: tuple[tuple[str, Callable[[bytes], object], Callable[[int], str]], ...] = (
    ("dsregcmd: '|' + spaces", dsregcmd.parse, hostile.dsregcmd_header_spaces),
    ("dsregcmd: key + spaces, no colon", dsregcmd.parse, hostile.dsregcmd_field_spaces),
    ("dsregcmd: tiny field lines", dsregcmd.parse, hostile.dsregcmd_tiny_lines),
    ("cmdkey: Target + spaces", credentials.parse_cmdkey, hostile.cmdkey_field_spaces),
    ("cmdkey: many credentials", credentials.parse_cmdkey, hostile.cmdkey_many),
    ("credentials.json: one-line rows", credentials.parse_json, hostile.credentials_json_many),
    ("credentials.json: deep nesting", credentials.parse_json, hostile.json_deep),
    ("winhttp: proxy + spaces", network.parse_winhttp, hostile.winhttp_field_spaces),
    ("aad: '<?xml' repeated", aad_events.parse, hostile.xml_declarations),
    ("aad: nested <Event>", aad_events.parse, hostile.xml_nested_events),
    ("aad: tiny events", aad_events.parse, hostile.xml_tiny_events),
    ("aad: character references", aad_events.parse, hostile.xml_entity_text),
    ("aad: codes in one message", lambda data: aad_events.error_codes(decode(data)),
     hostile.error_code_list),
    (".reg: continued value", regfile.parse, hostile.reg_continuations),
    (".reg: office identity parents", office_identity.parse, hostile.reg_many_identity_parents),
    (".reg: onedrive continued value", onedrive.parse, hostile.reg_continuations),
)


def _quietly(parse: Callable[[bytes], object], data: bytes) -> None:
    with contextlib.suppress(ParseError):
        parse(data)


def _seconds(parse: Callable[[bytes], object], data: bytes) -> tuple[float, float]:
    """Best CPU and wall seconds per run over ``REPEAT`` rounds, each at least ``ROUND_S``."""
    best_cpu = best_wall = float("inf")
    for _ in range(REPEAT):
        gc.collect()
        runs, cpu, wall = 0, time.process_time(), time.perf_counter()
        while not runs or time.process_time() - cpu < ROUND_S:
            _quietly(parse, data)
            runs += 1
        best_cpu = min(best_cpu, (time.process_time() - cpu) / runs)
        best_wall = min(best_wall, (time.perf_counter() - wall) / runs)
    return best_cpu, best_wall


def _peak(parse: Callable[[bytes], object], data: bytes) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        _quietly(parse, data)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _baseline(data: bytes) -> None:
    for _ in iter_lines(data):
        pass


def _growth(values: list[float]) -> list[float]:
    """Growth per doubling between consecutive sizes (each step is a factor of 4)."""
    return [(b / a) ** 0.5 if a > 0 else float("inf") for a, b in itertools.pairwise(values)]


def main(argv: list[str]) -> int:
    sizes = SIZES[:2] if "--quick" in argv else SIZES
    worst_time = worst_memory = 0.0
    print(f"sizes: {', '.join(f'{s // MB} MB' for s in sizes)}; best of {REPEAT} rounds; "
          f"growth per doubling (2.0 = linear, target <= {TARGET})")
    print(f"{'case':36} {'cpu':>8} {'wall':>7} {'x base':>7} {'time/doubling':>15} "
          f"{'peak MB':>8} {'mem/doubling':>14}")
    chosen = [arg for arg in argv if not arg.startswith("--")]
    for name, parse, build in CASES:
        if chosen and not any(word in name for word in chosen):
            continue
        times, walls, peaks, bases = [], [], [], []
        for size in sizes:
            data = build(size).encode()
            cpu, wall = _seconds(parse, data)
            times.append(cpu)
            walls.append(wall)
            bases.append(_seconds(_baseline, data)[0])
            peaks.append(float(_peak(parse, data)))
        time_growth, memory_growth = _growth(times), _growth(peaks)
        worst_time = max(worst_time, *time_growth)
        worst_memory = max(worst_memory, *memory_growth)
        print(f"{name:36} {times[-1]:7.2f}s {walls[-1]:6.2f}s {times[-1] / bases[-1]:6.1f}x "
              f"{' '.join(f'{g:.2f}' for g in time_growth):>15} {peaks[-1] / MB:8.1f} "
              f"{' '.join(f'{g:.2f}' for g in memory_growth):>14}", flush=True)
    verdict = "met" if max(worst_time, worst_memory) <= TARGET else "NOT met"
    print(f"worst growth per doubling: time {worst_time:.2f}, memory {worst_memory:.2f} "
          f"(target <= {TARGET}: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

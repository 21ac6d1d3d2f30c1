"""dsregcmd /status and AAD Operational parsing speed, as ratios against plain decoding/XML.

Baselines measured in the same run: for dsregcmd, ``common.lines`` on the same capture (decode and
split only); for the AAD log, ``xml.etree.ElementTree.fromstring`` on the same 500 events (the
``/c:500`` cap of ``collect``) wrapped in a root.
"""

import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from odfix.evidence import aad_events, dsregcmd
from odfix.evidence.common import lines

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"


def best(job: Callable[[], object], repeat: int = 5, number: int = 20) -> float:
    """Best seconds per call over ``repeat`` rounds of ``number`` calls."""
    rounds = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            job()
        rounds.append((time.perf_counter() - start) / number)
    return min(rounds)


def main(argv: list[str]) -> int:
    capture = (FIXTURES / "dsregcmd" / "hybrid_prt_failure_learn.txt").read_bytes()
    parse = best(lambda: dsregcmd.parse(capture))
    base = best(lambda: lines(capture))
    print(f"dsregcmd.parse (108 lines): {parse * 1e3:.2f} ms, {parse / base:.0f}x lines()")

    events = (FIXTURES / "aad_events" / "wevtutil_recent.xml").read_text().splitlines()
    log = "\r\n".join(events[i % len(events)] for i in range(500))
    parsed = best(lambda: aad_events.parse(log), number=3)
    xml_base = best(lambda: ET.fromstring(f"<r>{log}</r>"), number=3)
    print(
        f"aad_events.parse (500 events, {len(log) // 1024} KiB): {parsed * 1e3:.1f} ms, "
        f"{parsed / xml_base:.1f}x ElementTree.fromstring"
    )
    return 0

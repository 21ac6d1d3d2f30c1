"""Reading and pseudonymizing a whole bundle, against reading its bytes without parsing.

Baseline, measured in the same run: opening the same zip and reading every member (what any
tool must do). Figures: ``bundle.load`` (all parsers, including dsregcmd and the AAD log) and
``pseudonymize`` of the same files, as milliseconds and as ratios to the baseline. A fleet check
loads one bundle per PC, so ``bundle.load`` should stay a small part of the 1 s ``diagnose``
budget.
"""

import statistics
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "fixtures" / "bundles" / "collected_pc0001.zip"
RUNS = 30


def _median_ms(job: Callable[[], object], runs: int) -> float:
    job()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        job()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _read_raw(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as opened:
        return {name: opened.read(name) for name in opened.namelist()}


def main(argv: list[str]) -> int:
    """Print the figures; ``argv`` may hold another bundle path and a run count."""
    from odfix.evidence import bundle
    from odfix.evidence.pseudonymize import pseudonymize

    path = Path(argv[0]) if argv else SAMPLE
    runs = int(argv[1]) if len(argv) > 1 else RUNS
    files = _read_raw(path)
    baseline = _median_ms(lambda: _read_raw(path), runs)
    load = _median_ms(lambda: bundle.load(path), runs)
    hide = _median_ms(lambda: pseudonymize(files, b"bench"), runs)
    size = sum(len(data) for data in files.values())
    print(f"bundle: {path.name} ({len(files)} files, {size / 1024:.0f} KiB), median of {runs}")
    print(f"baseline  read zip members      {baseline:8.2f} ms   1.0x")
    print(f"bundle.load (all parsers)       {load:8.2f} ms  {load / baseline:5.1f}x")
    print(f"pseudonymize (all files)        {hide:8.2f} ms  {hide / baseline:5.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

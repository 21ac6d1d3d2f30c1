"""Whole-process time of ``odfix diagnose`` on a sample folder against two baselines.

Baselines measured in the same run: ``python -c pass`` (interpreter start) and ``odfix --version``
(the CLI's own start). The budget (issue 3) is 1 s for the whole ``odfix diagnose`` process.
Wall-clock time swings with other load on the machine, so the CPU time (user + system) the
process used is printed too; it barely moves with load.
"""

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "fixtures" / "scenarios" / "connectivity-tls"
FLEET = [ROOT / "tests" / "fixtures" / "scenarios" / "cloned-image" / pc for pc in ("pc-a", "pc-b")]
BUDGET_S = 1.0
RUNS = 9


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time(argv: list[str]) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of ``RUNS`` runs (after one warm-up run)."""
    subprocess.run(argv, capture_output=True, check=False)
    wall, cpu = [], []
    for _ in range(RUNS):
        start, used = time.perf_counter(), _cpu()
        subprocess.run(argv, capture_output=True, check=False)
        wall.append(time.perf_counter() - start)
        cpu.append(_cpu() - used)
    return wall, cpu


def main(argv: list[str]) -> int:
    """Print median/min seconds and ratios; exit 1 when the median is over budget."""
    odfix = [sys.executable, "-m", "odfix"]
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "odfix --version": [*odfix, "--version"],
        "odfix diagnose (human)": [*odfix, "diagnose", str(SAMPLE), "--error-code", "0x8004de40"],
        "odfix diagnose --json": [*odfix, "diagnose", str(SAMPLE), "--json"],
        "odfix diagnose 2 PCs --json": [*odfix, "diagnose", *map(str, FLEET), "--json"],
    }
    medians: dict[str, float] = {}
    print(f"{'case':30} {'median s':>8} {'min s':>6} {'cpu s':>6} {'x pass':>7} "
          f"{'x --version':>11}")
    for name, command in cases.items():
        wall, cpu = _time(command)
        medians[name] = statistics.median(wall)
        base = medians.get("python -c pass", medians[name])
        version = medians.get("odfix --version", medians[name])
        print(f"{name:30} {medians[name]:8.3f} {min(wall):6.3f} {statistics.median(cpu):6.3f} "
              f"{medians[name] / base:7.1f} {medians[name] / version:11.2f}")
    worst = max(v for k, v in medians.items() if k.startswith("odfix diagnose"))
    verdict = "within" if worst <= BUDGET_S else "OVER"
    print(f"slowest diagnose median {worst:.3f} s: {verdict} the {BUDGET_S:g} s budget "
          f"(load average {' '.join(f'{x:.1f}' for x in os.getloadavg())})")
    return 0 if worst <= BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The Windows build: zip size, build time, and odfix.exe's start-up under Wine.

``python3 dev.py bench winbuild [--rebuild]`` builds (or takes from the cache) the zip, unpacks
it into a fresh Wine prefix and measures, as five alternating pairs in one run:

- baseline: ``wine cmd.exe /c exit 0`` — starting the smallest Windows program Wine has;
- subject: ``wine odfix.exe --version`` — the launcher, the embedded CPython and odfix's CLI.

The first subject run is the cold start (nothing of odfix read before in this prefix; the OS page
cache may still hold the files); the ratio is the median of the pairs' ratios. Build time is
the last uncached build's (``--rebuild`` builds afresh now). Figures: docs/performance.md.
"""

import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PAIRS = 5


def _build_module() -> Any:
    spec = importlib.util.spec_from_file_location("odfix_build_windows",
                                                  REPO / "scripts" / "windows" / "build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _timed(argv: list[str], env: dict[str, str]) -> float:
    """Seconds until the program exits. Its output goes to pipes (a Windows CPython cannot
    start on a file handle under Wine), and only the process is waited for: Wine's desktop
    process inherits the pipes and lives as long as the persistent wineserver."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    code = proc.wait(timeout=300)
    elapsed = time.perf_counter() - started
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    if code != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {code}")
    return elapsed


def main(argv: list[str]) -> int:
    build = _build_module()
    with tempfile.TemporaryDirectory(prefix="odfix-bench-winbuild-") as scratch:
        base = Path(scratch)
        started = time.perf_counter()
        built = build.build(base / "dist", use_cache="--rebuild" not in argv)
        if not built.cached:
            print(f"build: {time.perf_counter() - started:.1f} s (uncached, now)")
        else:
            info = build.cache_root() / built.digest / "build.json"
            print(f"build: {info.read_text().strip() if info.exists() else '?'} (cached; "
                  "--rebuild to measure now)")
        size = built.zip.stat().st_size
        with zipfile.ZipFile(built.zip) as archive:
            unpacked = sum(i.file_size for i in archive.infolist())
            files = len(archive.infolist())
            archive.extractall(base / "odfix")
        print(f"zip: {size / 1e6:.1f} MB ({files} files, {unpacked / 1e6:.1f} MB unpacked)")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "WINE"))}
        env.update(WINEPREFIX=str(base / "prefix"), WINEARCH="win64", WINEDEBUG="-all",
                   WINEDLLOVERRIDES="mscoree,mshtml=")
        subprocess.run(["wineboot", "--init"], env=env, capture_output=True, check=True,
                       stdin=subprocess.DEVNULL, timeout=600)
        subprocess.run(["wineserver", "-p", "60"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            baseline_argv = ["wine", "cmd.exe", "/c", "exit", "0"]
            subject_argv = ["wine", str(base / "odfix" / "odfix.exe"), "--version"]
            _timed(baseline_argv, env)  # Wine's own first start, not odfix's
            cold = _timed(subject_argv, env)
            pairs = []
            for number in range(PAIRS):
                order = (baseline_argv, subject_argv) if number % 2 else (subject_argv,
                                                                           baseline_argv)
                times = {tuple(a): _timed(a, env) for a in order}
                pairs.append((times[tuple(baseline_argv)], times[tuple(subject_argv)]))
        finally:
            subprocess.run(["wineserver", "-k"], env=env, check=False)
    ratios = [subject / baseline for baseline, subject in pairs]
    print(f"odfix.exe --version under Wine: cold {cold:.2f} s; warm median "
          f"{statistics.median(s for _, s in pairs):.2f} s, best {min(s for _, s in pairs):.2f} s")
    print(f"baseline cmd.exe /c exit: median {statistics.median(b for b, _ in pairs):.2f} s")
    print(f"ratio odfix.exe / cmd.exe (median of {PAIRS} pairs): {statistics.median(ratios):.2f}x")
    linux = [_timed([sys.executable, "-m", "odfix", "--version"], dict(os.environ))
             for _ in range(3)]
    print(f"for reference, odfix --version on Linux (this venv): best {min(linux):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

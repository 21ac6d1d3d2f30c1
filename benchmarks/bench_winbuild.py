"""The Windows build: zip size, build time, and odfix.exe's start-up under Wine.

``python3 dev.py bench winbuild [--rebuild]`` builds (or takes from the cache) the zip, unpacks
it into a fresh Wine prefix and measures, as five alternating pairs in one run:

- ``wine cmd.exe /c exit 0`` — starting the smallest Windows program Wine has;
- baseline: ``wine runtime\\python.exe -c pass`` — the same embedded CPython doing nothing
  (python.exe is put beside it for the benchmark only; the build ships none);
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
        with build.embed_zip(build.cache_root() / "downloads") as embed:
            (base / "odfix" / "runtime" / "python.exe").write_bytes(
                embed.read(f"{build.PY_TAG}/python.exe"))
        print(f"zip: {size / 1e6:.1f} MB ({files} files, {unpacked / 1e6:.1f} MB unpacked)")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "WINE"))}
        env.update(WINEPREFIX=str(base / "prefix"), WINEARCH="win64", WINEDEBUG="-all",
                   WINEDLLOVERRIDES="mscoree,mshtml=")
        subprocess.run(["wineboot", "--init"], env=env, capture_output=True, check=True,
                       stdin=subprocess.DEVNULL, timeout=600)
        subprocess.run(["wineserver", "-p", "60"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wine_argv = ["wine", "cmd.exe", "/c", "exit", "0"]
            baseline_argv = ["wine", str(base / "odfix" / "runtime" / "python.exe"), "-c",
                             "pass"]
            subject_argv = ["wine", str(base / "odfix" / "odfix.exe"), "--version"]
            _timed(wine_argv, env)  # Wine's own first start, not odfix's
            cold = _timed(subject_argv, env)
            rows = []
            for number in range(PAIRS):
                jobs = [wine_argv, baseline_argv, subject_argv]
                times = {tuple(a): _timed(a, env) for a in (jobs if number % 2 else jobs[::-1])}
                rows.append([times[tuple(a)] for a in jobs])
        finally:
            subprocess.run(["wineserver", "-k"], env=env, check=False)
    med = [statistics.median(row[i] for row in rows) for i in range(3)]
    print(f"odfix.exe --version under Wine: cold {cold:.2f} s; warm median {med[2]:.2f} s, "
          f"best {min(row[2] for row in rows):.2f} s")
    print(f"baseline python.exe -c pass (same runtime): median {med[1]:.2f} s; "
          f"cmd.exe /c exit: median {med[0]:.2f} s")
    print(f"ratio odfix.exe / python -c pass (median of {PAIRS} runs' ratios): "
          f"{statistics.median(row[2] / row[1] for row in rows):.2f}x; odfix.exe adds "
          f"{statistics.median(row[2] - row[1] for row in rows):.2f} s")
    linux = [_timed([sys.executable, "-m", "odfix", "--version"], dict(os.environ))
             for _ in range(3)]
    print(f"for reference, odfix --version on Linux (this venv): best {min(linux):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Bootstrap and run odfix's everyday jobs with nothing but Python 3.11+.

    python3 dev.py demo [ARGS...]   run the main job on the built-in sample
    python3 dev.py test [ARGS...]   ruff, mypy and the whole pytest suite (ARGS go to pytest)
    python3 dev.py odfix ARGS...    run any odfix command inside the project's environment
    python3 dev.py bench [NAME]     run the committed benchmarks
    python3 dev.py build-windows [--sign CERT.pfx]
                                    dist/odfix-<version>-win-amd64.zip (scripts/windows/build.py)

The first run creates ``.venv`` and installs odfix with its dev extras; later runs reinstall only
when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".odfix-installed"


def bootstrap() -> None:
    """Create .venv and install odfix[dev] when missing or when pyproject.toml changed."""
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == want and PY.exists():
        return
    if not PY.exists():
        print("dev.py: creating .venv", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("dev.py: installing odfix and its dev tools into .venv", file=sys.stderr)
    pip = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(want)


def run(*argv: str) -> int:
    return subprocess.run(list(argv), cwd=ROOT).returncode


def test(pytest_args: list[str]) -> int:
    steps = [
        [str(PY), "-m", "ruff", "check", "src", "tests", "benchmarks", "scripts", "dev.py"],
        [str(PY), "-m", "mypy"],
        [str(PY), "-m", "pytest", *pytest_args],
    ]
    for step in steps:
        print("dev.py: $", " ".join(Path(step[0]).name if i == 0 else a
                                      for i, a in enumerate(step)), file=sys.stderr)
        code = run(*step)
        if code != 0:
            return code
    return 0


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in {"demo", "test", "odfix", "bench",
                                                     "build-windows"}:
        print(__doc__, file=sys.stderr)
        return 2
    job, rest = sys.argv[1], sys.argv[2:]
    bootstrap()
    if job == "test":
        return test(rest)
    if job == "demo":
        return run(str(PY), "-m", "odfix", "demo", *rest)
    if job == "bench":
        return run(str(PY), str(ROOT / "benchmarks" / "run.py"), *rest)
    if job == "build-windows":
        return run(str(PY), str(ROOT / "scripts" / "windows" / "build.py"), *rest)
    return run(str(PY), "-m", "odfix", *rest)


if __name__ == "__main__":
    sys.exit(main())

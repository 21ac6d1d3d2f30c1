"""Test 4: the Windows host against real Windows APIs, run by a Windows CPython under Wine.

Skipped with a message when Wine is absent locally; fails when ``CI=true`` and Wine is absent,
because CI installs it (.ci/run) and this test must never be skipped there.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUN = REPO / "scripts" / "wine" / "run-tests.sh"
MIN_INSIDE_TESTS = 84


@pytest.mark.wine
@pytest.mark.slow
def test_windows_host_suite_passes_under_wine() -> None:
    if shutil.which("wine") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but Wine is missing: .ci/run must install wine and wine64")
        pytest.skip("Wine is not installed, so the Windows-host tests (tests/windows/inside) "
                    "cannot run; apt-get install wine wine64, then bash scripts/wine/run-tests.sh")
    env = {**os.environ, "ODFIX_HOST_PYTHON": sys.executable}
    done = subprocess.run(["bash", str(RUN)], capture_output=True, text=True, timeout=900,
                          stdin=subprocess.DEVNULL, env=env, check=False)
    report = f"--- stdout ---\n{done.stdout[-12000:]}\n--- stderr ---\n{done.stderr[-6000:]}"
    assert done.returncode == 0, report
    summary = re.search(r"(\d+) passed(?:, (\d+) \w+)*", done.stdout)
    assert summary is not None, report
    assert int(summary.group(1)) >= MIN_INSIDE_TESTS, report
    assert not re.search(r"\d+ (failed|skipped|error)", done.stdout), report

"""odfix's own command line on the Windows CPython: collect and fix on the real (Wine) host."""

import json
import os
import subprocess
import sys
import winreg
from pathlib import Path

import pytest

from .conftest import delete_tree


def odfix(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """``python -m odfix ARGS`` with its output piped, as Intune or a help-desk script runs it."""
    env = {**os.environ, "ODFIX_DATA_DIR": str(data_dir)}
    env.pop("PYTHONIOENCODING", None)
    return subprocess.run([sys.executable, "-m", "odfix", *args], capture_output=True,
                          text=True, encoding="utf-8", errors="replace", env=env,
                          stdin=subprocess.DEVNULL, check=False, timeout=120)


@pytest.fixture(autouse=True)
def _no_onedrive_accounts() -> None:
    delete_tree(winreg.HKEY_CURRENT_USER, r"Software\Microsoft\OneDrive\Accounts")


def test_collect_writes_a_bundle_and_one_json_document(tmp_path: Path) -> None:
    bundle = tmp_path / "pc.zip"
    done = odfix("collect", "--out", str(bundle), "--json", data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert Path(report["bundle"]) == bundle and bundle.is_file()
    status = {run["name"]: run for run in report["collectors"]}
    assert status["credentials"]["status"] == "ok"
    assert status["dsregcmd"]["status"] == "failed"  # Wine has no dsregcmd.exe
    assert "9009" in status["dsregcmd"]["reason"]


def test_fix_dry_run_prints_one_short_json_line(tmp_path: Path) -> None:
    done = odfix("fix", "--json", data_dir=tmp_path)
    assert done.returncode in (0, 1), done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and len(lines[0]) <= 2048
    assert json.loads(lines[0])["applied"] is False


def test_help_renders_on_the_default_pipe(tmp_path: Path) -> None:
    # A pipe defaults to the ANSI code page (cp1252); odfix switches its streams to UTF-8 so Rich
    # can print the help text's "→" instead of failing with UnicodeEncodeError.
    done = odfix("--help", data_dir=tmp_path)
    assert done.returncode == 0, done.stderr[-500:]
    assert "Usage" in done.stdout and "collect" in done.stdout and "fix" in done.stdout
    assert "→" in done.stdout

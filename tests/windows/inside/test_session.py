"""Context, RunOnce resume, reboot, opening pages, clock."""

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from odfix.errors import FixFailed, WrongContext
from odfix.hosts.base import Context, Host
from odfix.hosts.win_context import detect_context
from odfix.hosts.windows import REBOOT_MESSAGE, RESUME_VALUE, RUNONCE_KEY, WindowsHost

from .conftest import make_cmd, reg_exe, wait_until


def test_windows_host_satisfies_the_protocol(host: WindowsHost) -> None:
    assert isinstance(host, Host)


def test_wine_gives_an_elevated_non_system_token(host: WindowsHost) -> None:
    assert detect_context() is Context.ELEVATED
    assert host.context() is Context.ELEVATED


def test_schedule_and_cancel_resume(host: WindowsHost) -> None:
    argv = [r"C:\Program Files\odfix\odfix.exe", "fix", "--resume"]
    host.schedule_resume(argv)
    try:
        value = host.read_registry(RUNONCE_KEY, RESUME_VALUE)
        assert value is not None and value.kind == "REG_SZ"
        assert value.data == r'"C:\Program Files\odfix\odfix.exe" fix --resume'
        query = reg_exe("query", RUNONCE_KEY, "/v", RESUME_VALUE)
        assert r'"C:\Program Files\odfix\odfix.exe" fix --resume' in query.stdout
    finally:
        host.cancel_resume()
    assert host.read_registry(RUNONCE_KEY, RESUME_VALUE) is None
    host.cancel_resume()
    with pytest.raises(WrongContext):
        WindowsHost(context_probe=lambda: Context.SYSTEM).schedule_resume(argv)


def test_a_resume_command_runonce_would_not_run_is_refused(host: WindowsHost) -> None:
    with pytest.raises(FixFailed, match="RunOnce runs only up to 260"):
        host.schedule_resume(["C:\\" + "x" * 250 + "\\odfix.exe", "fix", "--resume"])
    assert host.read_registry(RUNONCE_KEY, RESUME_VALUE) is None


def test_reboot_runs_shutdown_with_delay_and_message(tmp_path: Path) -> None:
    log = tmp_path / "args.txt"
    script = make_cmd(tmp_path / "shutdown.cmd", f'echo %* > "{log}"')
    WindowsHost(commands={"shutdown": str(script)}, reboot_delay=30).reboot()
    assert log.read_text().strip() == f'/r /t 30 /c "{REBOOT_MESSAGE}"'
    failing = make_cmd(tmp_path / "fail" / "shutdown.cmd", "echo Access is denied.\nexit /b 5")
    with pytest.raises(FixFailed, match="exit 5: Access is denied"):
        WindowsHost(commands={"shutdown": str(failing)}).reboot()


def test_open_uri_goes_through_the_shell(tmp_path: Path, host: WindowsHost) -> None:
    out = tmp_path / "opened.txt"
    handler = tmp_path / "handler.py"
    handler.write_text(f"import sys, pathlib\npathlib.Path({str(out)!r}).write_text(sys.argv[1])\n")
    # Wine's ShellExecute looks only in HKCR (not HKCU\Software\Classes), so register there.
    scheme = r"HKCR\odfix-test"
    reg_exe("add", scheme, "/ve", "/d", "URL:odfix test", "/f")
    reg_exe("add", scheme, "/v", "URL Protocol", "/d", "", "/f")
    command = subprocess.list2cmdline([sys.executable, str(handler)]) + ' "%1"'
    reg_exe("add", scheme + r"\shell\open\command", "/ve", "/d", command, "/f")
    try:
        host.open_uri("odfix-test:workplace")
        assert wait_until(out.exists), "the registered handler never ran"
        assert wait_until(lambda: out.read_text() == "odfix-test:workplace")
    finally:
        reg_exe("delete", scheme, "/f")
    with pytest.raises(WrongContext):
        WindowsHost(context_probe=lambda: Context.SYSTEM).open_uri("ms-settings:workplace")


def test_clock_is_utc_and_sleep_blocks(host: WindowsHost) -> None:
    now = host.now()
    assert now.tzinfo is UTC and abs((datetime.now(UTC) - now).total_seconds()) < 5
    started = time.monotonic()
    host.sleep(0.3)
    assert time.monotonic() - started >= 0.29
    assert host.hostname()

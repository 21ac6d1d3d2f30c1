"""Process start/stop with stand-in OneDrive.exe programs, and where OneDrive is looked for."""

import os
import time
from pathlib import Path

import pytest

from odfix.hosts.base import RegValue
from odfix.hosts.windows import MACHINE_ONEDRIVE_KEYS, WindowsHost

from .conftest import wait_until
from .standin import make_standin


def is_up(exe: Path, argument: str = "") -> bool:
    """Whether the stand-in's program (not only its launcher) is up: it logged its arguments."""
    log = exe.with_name("calls.log")
    return wait_until(lambda: log.exists() and argument in log.read_text().splitlines())


def onedrive_host(local: Path, honours_shutdown: bool) -> tuple[WindowsHost, Path]:
    exe = make_standin(local / "Microsoft" / "OneDrive", "OneDrive.exe", honours_shutdown)
    return WindowsHost(local_appdata=str(local), program_files=[], poll_interval=0.1), exe


def test_graceful_shutdown(tmp_path: Path) -> None:
    host, exe = onedrive_host(tmp_path, honours_shutdown=True)
    assert host.find_onedrive() == str(exe)
    assert not host.is_running("OneDrive.exe")
    host.start(str(exe), ["/background"])
    assert is_up(exe, "/background") and host.is_running("onedrive.exe")
    began = time.monotonic()
    assert host.stop("OneDrive.exe", timeout=10) is True
    assert time.monotonic() - began < 8
    assert not host.is_running("OneDrive.exe")
    calls = exe.with_name("calls.log").read_text().splitlines()
    assert calls == ["/background", "/shutdown"]


def test_kill_fallback_when_shutdown_is_ignored(tmp_path: Path) -> None:
    host, exe = onedrive_host(tmp_path, honours_shutdown=False)
    host.start(str(exe))
    assert is_up(exe) and host.is_running("OneDrive.exe")
    began = time.monotonic()
    assert host.stop("OneDrive.exe", timeout=1.5) is True
    elapsed = time.monotonic() - began
    assert 1.5 <= elapsed < 10
    assert not host.is_running("OneDrive.exe")


def test_kill_fallback_when_the_installed_onedrive_cannot_start(tmp_path: Path) -> None:
    running = make_standin(tmp_path / "old", "OneDrive.exe")
    host, installed = onedrive_host(tmp_path / "local", honours_shutdown=True)
    installed.write_bytes(b"not a program")  # a half-written update
    host.start(str(running))
    assert is_up(running) and host.is_running("OneDrive.exe")
    assert host.stop("OneDrive.exe", timeout=1) is True
    assert not host.is_running("OneDrive.exe")


def test_stop_of_a_program_that_is_not_running(host: WindowsHost) -> None:
    assert host.stop("NotRunning.exe", timeout=1) is True


def test_other_images_are_asked_with_taskkill_then_killed(tmp_path: Path,
                                                          host: WindowsHost) -> None:
    exe = make_standin(tmp_path, "Teams.exe", honours_shutdown=False)
    host.start(str(exe))
    assert is_up(exe) and host.is_running("Teams.exe")
    assert host.stop("Teams.exe", timeout=1) is True
    assert not host.is_running("Teams.exe")


@pytest.fixture
def machine_trigger(tmp_path: Path) -> Path:
    exe = make_standin(tmp_path / "machine", "OneDrive.exe")
    key = MACHINE_ONEDRIVE_KEYS[0]
    host = WindowsHost()
    host.write_registry(key, RegValue(name="OneDriveTrigger", kind="REG_SZ", data=str(exe)))
    yield exe
    host.delete_registry_value(key, "OneDriveTrigger")


def test_find_onedrive_order(tmp_path: Path, machine_trigger: Path) -> None:
    local = tmp_path / "local"
    program_files = tmp_path / "pf"
    program_files_exe = make_standin(program_files / "Microsoft OneDrive", "OneDrive.exe")
    host = WindowsHost(local_appdata=str(local), program_files=[str(program_files)])
    assert host.find_onedrive() == str(machine_trigger)
    per_user = make_standin(local / "Microsoft" / "OneDrive", "OneDrive.exe")
    assert host.find_onedrive() == str(per_user)
    machine_trigger.unlink()
    per_user.unlink()
    assert host.find_onedrive() == str(program_files_exe)
    program_files_exe.unlink()
    assert host.find_onedrive() is None


def test_find_onedrive_defaults_to_the_real_locations() -> None:
    expected = Path(os.environ["LOCALAPPDATA"], "Microsoft", "OneDrive", "OneDrive.exe")
    assert not expected.exists()
    assert WindowsHost().find_onedrive() is None

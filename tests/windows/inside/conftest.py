"""Fixtures for the Windows-host tests that run inside Wine against real advapi32 and the registry.

They write credentials and registry values, so they refuse to run anywhere but a Wine prefix.
"""

import ctypes
import subprocess
import time
import uuid
import winreg
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from odfix.hosts.windows import WindowsHost

REPO = Path(__file__).resolve().parents[3]
TEST_ROOT = r"Software\odfix-tests"


def _under_wine() -> bool:
    ntdll = ctypes.CDLL("ntdll")
    return hasattr(ntdll, "wine_get_version")


@pytest.fixture(autouse=True)
def _only_in_wine() -> None:
    if not _under_wine():
        pytest.skip("these tests change credentials and the registry: they run only in the "
                    "odfix Wine prefix (bash scripts/wine/run-tests.sh)")


@pytest.fixture
def host() -> WindowsHost:
    return WindowsHost(poll_interval=0.1)


@pytest.fixture
def tag() -> str:
    """A unique marker so tests never see each other's credentials or keys."""
    return uuid.uuid4().hex[:10]


def delete_tree(root: int, path: str) -> None:
    """Remove a key with all its subkeys (absent: nothing to do)."""
    try:
        with winreg.OpenKey(root, path, 0, winreg.KEY_ALL_ACCESS) as key:
            while True:
                try:
                    child = winreg.EnumKey(key, 0)
                except OSError:
                    break
                delete_tree(root, f"{path}\\{child}")
    except FileNotFoundError:
        return
    winreg.DeleteKey(root, path)


@pytest.fixture
def user_key(tag: str) -> Iterator[str]:
    """A fresh HKCU key (reg.exe spelling), removed with its subkeys afterwards."""
    path = f"{TEST_ROOT}\\{tag}"
    yield f"HKCU\\{path}"
    delete_tree(winreg.HKEY_CURRENT_USER, path)


def wait_until(check: Callable[[], bool], timeout: float = 15.0) -> bool:
    """Poll ``check`` every 0.1 s until it holds or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def make_cmd(path: Path, body: str) -> Path:
    """A .cmd stand-in (CRLF line endings as cmd.exe expects)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("@echo off\r\n" + body.strip().replace("\n", "\r\n") + "\r\n").encode())
    return path


def reg_exe(*args: str) -> subprocess.CompletedProcess[str]:
    """Wine's own reg.exe, to check the host agrees with it."""
    return subprocess.run(["reg", *args], capture_output=True, text=True, check=False)

"""Absolute paths for the programs odfix runs, so CreateProcess never searches for them.

CreateProcess looks for a bare program name in the application's folder and the current folder
before System32, so a ``dsregcmd.exe`` dropped into either would run instead of Windows' own.
Every system program is therefore run by its full path, built from the system folder the API
reports (``GetSystemDirectoryW``; never a hard-coded ``C:``); a 32-bit odfix on 64-bit Windows
uses ``Sysnative``, the 64-bit System32 that WOW64 would otherwise redirect away from.
"""

import ctypes
import os
import sys
from pathlib import PureWindowsPath

from odfix.errors import FixFailed

SYSTEM_PROGRAMS = frozenset({"dsregcmd", "netsh", "cmdkey", "wevtutil", "reg", "taskkill",
                             "shutdown", "cmd", "certutil", "whoami"})
"""Programs of Windows itself; anything else must be given by a full path."""


def _api_folder(name: str) -> str:
    kernel32 = ctypes.CDLL("kernel32", use_last_error=True)
    function = getattr(kernel32, name)
    buffer = ctypes.create_unicode_buffer(1024)
    length = function(buffer, len(buffer))
    if not 0 < length < len(buffer):
        raise FixFailed(f"{name} failed (error {ctypes.get_last_error()})")  # type: ignore[attr-defined]
    return buffer.value


def system_folder() -> str:
    """The 64-bit System32 folder, from the API (``Sysnative`` from a 32-bit process)."""
    if sys.maxsize <= 2**32 and os.environ.get("PROCESSOR_ARCHITEW6432"):
        return str(PureWindowsPath(_api_folder("GetWindowsDirectoryW"), "Sysnative"))
    return _api_folder("GetSystemDirectoryW")


def resolve(program: str, system: str) -> str:
    """The full path to run for ``program``: a system program in ``system``, else the path
    given, which must be absolute (``FixFailed`` for any other bare name)."""
    path = PureWindowsPath(program)
    if path.is_absolute():
        return program
    stem = path.name.casefold().removesuffix(".exe")
    if not any(sep in program for sep in "\\/:") and stem in SYSTEM_PROGRAMS:
        return str(PureWindowsPath(system, f"{stem}.exe"))
    raise FixFailed(f"odfix runs programs only by their full path; {program!r} is not one")

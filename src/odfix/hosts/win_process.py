"""Processes of this Windows session: a Toolhelp snapshot through ctypes, kill by PID.

A snapshot is cheaper than running ``tasklist`` and does not depend on its output (Wine's
``tasklist /FO CSV`` prints nothing). Only processes in the caller's session count, so a
terminal-server host never sees, or kills, another user's OneDrive.
"""

import contextlib
import ctypes
import importlib
import subprocess
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import IO, Any

_TH32CS_SNAPPROCESS = 0x2
_INVALID_HANDLE = ctypes.c_void_p(-1).value
_MAX_PATH = 260
_PROCESS_TERMINATE = 0x0001
_PROCESS_SET_QUOTA = 0x0100
_PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
_PIPE_GRACE_S = 2.0


class _ProcessEntry(ctypes.Structure):
    """``PROCESSENTRY32W`` from tlhelp32.h."""

    _fields_ = (
        ("dwSize", ctypes.c_uint32),
        ("cntUsage", ctypes.c_uint32),
        ("th32ProcessID", ctypes.c_uint32),
        ("th32DefaultHeapID", ctypes.c_size_t),
        ("th32ModuleID", ctypes.c_uint32),
        ("cntThreads", ctypes.c_uint32),
        ("th32ParentProcessID", ctypes.c_uint32),
        ("pcPriClassBase", ctypes.c_long),
        ("dwFlags", ctypes.c_uint32),
        ("szExeFile", ctypes.c_wchar * _MAX_PATH),
    )


def _kernel32() -> Any:
    kernel32 = ctypes.CDLL("kernel32", use_last_error=True)
    kernel32.CreateToolhelp32Snapshot.restype = ctypes.c_void_p
    kernel32.CreateToolhelp32Snapshot.argtypes = (ctypes.c_uint32, ctypes.c_uint32)
    entry_ptr = ctypes.POINTER(_ProcessEntry)
    kernel32.Process32FirstW.argtypes = (ctypes.c_void_p, entry_ptr)
    kernel32.Process32NextW.argtypes = (ctypes.c_void_p, entry_ptr)
    kernel32.CloseHandle.argtypes = (ctypes.c_void_p,)
    kernel32.ProcessIdToSessionId.argtypes = (ctypes.c_uint32, ctypes.POINTER(ctypes.c_uint32))
    kernel32.GetCurrentProcessId.restype = ctypes.c_uint32
    return kernel32


def _session(kernel32: Any, pid: int) -> int | None:
    session = ctypes.c_uint32()
    if not kernel32.ProcessIdToSessionId(pid, ctypes.byref(session)):
        return None
    return session.value


def pids(image: str) -> list[int]:
    """PIDs of processes named ``image`` (case-insensitive) in the caller's session."""
    kernel32 = _kernel32()
    snapshot = kernel32.CreateToolhelp32Snapshot(_TH32CS_SNAPPROCESS, 0)
    if snapshot in (None, _INVALID_HANDLE):
        raise OSError("CreateToolhelp32Snapshot failed")
    own = _session(kernel32, kernel32.GetCurrentProcessId())
    wanted = image.casefold()
    found: list[int] = []
    try:
        entry = _ProcessEntry()
        entry.dwSize = ctypes.sizeof(_ProcessEntry)
        more = kernel32.Process32FirstW(snapshot, ctypes.byref(entry))
        while more:
            pid = int(entry.th32ProcessID)
            if entry.szExeFile.casefold() == wanted and _session(kernel32, pid) == own:
                found.append(pid)
            more = kernel32.Process32NextW(snapshot, ctypes.byref(entry))
    finally:
        kernel32.CloseHandle(snapshot)
    return found


def started(pid: int) -> datetime | None:
    """When process ``pid`` started (UTC), or None when it cannot be opened (gone, protected)."""
    kernel32 = ctypes.CDLL("kernel32", use_last_error=True)
    kernel32.OpenProcess.restype = ctypes.c_void_p
    kernel32.OpenProcess.argtypes = (ctypes.c_uint32, ctypes.c_int, ctypes.c_uint32)
    kernel32.CloseHandle.argtypes = (ctypes.c_void_p,)
    handle = kernel32.OpenProcess(_PROCESS_QUERY_LIMITED_INFORMATION, 0, pid)
    if not handle:
        return None
    try:
        times = [ctypes.c_uint64() for _ in range(4)]  # creation, exit, kernel, user
        if not kernel32.GetProcessTimes(ctypes.c_void_p(handle),
                                        *(ctypes.byref(t) for t in times)):
            return None
        return _FILETIME_EPOCH + timedelta(microseconds=times[0].value // 10)
    finally:
        kernel32.CloseHandle(handle)


def boot_time() -> datetime:
    """When Windows started: now minus the milliseconds since boot (``GetTickCount64``)."""
    kernel32 = ctypes.CDLL("kernel32")
    kernel32.GetTickCount64.restype = ctypes.c_uint64
    return datetime.now(UTC) - timedelta(milliseconds=kernel32.GetTickCount64())


def run_bounded(args: Sequence[str], timeout: float,
                creationflags: int) -> tuple[int, bytes, bytes]:
    """Run until the program exits and capture its output; raise ``subprocess.TimeoutExpired``
    after ``timeout`` s, once the program and everything it started are ended.

    The program runs in a job object, so a timeout ends its children too. Output is read by two
    threads; once the program has exited they get ``_PIPE_GRACE_S`` to finish, because a program
    it started in the background (``OneDrive.exe /reset`` restarting OneDrive, ``start /b``) may
    hold the pipes open for as long as it runs. Without a timeout nothing in the job is killed.
    """
    win32api = importlib.import_module("win32api")
    win32job = importlib.import_module("win32job")
    api_error = importlib.import_module("pywintypes").error
    job = win32job.CreateJobObject(None, "")
    proc = subprocess.Popen(list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, creationflags=creationflags)
    try:
        handle = win32api.OpenProcess(_PROCESS_TERMINATE | _PROCESS_SET_QUOTA, False, proc.pid)
        # If it already ended, or may not join a job, a timeout ends the program alone.
        with contextlib.suppress(api_error):
            win32job.AssignProcessToJobObject(job, handle)
        handle.Close()
        out: list[bytes] = []
        err: list[bytes] = []
        readers = [threading.Thread(target=_drain, args=(stream, sink), daemon=True)
                   for stream, sink in ((proc.stdout, out), (proc.stderr, err))]
        for reader in readers:
            reader.start()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            win32job.TerminateJobObject(job, 1)
            proc.kill()
            proc.wait()
            raise
        for reader in readers:
            reader.join(_PIPE_GRACE_S)
        return proc.returncode, b"".join(out), b"".join(err)
    finally:
        job.Close()


def _drain(stream: IO[bytes] | None, sink: list[bytes]) -> None:
    """Read a pipe to its end into ``sink``; what is read before a give-up is kept."""
    if stream is None:
        return
    with stream:
        while chunk := stream.read1(65536):  # type: ignore[attr-defined]
            sink.append(chunk)

"""Credential Manager: enumerate metadata by prefix (advapi32 through ctypes), delete by
(target, type) (pywin32 ``win32cred``).

Secrets stay out of every structure odfix keeps. Enumeration declares ``CREDENTIALW``'s
``CredentialBlob`` as an opaque pointer and never follows it (pywin32's ``CredEnumerate`` would
copy every blob into a Python dict first); only target, type, persistence, user name, comment
and last-written time are copied out, and the block is freed with ``CredFree``. Enumeration uses
a ``prefix*`` filter and never ``CRED_ENUMERATE_ALL_CREDENTIALS`` (Wine lacks it, and it renames
targets to ``namespace:target=X``).
"""

import ctypes
import importlib
from datetime import UTC, datetime, timedelta
from typing import Any

from odfix.errors import FixFailed, WrongContext
from odfix.hosts.base import StoredCredential

ERROR_NOT_FOUND = 1168
ERROR_NO_SUCH_LOGON_SESSION = 1312
NO_SESSION_MESSAGE = "no logon session credential set (SYSTEM or network logon)"
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)


class _Credential(ctypes.Structure):
    """``CREDENTIALW`` (wincred.h); the secret's two fields are opaque and never read."""

    _fields_ = (
        ("Flags", ctypes.c_uint32),
        ("Type", ctypes.c_uint32),
        ("TargetName", ctypes.c_wchar_p),
        ("Comment", ctypes.c_wchar_p),
        ("LastWritten", ctypes.c_uint64),  # FILETIME: two DWORDs, 100 ns since 1601 UTC
        ("_secret_size", ctypes.c_uint32),
        ("_secret", ctypes.c_void_p),
        ("Persist", ctypes.c_uint32),
        ("AttributeCount", ctypes.c_uint32),
        ("Attributes", ctypes.c_void_p),
        ("TargetAlias", ctypes.c_wchar_p),
        ("UserName", ctypes.c_wchar_p),
    )


def _utc(filetime: int) -> datetime | None:
    return _FILETIME_EPOCH + timedelta(microseconds=filetime // 10) if filetime else None


def describe(cred: _Credential) -> StoredCredential:
    """Metadata of one credential; the secret is left where it is."""
    return StoredCredential(target=cred.TargetName or "", type=int(cred.Type),
                            persist=int(cred.Persist) or None, user_name=cred.UserName or None,
                            last_written=_utc(int(cred.LastWritten)),
                            comment=cred.Comment or None)


def _advapi32() -> Any:
    advapi32 = ctypes.CDLL("advapi32", use_last_error=True)
    array = ctypes.POINTER(ctypes.POINTER(_Credential))
    advapi32.CredEnumerateW.argtypes = (ctypes.c_wchar_p, ctypes.c_uint32,
                                        ctypes.POINTER(ctypes.c_uint32), ctypes.POINTER(array))
    advapi32.CredEnumerateW.restype = ctypes.c_int
    advapi32.CredFree.argtypes = (ctypes.c_void_p,)
    return advapi32


def _last_error() -> int:
    return int(ctypes.get_last_error())  # type: ignore[attr-defined]


def _failure(code: int | None, action: str, detail: object) -> Exception:
    if code == ERROR_NO_SUCH_LOGON_SESSION:
        return WrongContext(NO_SESSION_MESSAGE)
    return FixFailed(f"{action} failed: {detail}")


def enumerate_credentials(prefix: str | None) -> list[StoredCredential]:
    """Credentials of this logon session whose target starts with ``prefix`` (case-insensitive)."""
    advapi32 = _advapi32()
    count = ctypes.c_uint32()
    block = ctypes.POINTER(ctypes.POINTER(_Credential))()
    if not advapi32.CredEnumerateW(f"{prefix}*" if prefix else None, 0, ctypes.byref(count),
                                   ctypes.byref(block)):
        code = _last_error()
        if code == ERROR_NOT_FOUND:
            return []
        raise _failure(code, "CredEnumerate", f"error {code}")
    try:
        described = [describe(block[i].contents) for i in range(count.value)]
    finally:
        advapi32.CredFree(block)
    wanted = (prefix or "").casefold()
    return [cred for cred in described if cred.target.casefold().startswith(wanted)]


def delete_credential(target: str, cred_type: int) -> bool:
    """Delete one credential by (target, type); False when it was not there (1168)."""
    win32cred = importlib.import_module("win32cred")
    error = importlib.import_module("pywintypes").error
    try:
        win32cred.CredDelete(TargetName=target, Type=cred_type, Flags=0)
    except error as exc:
        code = getattr(exc, "winerror", None)
        if code == ERROR_NOT_FOUND:
            return False
        raise _failure(code, f"CredDelete {target!r}", exc) from None
    return True

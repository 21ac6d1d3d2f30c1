"""Credential Manager through pywin32 ``win32cred``: enumerate by prefix, delete by (target, type).

Only metadata leaves this module: the ``CredentialBlob`` pywin32 returns is never copied into a
model. Enumeration uses a ``prefix*`` filter and never ``CRED_ENUMERATE_ALL_CREDENTIALS`` (Wine
lacks it, and it renames targets to ``namespace:target=X``).
"""

import importlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from odfix.errors import FixFailed, WrongContext
from odfix.hosts.base import StoredCredential

ERROR_NOT_FOUND = 1168
ERROR_NO_SUCH_LOGON_SESSION = 1312
NO_SESSION_MESSAGE = "no logon session credential set (SYSTEM or network logon)"


def _api() -> tuple[Any, type[Exception]]:
    """``win32cred`` and ``pywintypes.error``."""
    pywintypes = importlib.import_module("pywintypes")
    return importlib.import_module("win32cred"), pywintypes.error


def _utc(value: object) -> datetime | None:
    """A plain timezone-aware UTC datetime from pywin32's ``LastWritten``."""
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    moment = value.astimezone(UTC)
    return datetime(moment.year, moment.month, moment.day, moment.hour, moment.minute,
                    moment.second, moment.microsecond, tzinfo=UTC)


def describe(raw: Mapping[str, object]) -> StoredCredential:
    """Metadata of one ``PyCREDENTIAL`` dict; the secret blob is left behind."""
    def text(key: str) -> str | None:
        item = raw.get(key)
        return item if isinstance(item, str) and item else None

    kind, persist = raw.get("Type"), raw.get("Persist")
    return StoredCredential(
        target=str(raw.get("TargetName") or ""),
        type=kind if isinstance(kind, int) else 0,
        persist=persist if isinstance(persist, int) else None,
        user_name=text("UserName"),
        last_written=_utc(raw.get("LastWritten")),
        comment=text("Comment"),
    )


def _failure(exc: Exception, action: str) -> Exception:
    code = getattr(exc, "winerror", None)
    if code == ERROR_NO_SUCH_LOGON_SESSION:
        return WrongContext(NO_SESSION_MESSAGE)
    return FixFailed(f"{action} failed: {exc}")


def enumerate_credentials(prefix: str | None) -> list[StoredCredential]:
    """Credentials of this logon session whose target starts with ``prefix`` (case-insensitive)."""
    win32cred, error = _api()
    try:
        found = win32cred.CredEnumerate(f"{prefix}*" if prefix else None, 0)
    except error as exc:
        if getattr(exc, "winerror", None) == ERROR_NOT_FOUND:
            return []
        raise _failure(exc, "CredEnumerate") from None
    wanted = (prefix or "").casefold()
    described = (describe(item) for item in found)
    return [cred for cred in described if cred.target.casefold().startswith(wanted)]


def delete_credential(target: str, cred_type: int) -> bool:
    """Delete one credential by (target, type); False when it was not there (1168)."""
    win32cred, error = _api()
    try:
        win32cred.CredDelete(TargetName=target, Type=cred_type, Flags=0)
    except error as exc:
        if getattr(exc, "winerror", None) == ERROR_NOT_FOUND:
            return False
        raise _failure(exc, f"CredDelete {target!r}") from None
    return True

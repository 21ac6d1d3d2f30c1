"""Which security context this process runs in, from its access token (pywin32)."""

import importlib
from typing import Any

from odfix.hosts.base import Context

SYSTEM_SID = "S-1-5-18"


def _token_information(kind: str) -> Any:
    """``GetTokenInformation`` of this process's token for ``win32security.<kind>``."""
    win32api = importlib.import_module("win32api")
    win32con = importlib.import_module("win32con")
    win32security = importlib.import_module("win32security")
    token = win32security.OpenProcessToken(win32api.GetCurrentProcess(), win32con.TOKEN_QUERY)
    try:
        return win32security.GetTokenInformation(token, getattr(win32security, kind))
    finally:
        token.Close()


def current_user_sid() -> Any:
    """The SID (pywin32 ``PySID``) of the account this process runs as."""
    return _token_information("TokenUser")[0]


def detect_context() -> Context:
    """SYSTEM (LocalSystem SID), elevated (token elevation) or user.

    Wine gives every process a full administrator token (``TokenElevationTypeFull``), so under
    Wine this reports ``elevated``.
    """
    win32security = importlib.import_module("win32security")
    if win32security.ConvertSidToStringSid(current_user_sid()) == SYSTEM_SID:
        return Context.SYSTEM
    if _token_information("TokenElevation"):
        return Context.ELEVATED
    return Context.USER

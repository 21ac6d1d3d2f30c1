"""Which security context this process runs in, from its access token (pywin32)."""

import importlib

from odfix.hosts.base import Context

SYSTEM_SID = "S-1-5-18"


def detect_context() -> Context:
    """SYSTEM (LocalSystem SID), elevated (token elevation) or user.

    Wine gives every process a full administrator token (``TokenElevationTypeFull``), so under
    Wine this reports ``elevated``.
    """
    win32api = importlib.import_module("win32api")
    win32con = importlib.import_module("win32con")
    win32security = importlib.import_module("win32security")
    token = win32security.OpenProcessToken(win32api.GetCurrentProcess(), win32con.TOKEN_QUERY)
    try:
        sid = win32security.GetTokenInformation(token, win32security.TokenUser)[0]
        if win32security.ConvertSidToStringSid(sid) == SYSTEM_SID:
            return Context.SYSTEM
        if win32security.GetTokenInformation(token, win32security.TokenElevation):
            return Context.ELEVATED
        return Context.USER
    finally:
        token.Close()

"""Which capture a file is, from its content: for a capture sent alone or under another name.

Checks, in order: a saved event log (``ElfFile`` magic), wevtutil XML (``<Event``), a registry
export (its header, then the key it holds), ``cmdkey /list``, ``netsh winhttp show proxy``,
``credentials.json``, Format-List / Event Viewer event text, and ``dsregcmd /status`` (a
section box, or field lines with its own key names, as ``Select-String`` leaves them). Only the
first 64 KB are looked at, so this is cheap on any file.
"""

import re

from odfix.evidence.aad_text import EVTX_MAGIC, looks_like_event_text
from odfix.evidence.common import decode
from odfix.evidence.dsregcmd import looks_like_dsregcmd

TRIED = ("a zip, an .evtx, wevtutil XML, a .reg export, cmdkey /list, netsh winhttp show proxy, "
         "credentials.json, Get-WinEvent/Event Viewer text, dsregcmd /status")
_HEAD = 64 * 1024
_REG_KEYS = (
    ("office_identity.reg", "\\office\\16.0\\common\\identity"),
    ("onedrive.reg", "\\microsoft\\onedrive"),
    ("schannel.reg", "\\schannel\\protocols"),
    ("internet_settings.reg", "\\currentversion\\internet settings"),
)


def kind_of(data: bytes) -> str | None:
    """The conventional name of the capture ``data`` holds, or None."""
    if data.startswith(EVTX_MAGIC):
        return "aad_operational.evtx"
    head = decode(data[:_HEAD])
    stripped = head.lstrip()
    folded = head.casefold()
    if re.search(r"<(?:\w+:)?Event[\s>]", head):
        return "aad_operational.xml"
    if stripped.startswith(("Windows Registry Editor Version 5.00", "REGEDIT4")):
        return next((name for name, key in _REG_KEYS if key in folded), None)
    if "currently stored credentials" in folded:
        return "cmdkey_list.txt"
    if "current winhttp proxy settings" in folded:
        return "winhttp_proxy.txt"
    if stripped.startswith("{") and '"credentials"' in head:
        return "credentials.json"
    if looks_like_event_text(head):
        return "aad_operational.txt"
    if looks_like_dsregcmd(head):
        return "dsregcmd_status.txt"
    return None

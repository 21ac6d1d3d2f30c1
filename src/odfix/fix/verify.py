"""After a method: is the PC healthy now? Fresh evidence only, read through the same parsers.

Three checks (issue 5): OneDrive has a business account again, the PRT is present and fresh on a
joined PC (updated within ``PRT_FRESH``, the CloudAP renewal interval), and the AAD log has no new
event 1098 since the method started.
"""

from datetime import datetime, timedelta

from pydantic import BaseModel

from odfix.evidence import aad_events, dsregcmd
from odfix.evidence.common import ParseError
from odfix.hosts.base import Host

PRT_FRESH = timedelta(hours=4)
SETTLE_S = 3.0
"""Seconds OneDrive gets to sync before the checks, so a failing token request shows as 1098."""
ACCOUNTS_KEY = r"HKCU\Software\Microsoft\OneDrive\Accounts"
AAD_LOG = ["wevtutil", "qe", "Microsoft-Windows-AAD/Operational", "/f:xml", "/rd:true", "/c:500"]


class Check(BaseModel):
    """One verification check."""

    name: str
    ok: bool
    detail: str


class Verification(BaseModel):
    """The checks after a method; ``healthy`` when all pass."""

    method: str
    checks: list[Check]

    @property
    def healthy(self) -> bool:
        """All checks passed."""
        return all(c.ok for c in self.checks)


def _account(host: Host) -> Check:
    for slot in host.list_registry_subkeys(ACCOUNTS_KEY):
        if not slot.lower().startswith("business"):
            continue
        email = host.read_registry(f"{ACCOUNTS_KEY}\\{slot}", "UserEmail")
        if email is not None and email.data:
            return Check(name="onedrive-account", ok=True, detail=f"{slot}: {email.data!s}")
    return Check(name="onedrive-account", ok=False, detail="OneDrive holds no business account")


def _prt(host: Host, now: datetime) -> Check:
    result = host.run(["dsregcmd", "/status"])
    if result.exit_code != 0:
        return Check(name="prt", ok=False, detail="dsregcmd /status failed")
    try:
        status = dsregcmd.parse(result.stdout)
    except ParseError as error:
        return Check(name="prt", ok=False, detail=error.message)
    if status.join_type not in ("entra-joined", "hybrid-joined"):
        return Check(name="prt", ok=True, detail=f"not needed on this {status.join_type} PC")
    if not status.prt.azure_ad_prt:
        return Check(name="prt", ok=False, detail="AzureAdPrt : NO")
    age = status.prt.age_hours(now)
    if age is None or age > PRT_FRESH.total_seconds() / 3600:
        shown = "unknown" if age is None else f"{age:.1f} h"
        return Check(name="prt", ok=False, detail=f"PRT last updated {shown} ago")
    return Check(name="prt", ok=True, detail=f"PRT updated {age:.1f} h ago")


def _no_new_1098(host: Host, since: datetime) -> Check:
    result = host.run(AAD_LOG)
    if result.exit_code != 0:
        return Check(name="no-new-1098", ok=False, detail="the AAD log could not be read")
    if not result.stdout.strip():
        return Check(name="no-new-1098", ok=True, detail="the AAD log is empty")
    try:
        log = aad_events.parse(result.stdout)
    except ParseError as error:
        return Check(name="no-new-1098", ok=False, detail=error.message)
    new = [e for e in log.by_id(1098) if e.time is not None and e.time >= since]
    if new:
        codes = ", ".join(sorted({c for e in new for c in e.codes}
                                 | {f"AADSTS{a}" for e in new for a in e.aadsts}))
        return Check(name="no-new-1098", ok=False,
                     detail=f"{len(new)} new event 1098 ({codes})")
    return Check(name="no-new-1098", ok=True,
                 detail=f"no event 1098 since {since:%Y-%m-%d %H:%M:%S} UTC")


def verify(host: Host, method: str, settle_s: float = SETTLE_S,
           since: datetime | None = None) -> Verification:
    """Let OneDrive work for ``settle_s``, then run the three checks on fresh evidence.

    Event 1098 counts from ``since`` (default: the start of the settle time).
    """
    since = since or host.now()
    host.sleep(settle_s)
    return Verification(method=method, checks=[_account(host), _prt(host, host.now()),
                                               _no_new_1098(host, since)])

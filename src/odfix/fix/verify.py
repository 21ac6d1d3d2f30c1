"""After a method: did OneDrive try again, and is the PC healthy now? Fresh evidence only.

A check right after the last step proves nothing: OneDrive may not have asked for a token yet.
So ``verify`` first waits, up to ``timeout_s``, for a sign that OneDrive actually tried again
since the method began:

- new events in the AAD log (any event: a token request that failed or warned);
- a new account state (the OneDrive business account appeared, changed or went away);
- its process settling: OneDrive (re)started after the method began and kept running for
  ``settle_s`` (for the re-check of an earlier fix, running throughout counts too).

Then it runs three checks (OneDrive has a business account, the PRT is present and fresh on a
joined PC, no new event 1098). All checks passing *with* such a sign is ``fixed``; a failed check
is ``failed``; passing checks without any sign within the timeout is ``not-confirmed``, which
the engine reports as such and never as fixed.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel

from odfix.evidence import aad_events, dsregcmd
from odfix.evidence.common import ParseError
from odfix.hosts.base import Host

PRT_FRESH = timedelta(hours=4)
SETTLE_S = 15.0
"""Seconds a freshly started OneDrive must keep running to count as having settled."""
TIMEOUT_S = 120.0
"""How long to wait for a sign that OneDrive tried again."""
POLL_S = 2.0
ACCOUNTS_KEY = r"HKCU\Software\Microsoft\OneDrive\Accounts"
ONEDRIVE_IMAGE = "OneDrive.exe"
AAD_LOG = ["wevtutil", "qe", "Microsoft-Windows-AAD/Operational", "/f:xml", "/rd:true", "/c:500"]
Status = Literal["fixed", "failed", "not-confirmed"]


class Check(BaseModel):
    """One verification check."""

    name: str
    ok: bool
    detail: str


class Verification(BaseModel):
    """The checks after a method, and the sign (if any) that OneDrive tried again."""

    method: str
    checks: list[Check]
    attempt: str | None = None
    """What showed that OneDrive tried again; None when nothing did within the timeout."""

    @property
    def status(self) -> Status:
        """``fixed`` (all checks pass after a real attempt), ``failed``, or ``not-confirmed``."""
        if not all(c.ok for c in self.checks):
            return "failed"
        return "fixed" if self.attempt is not None else "not-confirmed"

    @property
    def healthy(self) -> bool:
        """Fixed, and shown to be."""
        return self.status == "fixed"


@dataclass(frozen=True)
class Timing:
    """How long to wait for OneDrive (the simulated PC's clock makes these free)."""

    settle_s: float = SETTLE_S
    timeout_s: float = TIMEOUT_S
    poll_s: float = POLL_S


def account_state(host: Host) -> tuple[tuple[str, str], ...]:
    """The OneDrive business accounts as (slot, UserEmail) pairs: the "account state"."""
    found = []
    for slot in host.list_registry_subkeys(ACCOUNTS_KEY):
        if not slot.lower().startswith("business"):
            continue
        email = host.read_registry(f"{ACCOUNTS_KEY}\\{slot}", "UserEmail")
        found.append((slot, str(email.data) if email is not None and email.data else ""))
    return tuple(sorted(found))


def _account(state: tuple[tuple[str, str], ...]) -> Check:
    signed_in = [f"{slot}: {email}" for slot, email in state if email]
    if signed_in:
        return Check(name="onedrive-account", ok=True, detail=signed_in[0])
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


def _events_since(host: Host, since: datetime) -> list[aad_events.AadEvent] | str:
    """AAD events logged at or after ``since``; a string says why the log was unreadable."""
    result = host.run(AAD_LOG)
    if result.exit_code != 0:
        return "the AAD log could not be read"
    if not result.stdout.strip():
        return []
    try:
        log = aad_events.parse(result.stdout)
    except ParseError as error:
        return error.message
    return [e for e in log.events if e.is_aad and e.time is not None and e.time >= since]


def _no_new_1098(events: list[aad_events.AadEvent] | str, since: datetime) -> Check:
    if isinstance(events, str):
        return Check(name="no-new-1098", ok=False, detail=events)
    new = [e for e in events if e.id == 1098 and e.is_aad]
    if new:
        codes = ", ".join(sorted({c for e in new for c in e.codes}
                                 | {f"AADSTS{a}" for e in new for a in e.aadsts}))
        return Check(name="no-new-1098", ok=False,
                     detail=f"{len(new)} new event 1098 ({codes})")
    return Check(name="no-new-1098", ok=True,
                 detail=f"no event 1098 since {since:%Y-%m-%d %H:%M:%S} UTC")


def _settled(host: Host, since: datetime, settle_s: float,
             began: datetime | None) -> str | None:
    started = host.process_started(ONEDRIVE_IMAGE)
    if started is None or (began is not None and started < began):
        return None
    running = (host.now() - max(started, since)).total_seconds()
    if running < settle_s:
        return None
    how = "started" if started >= since else "running since"
    return f"OneDrive {how} {started:%H:%M:%S} UTC and kept running {running:.0f} s"


def verify(host: Host, method: str, since: datetime, began: datetime | None = None,
           before: tuple[tuple[str, str], ...] | None = None, *,
           timing: Timing = Timing()) -> Verification:
    """Wait (bounded) for OneDrive to try again, then check fresh evidence.

    Events count from ``since`` (after the person's test: a failure while they were still
    signing in is expected). ``began`` is when the method began: OneDrive must have started
    since then to count as settled (None, for re-checking an earlier fix: a OneDrive that ran
    the whole time counts). ``before`` is the account state then (None: unknown, on resume).
    """
    deadline = host.now() + timedelta(seconds=timing.timeout_s)
    while True:
        events = _events_since(host, since)
        state = account_state(host)
        attempt: str | None = None
        if isinstance(events, list) and events:
            attempt = f"{len(events)} new AAD event(s) since {since:%H:%M:%S} UTC"
        elif before is not None and state != before:
            attempt = "OneDrive's account state changed"
        else:
            attempt = _settled(host, since, timing.settle_s, began)
        if attempt is not None or host.now() >= deadline:
            break
        host.sleep(min(timing.poll_s, max((deadline - host.now()).total_seconds(), 0.0)))
    return Verification(method=method, attempt=attempt,
                        checks=[_account(state), _prt(host, host.now()),
                                _no_new_1098(events, since)])

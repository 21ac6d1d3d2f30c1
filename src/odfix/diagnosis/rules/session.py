"""Who ran ``dsregcmd /status``: the user, SYSTEM, or a local account.

User State and SSO State describe the account that ran the command (Microsoft Learn: "must run
in a user context"). Run as SYSTEM (``User Context : SYSTEM``, or the machine account
``DOMAIN\\PC$`` as ``Executing Account Name``), they describe the machine account; in a local
account's session (``PC\\user``, the prefix being the PC's own name) no Primary Refresh Token is
expected. Device State and Device Details are machine-wide and mean the same in every session.
"""

from dataclasses import dataclass, field

from odfix.diagnosis.models import Finding, SessionKind
from odfix.evidence.common import Citation
from odfix.evidence.dsregcmd import DsregStatus, Field

SOURCE = "dsregcmd"
SYSTEM_ACCOUNTS = frozenset({"system", "nt authority\\system"})


@dataclass(frozen=True)
class Session:
    """The session a capture was taken in, the account, and the lines that show it."""

    kind: SessionKind
    account: str | None = None
    evidence: list[Citation] = field(default_factory=list)

    @property
    def user_scoped_trusted(self) -> bool:
        """False when User State / SSO State describe the machine account, not the user."""
        return self.kind != "system"


def read(status: DsregStatus) -> Session:
    """The session of one capture; ``unknown`` when the output does not say (older builds)."""
    context = status.get("Diagnostic Data", "User Context")
    executing = _executing(status)
    account = executing.value.split(",", 1)[0].strip() if executing and executing.value else None
    evidence = [f.citation for f in (context, executing) if f is not None]
    if (context is not None and context.value.upper().startswith("SYSTEM")) or (
            account is not None and (account.endswith("$")
                                     or account.casefold() in SYSTEM_ACCOUNTS)):
        return Session("system", account, evidence)
    if account and "\\" in account:
        prefix = account.split("\\", 1)[0].casefold()
        device = (status.device_name or "").split(".", 1)[0].casefold()
        if device and prefix == device:
            return Session("local-account", account, evidence)
        if prefix == "azuread" or prefix == (status.domain_name or "").casefold():
            return Session("user", account, evidence)
    if context is not None and context.value.upper().endswith("USER"):
        return Session("user", account, evidence)
    return Session("unknown", account, evidence)


def _executing(status: DsregStatus) -> Field | None:
    """``Executing Account Name`` wherever the build prints it (Diagnostic Data, or a proxy
    section on Windows Server 2022)."""
    return next((f for s in status.sections for f in s.get_all("Executing Account Name")), None)


def finding(session: Session) -> Finding | None:
    """A finding that says what the session means for the user-scoped fields, if anything."""
    who = f" ({session.account})" if session.account else ""
    if session.kind == "system":
        return Finding(
            id="dsreg.session-system", severity="warning", source=SOURCE, evidence=session.evidence,
            title=(f"Captured as SYSTEM{who}: User State and SSO State (PRT, WamDefaultSet, work "
                   "accounts) describe the machine account, not the user, and are not weighed; "
                   "capture again in the user's own session"),
        )
    if session.kind == "local-account":
        return Finding(
            id="dsreg.session-local-account", severity="info", source=SOURCE,
            evidence=session.evidence,
            title=(f"The session is a local account{who}: no Primary Refresh Token or default "
                   "work account is expected, so AzureAdPrt NO is not a device fault"),
        )
    return None

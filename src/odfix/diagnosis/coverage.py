"""How complete the evidence is, which captures to ask for next, and the outcome it allows.

Each cause is read from some source groups (device registration from dsregcmd and the AAD log,
connectivity from the AAD log and the network captures, ...). A cause's confidence is its
evidence score discounted for the groups that were not there (``discount``); a dsregcmd capture
counts half when its user-scoped sections do not describe the user (taken as SYSTEM, or cut
before User State and SSO State). What is missing becomes ``ask_for``: the conventional file,
the command that produces it (README, "Gathering evidence without odfix") and why.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from odfix.diagnosis.models import (
    CaptureRequest,
    Cause,
    CauseId,
    Coverage,
    JoinType,
    Outcome,
    PlanItem,
    SessionKind,
)
from odfix.evidence.dsregcmd import DsregStatus

GROUP_FILES: dict[str, tuple[str, ...]] = {
    "dsregcmd": ("dsregcmd_status.txt",),
    "aad_events": ("aad_operational.xml",),
    "network": ("winhttp_proxy.txt", "internet_settings.reg", "schannel.reg"),
    "identities": ("office_identity.reg", "onedrive.reg"),
    "credentials": ("cmdkey_list.txt",),
}
COMMANDS: dict[str, str] = {
    "dsregcmd_status.txt": "dsregcmd /status > dsregcmd_status.txt",
    "aad_operational.xml": ("wevtutil qe Microsoft-Windows-AAD/Operational /f:xml /rd:true /c:500"
                            " > aad_operational.xml"),
    "cmdkey_list.txt": "cmdkey /list > cmdkey_list.txt",
    "onedrive.reg": 'reg export "HKCU\\Software\\Microsoft\\OneDrive" onedrive.reg /y',
    "office_identity.reg": ('reg export "HKCU\\Software\\Microsoft\\Office\\16.0\\Common\\Identity"'
                            " office_identity.reg /y"),
    "winhttp_proxy.txt": "netsh winhttp show proxy > winhttp_proxy.txt",
    "internet_settings.reg": ('reg export "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\'
                              'Internet Settings" internet_settings.reg /y'),
    "schannel.reg": ('reg export "HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\'
                     'SCHANNEL\\Protocols" schannel.reg /y'),
}
WHY: dict[str, str] = {
    "dsregcmd_status.txt": (
        "How the PC is joined and whether Entra ID still accepts it (DeviceAuthStatus, the "
        "user's PRT): without it the join type is unknown, and odfix plans no Disconnect, "
        "unjoin or leave"),
    "aad_operational.xml": (
        "The token broker's failures with their codes: they tell a password change, a network "
        "failure, a refused device and a Conditional Access prompt apart"),
    "cmdkey_list.txt": "The cached Office and OneDrive credentials (Method 1 removes them)",
    "onedrive.reg": "The work accounts OneDrive is set up with",
    "office_identity.reg": "The work identities Office has cached (several compete for sign-in)",
    "winhttp_proxy.txt": "The machine-wide proxy the token broker uses",
    "internet_settings.reg": "The user's proxy and PAC settings and the TLS versions allowed",
    "schannel.reg": "Whether TLS 1.2 is turned off for the whole machine",
}
USER_SESSION = " Run it in the user's own Command Prompt (not \"Run as administrator\")."
CONNECTIVITY = CaptureRequest(
    file="connectivity.json", command="odfix collect --connectivity",
    why=("Where odfix can run on the PC, this one command writes a bundle with a live "
         "connectivity test (connectivity.json: DNS, TCP and a TLS 1.2+ handshake to the sign-in, "
         "device-authentication, device-registration and SharePoint endpoints, the certificate "
         "issuer, the proxy used, the cipher-suite order) together with the other captures listed "
         "here; send the zip it writes." + USER_SESSION))
"""Asked for with the network captures: the live test they cannot give (docs/diagnosis.md)."""

CORE = ("dsregcmd", "aad_events")
"""What every diagnosis needs before it can call a PC healthy."""
HEALTHY_GROUPS = ("dsregcmd", "aad_events", "network", "identities")
CAUSE_GROUPS: dict[CauseId, tuple[str, ...]] = {
    "device-registration": ("dsregcmd", "aad_events"),
    "stale-token-password-change": ("aad_events", "dsregcmd", "credentials"),
    "connectivity-tls": ("aad_events", "network", "dsregcmd"),
    "multiple-identities": ("identities", "credentials"),
    "recurring-conditional-access": ("aad_events", "dsregcmd"),
    "cloned-image": ("dsregcmd",),
    "healthy": HEALTHY_GROUPS,
}


@dataclass(frozen=True)
class Looked:
    """What one PC's captures let the diagnosis see."""

    pc: str
    groups: frozenset[str]
    session: SessionKind = "unknown"
    join_type: JoinType = "unknown"
    user_sections: bool = False
    """The capture holds User State or SSO State (the user-scoped fields)."""

    @property
    def user_trusted(self) -> bool:
        """The user-scoped dsregcmd fields are there and describe the user."""
        return "dsregcmd" in self.groups and self.user_sections and self.session != "system"


def looked(pc: str, groups: Iterable[str], status: DsregStatus | None,
           session: SessionKind, join_type: JoinType) -> Looked:
    """One PC's view, from the source groups read and its dsregcmd capture."""
    sections = status is not None and any(
        status.section(title) is not None for title in ("User State", "SSO State"))
    return Looked(pc=pc, groups=frozenset(groups), session=session, join_type=join_type,
                  user_sections=sections)


def score(pcs: Sequence[Looked], groups: Sequence[str]) -> float:
    """The share of ``groups`` present, averaged over the PCs (dsregcmd half when untrusted)."""
    if not pcs or not groups:
        return 0.0

    def one(pc: Looked) -> float:
        weights = [(0.0 if g not in pc.groups else 1.0 if g != "dsregcmd" or pc.user_trusted
                    else 0.5) for g in groups]
        return sum(weights) / len(weights)

    return sum(one(pc) for pc in pcs) / len(pcs)


def discount(evidence_score: float, pcs: Sequence[Looked], cause: CauseId) -> float:
    """The reported confidence: the evidence score scaled by 0.6 + 0.4 × the cause's coverage."""
    return round(evidence_score * (0.6 + 0.4 * score(pcs, CAUSE_GROUPS[cause])), 3)


def relevant(causes: Sequence[Cause]) -> tuple[str, ...]:
    """The groups worth asking for: the core ones and those the reported causes read."""
    groups = [*CORE, *(g for c in causes if c.id != "healthy" for g in CAUSE_GROUPS[c.id])]
    return tuple(dict.fromkeys(groups))


def summary(pcs: Sequence[Looked], groups: Sequence[str]) -> Coverage:
    """Sources seen, relevant groups missing on some PC, and what the user-scoped fields are."""
    seen = sorted({g for pc in pcs for g in pc.groups})
    missing = [g for g in groups if any(g not in pc.groups for pc in pcs)]
    if any("dsregcmd" in pc.groups and pc.session == "system" for pc in pcs):
        user = "not-the-user"
    elif pcs and all(pc.user_trusted for pc in pcs):
        user = "trusted"
    else:
        user = "not-captured"
    return Coverage(sources=seen, missing=missing, user_scoped=user,  # type: ignore[arg-type]
                    score=round(score(pcs, groups), 3))


def ask_for(pcs: Sequence[Looked], groups: Sequence[str]) -> list[CaptureRequest]:
    """The captures to ask for next, per PC (``pc`` is set only with several PCs)."""
    asks: list[CaptureRequest] = []
    for pc in pcs:
        name = pc.pc if len(pcs) > 1 else None
        if "dsregcmd" in pc.groups and not pc.user_trusted:
            asks.append(CaptureRequest(
                file="dsregcmd_status.txt", command=COMMANDS["dsregcmd_status.txt"], pc=name,
                why=_redo(pc) + USER_SESSION))
        elif "dsregcmd" in pc.groups and pc.join_type == "unknown":
            asks.append(CaptureRequest(
                file="dsregcmd_status.txt", command=COMMANDS["dsregcmd_status.txt"], pc=name,
                why="The capture lacks Device State (how the PC is joined): send the whole "
                    "output." + USER_SESSION))
        for group in groups:
            if group in pc.groups:
                continue
            for file in GROUP_FILES[group]:
                extra = USER_SESSION if group == "dsregcmd" else ""
                asks.append(CaptureRequest(file=file, command=COMMANDS[file], pc=name,
                                           why=WHY[file] + "." + extra))
            if group == "network":
                asks.append(CONNECTIVITY.model_copy(update={"pc": name}))
    return asks


def _redo(pc: Looked) -> str:
    if pc.session == "system":
        return ("It was captured as SYSTEM, so User State and SSO State describe the machine "
                "account: capture it again in the user's session.")
    return ("The capture lacks User State and SSO State (the user's PRT and work accounts): send "
            "the whole output.")


def outcome(pcs: Sequence[Looked], causes: Sequence[Cause], plan: Sequence[PlanItem]) -> Outcome:
    """``not-enough-evidence`` when the join type of some PC is unknown (every plan depends on
    it), when nothing was found but some PC's user-scoped dsregcmd fields are not there to say
    so (no capture, taken as SYSTEM, or cut short), or when a cause was found and nothing of its
    plan can be done safely; else ``problem`` or ``healthy``."""
    if any(pc.join_type == "unknown" for pc in pcs):
        return "not-enough-evidence"
    if all(c.id == "healthy" for c in causes):
        return "healthy" if all(pc.user_trusted for pc in pcs) else "not-enough-evidence"
    return "problem" if plan else "not-enough-evidence"

"""The plan: the guide's methods for the top cause(s) on this join type, in the guide's order.

The top cause always gets its plan; another cause joins when its evidence score reaches
``PLAN_THRESHOLD`` (its methods follow, without repeating a method already planned). Each item's
``why`` names the finding that led to the cause; ``note`` carries the guide's join-type variant
(e.g. ``dsregcmd /debug /leave`` instead of Disconnect on a hybrid joined PC) and its gate.

A destructive method is planned only when ``proof.justify`` names the findings that justify it
(``justified_by``); otherwise it is listed as withheld, with what would justify it. This holds
whatever order the guide gives its methods in.
"""

from collections.abc import Sequence

from odfix.diagnosis import proof
from odfix.diagnosis.models import (
    Cause,
    CauseId,
    Finding,
    JoinType,
    PlanItem,
    StepContext,
    Withheld,
    a_pc,
)
from odfix.guide.model import Guide

PLAN_THRESHOLD = 0.5

ACCOUNT_NOT_IN_TENANT = (
    "To the directory administrator (Active Directory / Entra Connect): Entra ID does not know "
    "the user's sign-in name (AADSTS90002 tenant not found, AADSTS50128/50059 no tenant for its "
    "domain, AADSTS50034 account not in the directory). Give the user a UPN whose suffix is a "
    "verified domain of the tenant (an alternative UPN suffix instead of a non-routable one such "
    "as .local) or bring the account into the Entra Connect sync scope; then the user signs out "
    "and in. The PC's registration is not what is broken: do not unjoin it."
)

FINDING_ESCALATIONS: dict[str, str] = {
    "dsreg.hybrid-join-not-configured": (
        "To the directory administrator (Active Directory / Entra Connect): hybrid join is not "
        "configured for this forest, the PC finds no service connection point (SCP, error "
        "0x801c001d). Configure Microsoft Entra hybrid join (Entra Connect device options, or a "
        "client-side SCP by Group Policy) or confirm that this PC is not meant to be hybrid "
        "joined; there is no work account or device registration on the PC to remove."
    ),
    "dsreg.registration-failed": (
        "To the directory administrator: the PC's hybrid join does not complete (see the failed "
        "pre-join test and error code); check the device's synchronisation scope in Entra "
        "Connect and the PC's line of sight to the device registration service."
    ),
    "dsreg.registration-network": (
        "To the network team: hybrid join cannot reach the device registration service in the "
        "SYSTEM context (DRS discovery fails). enterpriseregistration.windows.net, "
        "login.microsoftonline.com and device.login.microsoftonline.com must be reachable for "
        "the computer account, through a proxy it can use without a signed-in user (WinHTTP, or "
        "a PAC file it can reach) and without TLS inspection."
    ),
    "dsreg.registration-sync-pending": (
        "To the directory administrator (Entra Connect): the hybrid join waits for Entra "
        "Connect to sync this computer (DirectoryError 0x801c03f2, device object not found). "
        "Check that the computer's OU is in the sync scope, let the sync run, then the user "
        "signs out and in; nothing on the PC needs removing."
    ),
    "dsreg.prt-user-not-in-tenant": ACCOUNT_NOT_IN_TENANT,
    "aad.user-not-in-tenant": ACCOUNT_NOT_IN_TENANT,
    "conn.tls-inspection-device-auth": (
        "To the network team: TLS inspection re-signs device.login.microsoftonline.com, which "
        "breaks device authentication (the PRT) and so OneDrive's silent sign-in. Exclude "
        "login.microsoftonline.com, device.login.microsoftonline.com and "
        "enterpriseregistration.windows.net from inspection."
    ),
    "dsreg.prt-device-disabled": (
        "To the Entra administrator: the device object is disabled; re-enable it (on a hybrid "
        "joined PC, in on-premises Active Directory). Unjoining the PC does not fix this."
    ),
    "aad.device-disabled": (
        "To the Entra administrator: the device object is disabled; re-enable it (on a hybrid "
        "joined PC, in on-premises Active Directory). Unjoining the PC does not fix this."
    ),
}
"""Findings whose remedy is not on the PC: who to hand over to. When such a finding leads a
cause, its text stands instead of the guide's escalation for that cause."""


def build(causes: Sequence[Cause], findings: Sequence[Finding], join_type: JoinType,
          guide: Guide, scores: dict[CauseId, float] | None = None,
          ) -> tuple[list[PlanItem], list[Withheld], str | None]:
    """Plan items, the destructive methods withheld for want of proof, and the escalation.

    ``scores`` are the causes' evidence scores (before the discount for missing sources); the
    reported confidence stands in for a cause without one.
    """
    by_id = {f.id: f for f in findings}
    chosen = [c for i, c in enumerate(causes) if c.id != "healthy" and (
        i == 0 or (scores or {}).get(c.id, c.confidence) >= PLAN_THRESHOLD)]
    items: list[PlanItem] = []
    withheld: list[Withheld] = []
    guide_escalation = ""
    for cause in chosen:
        resolved = guide.resolve(cause.id, join_type)
        lead = by_id.get(cause.finding_ids[0]) if cause.finding_ids else None
        because = f"{lead.title} [{lead.id}]" if lead else cause.summary
        specific = lead is not None and proof.base_id(lead) in FINDING_ESCALATIONS
        for method in resolved.methods:
            if method.id in {m.method for m in items} | {m.method for m in withheld}:
                continue
            destructive = guide.method(method.id).destructive
            justified = proof.justify(method.id, join_type, findings) if destructive else []
            if justified is None:
                withheld.append(Withheld(
                    method=method.id, cause=cause.id, needs=proof.needs(method.id, join_type),
                    why=_withheld_why(method.id, join_type, findings)))
                continue
            first = next((i.method for i in items if i.destructive), None)
            if destructive and first is not None:
                withheld.append(Withheld(
                    method=method.id, cause=cause.id,
                    needs=f"{first} to have run without fixing it, and a new diagnosis",
                    why=(f"{first} earlier in this plan already removes and renews the "
                         f"registration; {method.id} would do it again at once")))
                continue
            variant = guide.method(method.id).variant_for(join_type)
            note = f"{variant.title}: {variant.why}" if variant else ""
            if method.gate:
                note += f" Gate: {method.gate}"
            context: StepContext = method.context.value  # type: ignore[assignment]
            items.append(PlanItem(method=method.id, why=f"{cause.id}: {because}",
                                  context=context, cause=cause.id, variant=method.variant,
                                  note=note.strip(), steps=[s.title for s in method.steps],
                                  destructive=destructive, justified_by=justified))
        if not guide_escalation and resolved.escalations and not specific:
            guide_escalation = " ".join(f"To {e.to}: {e.when}" for e in resolved.escalations)
    seen = {proof.base_id(f) for f in findings if f.severity != "info"}
    found = [text for finding_id, text in FINDING_ESCALATIONS.items() if finding_id in seen]
    escalation = " ".join(t for t in [*found, guide_escalation] if t)
    return items, withheld, escalation or None


def handover(cause: Cause, findings: Sequence[Finding]) -> str | None:
    """Who takes over when ``cause`` rests first on a finding whose remedy is not on the PC
    (``To the directory administrator (...)``), else None."""
    lead = next((f for f in findings if cause.finding_ids and f.id == cause.finding_ids[0]), None)
    text = FINDING_ESCALATIONS.get(proof.base_id(lead)) if lead is not None else None
    return text.split(":", 1)[0] if text else None


def _withheld_why(method: str, join_type: JoinType, findings: Sequence[Finding]) -> str:
    if join_type == "unknown":
        return (f"{method} unjoins or removes a registration, and the join type is unknown: "
                "odfix plans no Disconnect, unjoin or leave without it")
    if proof.rule_for(method, join_type) is None:
        return f"{method} has nothing to act on on {a_pc(join_type)}"
    if any(proof.base_id(f) in proof.DISABLED for f in findings):
        return (f"Entra ID says the device is disabled: an administrator re-enables it (see "
                f"Escalate), and {method} would not help; DeviceAuthStatus \"disabled or "
                "deleted\" proves nothing while the device is reported disabled")
    return (f"{method} unjoins or removes a registration, and the evidence does not show that "
            "the registration is what is broken")

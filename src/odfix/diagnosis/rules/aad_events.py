"""Token failures from the ``Microsoft-Windows-AAD/Operational`` log, grouped by what they mean."""

from dataclasses import dataclass

from odfix.diagnosis import cadence
from odfix.diagnosis.models import CauseId, Finding, Severity
from odfix.diagnosis.proof import DEVICE_DISABLED_AADSTS, DEVICE_GONE_AADSTS
from odfix.diagnosis.rules.context import ACCOUNT_NOT_IN_TENANT_AADSTS, RuleContext
from odfix.evidence.aad_events import AadEvent, AadEventLog

SOURCE = "aad_events"
MAX_CITED = 8
RECURRING = ("interaction-required", "sign-in-frequency")


@dataclass(frozen=True)
class _Group:
    id: str
    severity: Severity
    title: str
    cause: CauseId
    weight: float
    many_weight: float
    """Weight once the failure shows three times or more."""


_GROUPS: dict[str, _Group] = {
    "password-change": _Group("aad.token-revoked", "error",
                              "tokens refused as revoked or invalid (password change or reset)",
                              "stale-token-password-change", 0.75, 0.85),
    "inactivity": _Group("aad.token-expired", "warning", "refresh tokens expired by inactivity",
                         "stale-token-password-change", 0.4, 0.5),
    "device": _Group("aad.device-auth-errors", "error", "device authentication refused",
                     "device-registration", 0.75, 0.85),
    "network": _Group("aad.network-errors", "error",
                      "the token broker could not reach the sign-in service (network, proxy, TLS)",
                      "connectivity-tls", 0.7, 0.85),
    "ca-block": _Group("aad.ca-block", "warning", "access blocked by Conditional Access",
                       "recurring-conditional-access", 0.3, 0.4),
    "identity-cache": _Group("aad.identity-cache-errors", "warning",
                             "the token cache failed (ADAL refresh or realm discovery)",
                             "multiple-identities", 0.3, 0.4),
}


_REFUSALS: dict[str, tuple[frozenset[int], _Group]] = {
    "gone": (DEVICE_GONE_AADSTS, _Group(
        "aad.device-object-missing", "error",
        "Entra ID refused the device: its object was deleted or not found",
        "device-registration", 0.85, 0.9)),
    "disabled": (DEVICE_DISABLED_AADSTS, _Group(
        "aad.device-disabled", "error",
        "Entra ID refused the device: its object is disabled (an administrator re-enables it)",
        "device-registration", 0.8, 0.85)),
    "account": (ACCOUNT_NOT_IN_TENANT_AADSTS, _Group(
        "aad.user-not-in-tenant", "error",
        "Entra ID does not know the sign-in name (its domain is not a verified domain of the "
        "tenant, or the account is not synced): the directory administrator fixes it",
        "device-registration", 0.4, 0.4)),
}
"""Refusals that say what happened to the device object (apart from the other ``device`` codes:
Conditional Access wanting a compliant or joined device), or that the account is unknown."""

KNOWN = frozenset(_GROUPS) | frozenset(RECURRING) | frozenset(_REFUSALS)


def findings(log: AadEventLog, context: RuleContext) -> list[Finding]:
    """One finding per kind of failure the AAD events show; cadence for interaction prompts."""
    by_category: dict[str, list[AadEvent]] = {}
    other: list[AadEvent] = []
    interrupts: list[AadEvent] = []
    for event in log.events:
        if not event.is_aad:
            continue
        state = _device_state(event)
        categories = [state] if state else context.classify(event.codes, event.aadsts)
        for category in categories:
            by_category.setdefault(category, []).append(event)
        if any(c in KNOWN for c in categories):
            continue
        if "interrupt" in categories:
            interrupts.append(event)
        elif event.level in ("error", "critical"):
            other.append(event)
    groups = {**_GROUPS, **{key: group for key, (_, group) in _REFUSALS.items()}}
    found = [
        _group_finding(groups[category], events, context)
        for category, events in by_category.items() if category in groups
    ]
    if other:
        found.append(Finding(
            id="aad.other-errors", severity="info", source=SOURCE,
            title=(f"{len(other)} other AAD error event(s){_span(other)} that point at none of "
                   f"the causes ({_codes(other) or 'no code'})"),
            evidence=[e.citation for e in _cited(other)], details=_details(other),
        ))
    if interrupts:
        found.append(Finding(
            id="aad.interrupts", severity="info", source=SOURCE,
            title=(f"{len(interrupts)} expected sign-in prompt(s){_span(interrupts)} "
                   f"({_codes(interrupts)}): part of an interactive sign-in (MFA, 'Stay signed "
                   "in?', an external challenge), not failures"),
            evidence=[e.citation for e in _cited(interrupts)], details=_details(interrupts),
        ))
    prompts = [e for c in RECURRING for e in by_category.get(c, [])]
    if prompts:
        found.append(_interaction(list({id(e): e for e in prompts}.values()),
                                  "sign-in-frequency" in by_category))
    return found


def _device_state(event: AadEvent) -> str | None:
    """``gone``, ``disabled`` or ``account`` when the event's AADSTS code says what happened to
    the device object or the account (whether or not the code catalog lists the code)."""
    return next((key for key, (codes, _) in _REFUSALS.items()
                 if codes.intersection(event.aadsts)), None)


def _cited(events: list[AadEvent]) -> list[AadEvent]:
    return sorted(events, key=lambda e: e.citation.line)[:MAX_CITED]


def _details(events: list[AadEvent]) -> list[str]:
    """``line 3: 2026-01-12 08:00:04 UTC event 1098 0xCAA2000C AADSTS70043 <message>``."""
    shown = []
    for event in _cited(events):
        when = f"{event.time:%Y-%m-%d %H:%M:%S} UTC" if event.time else "time unknown"
        codes = " ".join([*event.codes, *(f"AADSTS{n}" for n in event.aadsts)])
        text = event.data.get("ErrorMessage") or event.message.splitlines()[0]
        shown.append(f"line {event.citation.line}: {when} event {event.id} {codes} {text}".strip())
    return shown


def _codes(events: list[AadEvent]) -> str:
    seen = dict.fromkeys(c for e in events for c in [*e.codes, *(f"AADSTS{n}" for n in e.aadsts)])
    return ", ".join(list(seen)[:6])


def _span(events: list[AadEvent]) -> str:
    times = sorted(e.time for e in events if e.time is not None)
    if not times:
        return ""
    if times[0] == times[-1]:
        return f" at {times[0]:%Y-%m-%d %H:%M} UTC"
    return f" from {times[0]:%Y-%m-%d %H:%M} to {times[-1]:%Y-%m-%d %H:%M} UTC"


def _group_finding(group: _Group, events: list[AadEvent], context: RuleContext) -> Finding:
    title = f"{len(events)} AAD event(s){_span(events)}: {group.title} ({_codes(events)})"
    if group.cause == "stale-token-password-change" and context.password_changed_at:
        after = [e for e in events if e.time and e.time >= context.password_changed_at]
        title += f"; {len(after)} after the password change"
    weight = group.many_weight if len(events) >= 3 else group.weight
    return Finding(id=group.id, severity=group.severity, source=SOURCE, title=title,
                   evidence=[e.citation for e in _cited(events)], weights={group.cause: weight},
                   details=_details(events))


def _interaction(events: list[AadEvent], frequency_code: bool) -> Finding:
    found = cadence.estimate(e.time for e in events if e.time is not None)
    codes = _codes(events)
    if found.regular and found.period_hours is not None:
        return Finding(
            id="aad.recurring-interaction", severity="error", source=SOURCE,
            title=(f"Interaction required again every ~{found.period_hours:g} h "
                   f"({len(found.occurrences)} occurrences; {codes}): a sign-in frequency or MFA "
                   "policy on the tenant side"),
            evidence=[e.citation for e in _cited(events)],
            weights={"recurring-conditional-access": 0.85}, details=_details(events),
        )
    period = f", median gap {found.period_hours:g} h" if found.period_hours else ""
    untimed = sum(e.time is None for e in events)
    if untimed == len(events):
        title = (f"{len(events)} event(s) of interaction required ({codes}), without times: "
                 "no cadence can be read")
    else:
        extra = f", {untimed} more without a time" if untimed else ""
        title = (f"{len(found.occurrences)} occurrence(s) of interaction required "
                 f"({codes}{period}{extra}), not at a regular cadence")
    return Finding(
        id="aad.interaction-required", severity="warning", source=SOURCE, title=title,
        evidence=[e.citation for e in _cited(events)],
        weights={"recurring-conditional-access": (0.35 if len(found.occurrences) >= 3 else 0.2)
                 + (0.15 if frequency_code else 0.0)},
        details=_details(events),
    )

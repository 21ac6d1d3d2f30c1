"""The proof rule for destructive methods (issue 9): evidence, not a hunch.

A method the guide marks ``destructive`` (Disconnect, ``dsregcmd /leave``: anything that unjoins,
unregisters or removes a work account) is planned only when the findings show (a) that the
registration it would remove exists and (b) that this registration is what is broken. Each rule
below names those findings per join type; a destructive method no rule names is never planned.
A finding proves "broken" only with ``error`` severity: a finding discounted for its session
(captured as SYSTEM) or weakened by contrary evidence proves nothing. The join type must be
known; several PCs prove per PC (fleet findings count for every PC). When Entra ID says the
device is disabled, ``DeviceAuthStatus``'s "disabled or deleted" proves nothing (``DISABLED``).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from odfix.diagnosis.models import Finding, JoinType, a_pc

DEVICE_GONE_AADSTS = frozenset({50155, 700003, 130008})
"""Entra ID no longer knows the device object: DeviceAuthenticationFailed (device deleted),
device object not found, Windows Hello key's device not found."""
DEVICE_DISABLED_AADSTS = frozenset({135011, 130007})
"""The device object is disabled: an administrator re-enables it; unjoining does not help."""

JOINED_EXISTS = ("dsreg.device-joined", "fleet.shared-device-id")
WORK_ACCOUNT_EXISTS = ("dsreg.work-account",)
JOINED_BROKEN = (
    "dsreg.device-auth-failed",      # DeviceAuthStatus: FAILED. Device is ... disabled or deleted
    "dsreg.key-sign-failed",         # KeySignTest FAILED: the device key cannot sign
    "dsreg.recovery-pending",        # AadRecoveryEnabled YES: device keys unusable
    "dsreg.device-cert-expired",     # the device certificate expired and nothing contradicts it
    "dsreg.prt-device-refused",      # the PRT request was refused because the device is gone
    "aad.device-object-missing",     # the token broker was told the device object is gone
    "fleet.shared-device-id",        # a cloned registration: every copy must re-register
)
WORK_ACCOUNT_BROKEN = ("dsreg.prt-device-refused", "aad.device-object-missing")
DISABLED = ("dsreg.prt-device-disabled", "aad.device-disabled")
"""Entra ID says the device is disabled: DeviceAuthStatus' "disabled or deleted" is then the
disabled half, which an administrator fixes by re-enabling the device, not by unjoining it."""


@dataclass(frozen=True)
class ProofRule:
    """On ``join_types``, ``method`` needs one finding of ``exists`` and one of ``broken``."""

    method: str
    join_types: tuple[JoinType, ...]
    exists: tuple[str, ...]
    broken: tuple[str, ...]


RULES: tuple[ProofRule, ...] = (
    ProofRule("reconnect-work-account", ("entra-joined", "hybrid-joined"),
              JOINED_EXISTS, JOINED_BROKEN),
    ProofRule("reconnect-work-account", ("entra-registered", "domain-joined", "none"),
              WORK_ACCOUNT_EXISTS, WORK_ACCOUNT_BROKEN),
    ProofRule("dsregcmd-leave-join", ("entra-joined", "hybrid-joined"),
              JOINED_EXISTS, JOINED_BROKEN),
)


def base_id(finding: Finding) -> str:
    """The rule's id of a finding (``dsreg.prt-missing@pc-a`` → ``dsreg.prt-missing``)."""
    return finding.id.split("@", 1)[0]


def rule_for(method: str, join_type: JoinType) -> ProofRule | None:
    """The rule that can justify ``method`` on ``join_type``, if any."""
    return next((r for r in RULES if r.method == method and join_type in r.join_types), None)


def justify(method: str, join_type: JoinType, findings: Sequence[Finding]) -> list[str] | None:
    """The ids of the findings that justify ``method`` on ``join_type``, or None."""
    rule = rule_for(method, join_type)
    if rule is None:
        return None
    pcs: list[str | None] = [*sorted({f.pc for f in findings if f.pc is not None})] or [None]
    for pc in pcs:
        here = [f for f in findings if f.pc in (pc, None)]
        exists = [f.id for f in here if base_id(f) in rule.exists]
        broken = [f.id for f in here if base_id(f) in rule.broken and f.severity == "error"]
        if any(base_id(f) in DISABLED for f in here):
            broken = [i for i in broken if not i.startswith("dsreg.device-auth-failed")]
        if exists and broken:
            return list(dict.fromkeys([exists[0], *broken]))
    return None


def needs(method: str, join_type: JoinType) -> str:
    """What evidence would justify ``method`` on ``join_type``, in words."""
    if join_type == "unknown":
        return ("the join type: a dsregcmd /status capture from every PC (one join type), then "
                "findings that the registration exists and is broken")
    rule = rule_for(method, join_type)
    if rule is None:
        return f"nothing: on {a_pc(join_type)} there is no registration for {method} to remove"
    return (f"one of {', '.join(rule.exists)} (the registration exists) and one of "
            f"{', '.join(rule.broken)} with error severity (it is what is broken)")

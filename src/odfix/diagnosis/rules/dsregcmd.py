"""Device trust from ``dsregcmd /status``: registration, PRT health, WAM, dual state.

Fields of User State and SSO State are user-scoped: captured as SYSTEM they describe the machine
account and are not weighed; in a local account's session no PRT is expected (``session``).
"""

from odfix.diagnosis.models import Finding, a_pc
from odfix.diagnosis.proof import DEVICE_DISABLED_AADSTS, DEVICE_GONE_AADSTS
from odfix.diagnosis.rules import session as sessions
from odfix.diagnosis.rules.context import ACCOUNT_NOT_IN_TENANT_AADSTS, RuleContext
from odfix.evidence.common import Citation
from odfix.evidence.dsregcmd import DsregStatus, PrtDiagnostics

SOURCE = "dsregcmd"
PRT_MAX_AGE_HOURS = 4.0
"""CloudAP renews the PRT every four hours; older means it is not renewing."""
JOINED = ("entra-joined", "hybrid-joined")
PRT_DIAGNOSTIC_KEYS = frozenset({
    "acquireprtdiagnostics", "refreshprtdiagnostics", "previous prt attempt", "attempt status",
    "credential type", "http status", "server error code", "server error description",
})
"""The lines of a PRT failure block worth quoting (the rest are ids and URLs)."""
USER_SCOPED = frozenset({
    "dsreg.prt-missing", "dsreg.prt-stale", "dsreg.prt-expired", "dsreg.prt-before-password-change",
    "dsreg.prt-acquire-failed", "dsreg.prt-refresh-failed", "dsreg.prt-device-refused",
    "dsreg.prt-device-disabled", "dsreg.prt-user-not-in-tenant", "dsreg.prt-network-error",
    "dsreg.wam-default-not-set", "dsreg.dual-state", "dsreg.work-account",
})
"""Findings from User State / SSO State: the session's account, not necessarily the user."""
NO_PRT_EXPECTED = frozenset({"dsreg.prt-missing", "dsreg.wam-default-not-set"})
"""Findings that are expected, not faults, in a local account's session."""
HYBRID_NOT_CONFIGURED = "0x801C001D"
"""DSREG_AUTOJOIN_ADCONFIG_READ_FAILED: no service connection point (SCP) could be read."""
DIRECTORY_FAILURE = "0x801C03F2"
"""DSREG_E_DIRECTORY_FAILURE: for a sync join, the computer is not in Entra ID yet."""
PRT_ATTEMPT_KEYS = ("Attempt Status", "HTTP Error")
"""SSO State fields of a failed PRT attempt that carry codes (read alone from bare pastes)."""


def findings(status: DsregStatus, context: RuleContext) -> list[Finding]:
    """Every dsregcmd finding, the join type first, each read for the capture's session."""
    session = sessions.read(status)
    found = [_join(status)]
    for rule in (_registered, _device_id_missing, _device_auth, _certificate, _prt_missing,
                 _prt_stale, _prt_expired, _prt_before_change, _recovery, _key_sign,
                 _wam_default, _dual_state, _registration):
        found.extend(rule(status, context))
    found.extend(_prt_diagnostics(d, context) for d in status.prt.diagnostics)
    found.extend(_prt_network_lines(status, context))
    found = _explain_prt_missing(found)
    note = sessions.finding(session)
    read = [f for f in (_in_session(f, session) for f in found) if f is not None]
    return [read[0], *([note] if note else []), *read[1:]]


def _in_session(finding: Finding, session: sessions.Session) -> Finding | None:
    """``finding`` as the capture's session lets it count: user-scoped findings of a SYSTEM
    capture and expected absences in a local account's session carry no weight."""
    if session.kind == "system" and finding.id == "dsreg.work-account":
        return None  # SYSTEM's own (absent) work accounts say nothing about the user's
    if session.kind == "system" and finding.id in USER_SCOPED:
        why = "captured as SYSTEM, this describes the machine account"
    elif session.kind == "local-account" and finding.id in NO_PRT_EXPECTED:
        why = "expected in a local account's session"
    else:
        return finding
    return finding.model_copy(update={"severity": "info", "weights": {},
                                      "title": f"{finding.title} (not weighed: {why})"})


def _cite(status: DsregStatus, *keys: tuple[str, str]) -> list[Citation]:
    cited = (status.get(section, key) for section, key in keys)
    return [field.citation for field in cited if field is not None]


def _sso(status: DsregStatus, key: str) -> list[Citation]:
    return _cite(status, ("SSO State", key)) or _cite(status, ("User State", key))


def _join(status: DsregStatus) -> Finding:
    return Finding(id="dsreg.join-type", severity="info", source=SOURCE,
                   title=f"Join type: {status.join_type}", evidence=status.join_evidence)


def _registered(status: DsregStatus, _: RuleContext) -> list[Finding]:
    """What registration exists: the device join, or a work account (Entra registered)."""
    found = []
    if status.join_type in JOINED:
        device = f" as device {status.device_id}" if status.device_id else ""
        found.append(Finding(
            id="dsreg.device-joined", severity="info", source=SOURCE,
            title=f"The PC is {status.join_type}{device}: a device registration exists",
            evidence=status.join_evidence + _cite(status, ("Device Details", "DeviceId")),
        ))
    accounts = status.work_accounts
    if status.health.workplace_joined or accounts:
        tenants = sorted({a.workplace_tenant_name or a.workplace_tenant_id or "?"
                          for a in accounts})
        where = f" ({', '.join(tenants)})" if tenants else ""
        found.append(Finding(
            id="dsreg.work-account", severity="info", source=SOURCE,
            title=f"A work account is registered with Entra ID{where}",
            evidence=_cite(status, ("User State", "WorkplaceJoined"))
            + [c for a in accounts for c in a.evidence[:1]],
        ))
    return found


def _device_id_missing(status: DsregStatus, _: RuleContext) -> list[Finding]:
    """A joined PC whose Device Details shows no DeviceId. A paste that left the field (or the
    section) out is missing evidence, not a broken device: nothing is said when Entra ID still
    accepts the device (DeviceAuthStatus SUCCESS) or the user holds a PRT."""
    details = status.section("Device Details")
    if status.join_type not in JOINED or status.device_id or details is None \
            or not details.fields:
        return []
    auth = (status.health.device_auth_status or "").upper()
    if auth.startswith("SUCCESS") or status.prt.azure_ad_prt:
        return []
    return [Finding(
        id="dsreg.device-id-missing", severity="error", source=SOURCE,
        title=f"The PC reports {status.join_type} but shows no DeviceId",
        evidence=status.join_evidence, weights={"device-registration": 0.8},
    )]


def _device_auth(status: DsregStatus, _: RuleContext) -> list[Finding]:
    """``FAILED. Device is either disabled or deleted`` is Entra ID's answer; any other failure
    (``FAILED. ERROR``, ``FAILED. Error: 0xd000023c``) means the test could not run, which needs
    network to Entra ID, and proves nothing about the device object."""
    value = status.health.device_auth_status
    if value is None or value.upper().startswith("SUCCESS"):
        return []
    if "disabled or deleted" not in value.casefold():
        return [Finding(
            id="dsreg.device-auth-unverified", severity="warning", source=SOURCE,
            title=(f"DeviceAuthStatus is {value}: the check could not reach Entra ID "
                   "(network or proxy for the system context), so the device state is unknown"),
            evidence=_cite(status, ("Device Details", "DeviceAuthStatus")),
            weights={"connectivity-tls": 0.4, "device-registration": 0.3},
        )]
    return [Finding(
        id="dsreg.device-auth-failed", severity="error", source=SOURCE,
        title=f"DeviceAuthStatus is {value}: the device object is disabled, deleted or unreachable",
        evidence=_cite(status, ("Device Details", "DeviceAuthStatus")),
        weights={"device-registration": 0.9},
    )]


def _prt_missing(status: DsregStatus, _: RuleContext) -> list[Finding]:
    if status.join_type not in JOINED or status.prt.azure_ad_prt is not False:
        return []
    return [Finding(
        id="dsreg.prt-missing", severity="error", source=SOURCE,
        title=f"No Primary Refresh Token (AzureAdPrt NO) on {a_pc(status.join_type)}",
        evidence=_sso(status, "AzureAdPrt"), weights={"device-registration": 0.7},
    )]


def _prt_stale(status: DsregStatus, context: RuleContext) -> list[Finding]:
    if context.now is None or status.prt.azure_ad_prt is not True:
        return []
    age = status.prt.age_hours(context.now)
    if age is None or age <= PRT_MAX_AGE_HOURS:
        return []
    return [Finding(
        id="dsreg.prt-stale", severity="warning", source=SOURCE,
        title=(f"The PRT was last renewed {age:.1f} h before the capture "
               f"(renewal is due every {PRT_MAX_AGE_HOURS:g} h)"),
        evidence=_sso(status, "AzureAdPrtUpdateTime"), weights={"device-registration": 0.5},
    )]


def _prt_expired(status: DsregStatus, context: RuleContext) -> list[Finding]:
    expiry = status.prt.expiry_time
    if context.now is None or status.prt.azure_ad_prt is not True or expiry is None \
            or expiry >= context.now:
        return []
    return [Finding(
        id="dsreg.prt-expired", severity="error", source=SOURCE,
        title=f"The PRT expired at {expiry:%Y-%m-%d %H:%M} UTC, before the capture",
        evidence=_sso(status, "AzureAdPrtExpiryTime"), weights={"device-registration": 0.7},
    )]


def _prt_before_change(status: DsregStatus, context: RuleContext) -> list[Finding]:
    changed = context.password_changed_at
    updated = status.prt.update_time
    if changed is None or updated is None or updated >= changed:
        return []
    return [Finding(
        id="dsreg.prt-before-password-change", severity="warning", source=SOURCE,
        title=(f"The PRT was last renewed at {updated:%Y-%m-%d %H:%M} UTC, before the password "
               f"change at {changed:%Y-%m-%d %H:%M} UTC"),
        evidence=_sso(status, "AzureAdPrtUpdateTime"),
        weights={"stale-token-password-change": 0.5},
    )]


def _certificate(status: DsregStatus, context: RuleContext) -> list[Finding]:
    valid_to = status.health.certificate_valid_to
    if context.now is None or valid_to is None or valid_to >= context.now:
        return []
    renewed = status.prt.update_time
    if status.prt.azure_ad_prt and renewed is not None and renewed > valid_to:
        # the device still authenticated after that date: the shown validity is not the story
        return [Finding(
            id="dsreg.device-cert-expired", severity="warning", source=SOURCE,
            title=(f"DeviceCertificateValidity ends {valid_to:%Y-%m-%d %H:%M} UTC, yet the PRT "
                   f"was renewed later ({renewed:%Y-%m-%d %H:%M} UTC)"),
            evidence=_cite(status, ("Device Details", "DeviceCertificateValidity")),
            weights={"device-registration": 0.2},
        )]
    return [Finding(
        id="dsreg.device-cert-expired", severity="error", source=SOURCE,
        title=f"The device certificate expired at {valid_to:%Y-%m-%d %H:%M} UTC",
        evidence=_cite(status, ("Device Details", "DeviceCertificateValidity")),
        weights={"device-registration": 0.8},
    )]


def _recovery(status: DsregStatus, _: RuleContext) -> list[Finding]:
    if status.health.aad_recovery_enabled is not True:
        return []
    evidence = _cite(status, ("Diagnostic Data", "AadRecoveryEnabled"),
                     ("Diagnostic Data", "AadRecoveryNeeded"),
                     ("Device State", "AadRecoveryNeeded"))
    return [Finding(
        id="dsreg.recovery-pending", severity="error", source=SOURCE,
        title="AadRecoveryEnabled YES: the device keys are unusable and marked for recovery",
        evidence=evidence, weights={"device-registration": 0.85},
    )]


def _key_sign(status: DsregStatus, _: RuleContext) -> list[Finding]:
    value = status.health.key_sign_test
    if value is None or not value.upper().startswith("FAIL"):
        return []  # PASSED, or not tested (the test needs an elevated prompt)
    return [Finding(
        id="dsreg.key-sign-failed", severity="error", source=SOURCE,
        title=f"KeySignTest is {value}: the device key cannot sign",
        evidence=_cite(status, ("Diagnostic Data", "KeySignTest"), ("Device State", "KeySignTest")),
        weights={"device-registration": 0.8},
    )]


def _wam_default(status: DsregStatus, _: RuleContext) -> list[Finding]:
    """On a joined PC the user's Entra account is Windows' default work account; on a registered
    or unjoined PC the default is the Windows sign-in account, so NO says nothing there."""
    if status.health.wam_default_set is not False or status.join_type not in JOINED:
        return []
    return [Finding(
        id="dsreg.wam-default-not-set", severity="warning", source=SOURCE,
        title="WamDefaultSet NO: Windows has no default work account for silent sign-in",
        evidence=_cite(status, ("User State", "WamDefaultSet")),
        weights={"device-registration": 0.4},
    )]


def _dual_state(status: DsregStatus, _: RuleContext) -> list[Finding]:
    if not status.health.dual_state:
        return []
    return [Finding(
        id="dsreg.dual-state", severity="warning", source=SOURCE,
        title="Dual state: hybrid joined and also Entra registered (WorkplaceJoined YES)",
        evidence=_cite(status, ("Device State", "AzureAdJoined"), ("Device State", "DomainJoined"),
                       ("User State", "WorkplaceJoined")),
        weights={"device-registration": 0.6},
    )]


def _prt_diagnostics(diag: PrtDiagnostics, context: RuleContext) -> Finding:
    """A failed PRT attempt; refused because the device object is gone or disabled, or because
    Entra ID does not know the account, it says so in its id (``dsreg.prt-device-refused``,
    ``dsreg.prt-device-disabled``, ``dsreg.prt-user-not-in-tenant``). A failure whose code points
    elsewhere (a wrong or changed password, the network) counts little toward device
    registration; one that says nothing counts 0.5."""
    aadsts = [diag.aadsts] if diag.aadsts is not None else []
    weights = context.weights(context.classify(diag.codes, aadsts))
    elsewhere = any(w > 0 for c, w in weights.items() if c != "device-registration")
    floor = 0.2 if elsewhere else 0.5  # the server or the network said why: not the device
    weights["device-registration"] = max(weights.get("device-registration", 0.0), floor)
    detail = (diag.server_error_description or diag.server_error_code or diag.attempt_status
              or "no detail")
    key_lines = [c for c in diag.evidence
                 if c.text.split(":", 1)[0].strip().casefold() in PRT_DIAGNOSTIC_KEYS]
    kind = f"{diag.kind}-failed"
    title = f"The last PRT {diag.kind} attempt failed: {detail}"
    if diag.aadsts in DEVICE_GONE_AADSTS:
        kind, weights["device-registration"] = "device-refused", 0.85
    elif diag.aadsts in DEVICE_DISABLED_AADSTS:
        kind = "device-disabled"
    elif diag.aadsts in ACCOUNT_NOT_IN_TENANT_AADSTS:
        kind, weights = "user-not-in-tenant", {"device-registration": 0.4}
        who = f" ({diag.user_identity})" if diag.user_identity else ""
        title += (f" Entra ID does not know the sign-in name{who}: its domain is not a verified "
                  "domain of the tenant, or the account is not synced; the directory "
                  "administrator fixes the UPN or the sync scope, nothing on the PC is broken")
    return Finding(id=f"dsreg.prt-{kind}", severity="error", source=SOURCE, title=title,
                   evidence=key_lines or diag.evidence, weights=weights)


def _prt_network_lines(status: DsregStatus, context: RuleContext) -> list[Finding]:
    """A pasted PRT attempt without its ``AcquirePrtDiagnostics`` header (bare lines): its
    network codes (``HTTP Error : 0x80072ee7``, name not resolved) still say the attempt never
    reached Entra ID."""
    if status.prt.diagnostics:
        return []
    cited = [f for key in PRT_ATTEMPT_KEYS for f in status.get_all("SSO State", key)]
    codes = [f.value.split()[0] for f in cited if f.value.strip().lower().startswith("0x")]
    if "network" not in context.categories(codes):
        return []
    return [Finding(
        id="dsreg.prt-network-error", severity="error", source=SOURCE,
        title=(f"The last PRT attempt failed on the network ({', '.join(codes)}): it never "
               "reached Entra ID (name resolution, proxy or connection)"),
        evidence=[f.citation for f in cited], weights={"connectivity-tls": 0.7},
    )]


def _explain_prt_missing(found: list[Finding]) -> list[Finding]:
    """``AzureAdPrt : NO`` is the consequence, not more evidence, when the failed attempt says why
    and the reason is not the device (a wrong or changed password, the network, an account Entra
    ID does not know): the missing PRT then carries no weight of its own."""
    reasons = [f for f in found if f.id.startswith("dsreg.prt-") and f.id != "dsreg.prt-missing"
               and f.severity == "error" and _not_the_device(f)]
    if not reasons:
        return found
    why = f"explained by {reasons[0].id}"
    return [f.model_copy(update={"weights": {}, "severity": "warning",
                                 "title": f"{f.title} ({why})"})
            if f.id == "dsreg.prt-missing" else f for f in found]


def _not_the_device(finding: Finding) -> bool:
    device = finding.weights.get("device-registration", 0.0)
    other = max((w for c, w in finding.weights.items() if c != "device-registration"),
                default=0.0)
    return finding.id == "dsreg.prt-user-not-in-tenant" or other > device


def _registration(status: DsregStatus, context: RuleContext) -> list[Finding]:
    """Pre-join diagnostics (shown on a domain-joined PC that is not hybrid joined). 0x801c001d
    in the AD configuration test means hybrid join is not configured for the forest (no SCP):
    there is nothing on the PC to repair, the directory administrator decides. A discovery that
    fails on the network (0x801c0021 with a WinINet or DSREG_E_DISCOVERY_FAILED sub-error) is the
    network's: the PC must reach the registration service in the SYSTEM context. 0x801c03f2
    (DirectoryError) is expected for a sync join until Entra Connect has synced the computer."""
    diag = status.registration
    if diag is None or not (diag.failed_tests or diag.client_error_code or diag.error_phase):
        return []
    codes = {c.casefold() for c in diag.codes}
    failed = ", ".join(diag.failed_tests) or f"error phase {diag.error_phase}"
    code = f" ({diag.client_error_code})" if diag.client_error_code else ""
    if HYBRID_NOT_CONFIGURED.casefold() in codes:
        return [Finding(
            id="dsreg.hybrid-join-not-configured", severity="warning", source=SOURCE,
            title=("Hybrid join is not configured for this domain: the PC finds no service "
                   "connection point (SCP) in Active Directory (AD Configuration Test, "
                   "0x801c001d), so it is domain joined only and has no Entra registration"),
            evidence=diag.evidence, weights={"device-registration": 0.4},
        )]
    aadsts = [diag.aadsts] if diag.aadsts is not None else []
    categories = context.classify(diag.codes, aadsts)
    if "network" in categories:
        return [Finding(
            id="dsreg.registration-network", severity="error", source=SOURCE,
            title=(f"Hybrid join cannot reach the device registration service: {failed}{code}; "
                   "enterpriseregistration.windows.net and login.microsoftonline.com must be "
                   "reachable in the SYSTEM context (through the proxy the computer uses)"),
            evidence=diag.evidence, weights={"connectivity-tls": 0.7, "device-registration": 0.3},
        )]
    if DIRECTORY_FAILURE.casefold() in codes:
        message = f": {diag.server_message}" if diag.server_message else ""
        return [Finding(
            id="dsreg.registration-sync-pending", severity="warning", source=SOURCE,
            title=(f"The hybrid join attempt was refused with DirectoryError (0x801c03f2)"
                   f"{message}: expected for a sync join until Entra Connect has synced this "
                   "computer (it must be in the sync scope)"),
            evidence=diag.evidence, weights={"device-registration": 0.5},
        )]
    weights = context.weights(categories)
    weights["device-registration"] = max(weights.get("device-registration", 0.0), 0.7)
    return [Finding(
        id="dsreg.registration-failed", severity="error", source=SOURCE,
        title=f"Device registration diagnostics report a failure: {failed}{code}",
        evidence=diag.evidence, weights=weights,
    )]

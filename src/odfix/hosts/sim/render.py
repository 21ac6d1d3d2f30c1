"""Command output of the simulated PC in the layouts real Windows prints.

``dsregcmd /status`` follows the section/field layout of the reference appendix (72-character
separators, keys right-aligned to 26 columns, ``AadRecoveryEnabled:`` without its space);
``wevtutil qe /f:xml`` prints bare ``<Event>`` elements, one a line, with the 1098 fields
``Error`` (unsigned decimal), ``ErrorMessage`` and ``AdditionalInformation`` (as in
tests/fixtures/aad_events); ``netsh winhttp show proxy`` its two variants.
"""

from datetime import datetime, timedelta
from xml.sax.saxutils import escape

from odfix.hosts.sim.state import SimEvent, SimState

SEPARATOR = "+" + "-" * 70 + "+"
KEY_WIDTH = 26
PRT_LIFETIME = timedelta(days=14)
CERT_LIFETIME = timedelta(days=3652)
AAD_PROVIDER_GUID = "{4DE9BC9C-B27A-43C9-8994-0915F1A5E24F}"
EVENT_NS = "http://schemas.microsoft.com/win/2004/08/events/event"
USER_SID = "S-1-5-21-1111111111-2222222222-3333333333-1001"


def dsreg_time(moment: datetime) -> str:
    """``2025-07-24 19:15:33.000 UTC``, the way dsregcmd prints times."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d} UTC"


def _section(title: str, fields: list[tuple[str, str]]) -> list[str]:
    out = [SEPARATOR, f"| {title:<68} |", SEPARATOR, ""]
    for key, value in fields:
        if key == "AadRecoveryEnabled":
            out.append(f"{key:>{KEY_WIDTH + 1}}: {value}".rstrip())
        else:
            out.append(f"{key:>{KEY_WIDTH}} : {value}".rstrip())
    out.append("")
    return out


def _yes(flag: bool) -> str:
    return "YES" if flag else "NO"


def dsregcmd_status(state: SimState, *, device_auth_ok: bool, prt_error: str | None) -> str:
    """The full ``dsregcmd /status`` text for the current state."""
    reg, tenant = state.registration, state.tenant
    joined = reg.join_type in ("entra-joined", "hybrid-joined") and reg.device_id is not None
    domain = reg.join_type in ("hybrid-joined", "domain-joined")
    registered = reg.join_type == "entra-registered" and reg.device_id is not None
    fqdn = f"{state.hostname}.contoso.local" if domain else state.hostname
    lines = [""]
    device_state = [("AzureAdJoined", _yes(joined)), ("EnterpriseJoined", "NO"),
                    ("DomainJoined", _yes(domain))]
    if domain:
        device_state.append(("DomainName", reg.domain_name or "CONTOSO"))
    device_state += [("Virtual Desktop", "NOT SET"), ("Device Name", fqdn)]
    lines += _section("Device State", device_state)
    issued = _cert_from(state)
    validity = f"[ {dsreg_time(issued)} -- {dsreg_time(issued + CERT_LIFETIME)} ]"
    if joined:
        lines += _section("Device Details", [
            ("DeviceId", reg.device_id or ""),
            ("Thumbprint", reg.thumbprint or ""),
            ("DeviceCertificateValidity", validity),
            ("KeyContainerId", "99999999-8888-7777-6666-555555555555"),
            ("KeyProvider", "Microsoft Platform Crypto Provider"),
            ("TpmProtected", "YES"),
            ("DeviceAuthStatus",
             "SUCCESS" if device_auth_ok else "FAILED. Device is either disabled or deleted"),
        ])
        lines += _section("Tenant Details", _tenant_fields(state))
    user_state = [("NgcSet", "NO"), ("CanReset", "DestructiveAndNonDestructive"),
                  ("WorkplaceJoined", _yes(registered))]
    if registered:
        user_state.append(("WorkAccountCount", "1"))
    user_state.append(("WamDefaultSet", _yes(reg.wam_default_set)))
    if reg.wam_default_set:
        user_state += [("WamDefaultAuthority", "organizations"),
                       ("WamDefaultId", "https://login.microsoft.com"),
                       ("WamDefaultGUID", "{B16898C6-A148-4967-9171-64D755DA8520} (AzureAd)")]
    lines += _section("User State", user_state)
    if registered:
        lines += _section("Work Account 1", [
            ("WorkplaceDeviceId", reg.device_id or ""),
            ("WorkplaceThumbprint", reg.thumbprint or ""),
            ("DeviceCertificateValidity", validity),
            ("KeyContainerId", "99999999-8888-7777-6666-555555555555"),
            ("KeyProvider", "Microsoft Platform Crypto Provider"),
            ("TpmProtected", "YES"),
            ("WorkplaceTenantId", tenant.id),
            ("WorkplaceTenantName", tenant.name),
            ("WorkplaceMdmUrl", ""),
            ("WorkplaceSettingsUrl", ""),
            ("NgcSet", "NO"),
        ])
    lines += _section("SSO State", _sso_fields(state, joined, prt_error))
    if joined:
        lines += _section("Diagnostic Data", [
            ("AadRecoveryEnabled", _yes(not reg.keys_healthy)),
            ("KeySignTest", "PASSED" if reg.keys_healthy else "FAILED"),
        ])
    lines += _section("Ngc Prerequisite Check", [
        ("IsDeviceJoined", _yes(joined)), ("IsUserAzureAD", _yes(joined or registered)),
        ("PolicyEnabled", "NO"), ("PostLogonEnabled", "YES"), ("DeviceEligible", "YES"),
        ("SessionIsNotRemote", "YES"), ("CertEnrollment", "none"),
        ("PreReqResult", "WillNotProvision"),
    ])
    return "\r\n".join(lines) + "\r\n"


def _cert_from(state: SimState) -> datetime:
    issued = state.registration.prt_issued_at or state.now
    return issued.replace(microsecond=0) - timedelta(days=30)


def _tenant_fields(state: SimState) -> list[tuple[str, str]]:
    tid = state.tenant.id
    login = f"https://login.microsoftonline.com/{tid}/oauth2"
    drs = "https://enterpriseregistration.windows.net"
    urn = "urn:ms-drs:enterpriseregistration.windows.net"
    return [
        ("TenantName", state.tenant.name), ("TenantId", tid), ("Idp", "login.windows.net"),
        ("AuthCodeUrl", f"{login}/authorize"), ("AccessTokenUrl", f"{login}/token"),
        ("MdmUrl", "https://enrollment.manage.microsoft.com/enrollmentserver/discovery.svc"),
        ("MdmTouUrl", "https://portal.manage.microsoft.com/TermsofUse.aspx"),
        ("MdmComplianceUrl", "https://portal.manage.microsoft.com/?portalAction=Compliance"),
        ("SettingsUrl", ""),
        ("JoinSrvVersion", "1.0"), ("JoinSrvUrl", f"{drs}/EnrollmentServer/device/"),
        ("JoinSrvId", urn),
        ("KeySrvVersion", "1.0"), ("KeySrvUrl", f"{drs}/EnrollmentServer/key/"), ("KeySrvId", urn),
        ("WebAuthNSrvVersion", "1.0"), ("WebAuthNSrvUrl", f"{drs}/webauthn/{tid}/"),
        ("WebAuthNSrvId", urn),
        ("DeviceManagementSrvVer", "1.0"), ("DeviceManagementSrvUrl", f"{drs}/manage/{tid}/"),
        ("DeviceManagementSrvId", urn),
    ]


def _sso_fields(state: SimState, joined: bool, prt_error: str | None) -> list[tuple[str, str]]:
    reg = state.registration
    authority = f"https://login.microsoftonline.com/{state.tenant.id}"
    has_prt = joined and reg.prt_updated_at is not None
    fields = [("AzureAdPrt", _yes(has_prt))]
    if has_prt and reg.prt_updated_at is not None:
        fields += [("AzureAdPrtUpdateTime", dsreg_time(reg.prt_updated_at)),
                   ("AzureAdPrtExpiryTime", dsreg_time(reg.prt_updated_at + PRT_LIFETIME))]
    if joined:
        fields.append(("AzureAdPrtAuthority", authority))
    if joined and prt_error is not None:
        failures = [e for e in state.events if e.event_id == 1098]
        attempt = failures[-1].time if failures else state.now
        fields += [
            ("AcquirePrtDiagnostics" if not has_prt else "RefreshPrtDiagnostics", "PRESENT"),
            ("Previous Prt Attempt", dsreg_time(attempt)),
            ("Attempt Status", "0xc000006d"),
            ("User Identity", state.person.upn),
            ("Credential Type", "Password"),
            ("Correlation ID", "00000000-1111-2222-3333-444444444444"),
            ("Endpoint URI", f"{authority}/oauth2/token/"),
            ("HTTP Method", "POST"),
            ("HTTP Error", "0x0"),
            ("HTTP status", "400"),
            ("Server Error Code", "invalid_grant"),
            ("Server Error Description", prt_error),
        ]
    return fields


def wevtutil_xml(state: SimState, count: int) -> str:
    """``wevtutil qe Microsoft-Windows-AAD/Operational /f:xml /rd:true /c:N``: newest first."""
    events = sorted(state.events, key=lambda e: e.record_id, reverse=True)[:count]
    return "".join(_event_xml(state, e) for e in events)


def _event_xml(state: SimState, event: SimEvent) -> str:
    """One event as ``/f:xml`` prints it: ``Error`` as the unsigned decimal UInt32, CR LF inside
    values as character references, one element per line."""
    when = event.time.strftime("%Y-%m-%dT%H:%M:%S.") + f"{event.time.microsecond:06d}0Z"
    values = (("Error", str(int(event.error, 16)) if event.error else ""),
              ("ErrorMessage", event.error_message), ("AdditionalInformation", event.additional))
    data = "".join(
        f"<Data Name='{name}'>{escape(value).replace(chr(13), '&#13;').replace(chr(10), '&#10;')}"
        "</Data>" for name, value in values)
    return (
        f"<Event xmlns='{EVENT_NS}'><System>"
        f"<Provider Name='Microsoft-Windows-AAD' Guid='{AAD_PROVIDER_GUID.lower()}'/>"
        f"<EventID>{event.event_id}</EventID><Version>0</Version><Level>{event.level}</Level>"
        "<Task>103</Task><Opcode>0</Opcode><Keywords>0x4000000000000012</Keywords>"
        f"<TimeCreated SystemTime='{when}'/><EventRecordID>{event.record_id}</EventRecordID>"
        "<Correlation/><Execution ProcessID='11500' ThreadID='5920'/>"
        "<Channel>Microsoft-Windows-AAD/Operational</Channel>"
        f"<Computer>{escape(state.hostname)}</Computer>"
        f"<Security UserID='{USER_SID}'/>"
        f"</System><EventData>{data}</EventData></Event>\r\n"
    )


def netsh_proxy(proxy: str | None) -> str:
    """``netsh winhttp show proxy`` for a direct connection or a named proxy."""
    if proxy is None:
        body = "    Direct access (no proxy server)."
    else:
        body = f"    Proxy Server(s) :  {proxy}\r\n    Bypass List     :  (none)"
    return f"\r\nCurrent WinHTTP proxy settings:\r\n\r\n{body}\r\n\r\n"

"""SYNTHETIC evidence for the property tests: dsregcmd outputs and AAD events built from a spec.

Layouts follow the real captures (tests/fixtures/real, tests/fixtures/aad_events); the values are
invented. ``Pc`` says what is on the PC; ``truth`` says, from the spec alone, which destructive
methods the evidence justifies (issue 9: the registration exists and it is what is broken).
"""

from dataclasses import dataclass, field

from odfix.diagnosis.models import JoinType

SEPARATOR = "+" + "-" * 70 + "+"
AAD_ERRORS = {
    # AADSTS code (or None) → the 1098 event's Error (unsigned), message, description
    "network": (3399942154, "The Internet connection has timed out.", None),
    "50155": (3399614467, "The grant is invalid.",
              "AADSTS50155: Device authentication failed for this user."),
    "700003": (3399614467, "The grant is invalid.",
               "AADSTS700003: Device object was not found in the tenant directory."),
    "135011": (3399614467, "The grant is invalid.",
               "AADSTS135011: Device used during the authentication is disabled."),
    "50173": (3399614467, "The grant is invalid.",
              "AADSTS50173: The provided grant has expired due to it being revoked."),
    "90002": (3399614467, "The grant is invalid.", "AADSTS90002: Tenant 'corp.local' not found."),
    "50076": (3399614476, "The request requires user interaction.",
              "AADSTS50076: Due to a configuration change made by your administrator, you must "
              "use multi-factor authentication."),
}
PRT_ERRORS = {
    "50126": "AADSTS50126: Error validating credentials due to invalid username or password.",
    "50155": "AADSTS50155: Device authentication failed for this user.",
    "700003": "AADSTS700003: Device object was not found in the tenant directory.",
    "135011": "AADSTS135011: Device used during the authentication is disabled.",
    "90002": "AADSTS90002: Tenant 'corp.local' not found.",
}
GONE = {"50155", "700003"}
DISABLED = {"135011"}


@dataclass(frozen=True)
class Pc:
    """What one PC shows. ``dsregcmd`` False: no capture at all."""

    name: str = "PC-0001"
    dsregcmd: bool = True
    device_state: bool = True
    azure_ad_joined: bool = True
    domain_joined: bool = True
    user_sections: bool = True
    workplace_joined: bool = False
    session: str = "user"  # user | system | local | none
    device_details: bool = True
    device_id: str | None = "aaaaaaaa-bbbb-cccc-dddd-000000000001"
    device_auth: str | None = "SUCCESS"
    key_sign: str | None = "PASSED"
    recovery: bool = False
    prt: bool = True
    prt_error: str | None = None
    prejoin: str | None = None  # scp | discovery
    aad: tuple[str, ...] = ()
    proxy: bool = False
    extra: dict[str, bytes] = field(default_factory=dict)

    @property
    def joined(self) -> bool:
        return self.dsregcmd and self.device_state and self.azure_ad_joined

    @property
    def join_type(self) -> JoinType:
        """The join type a careful reader takes from this capture."""
        if not (self.dsregcmd and self.device_state):
            return "unknown"
        if self.azure_ad_joined:
            return "hybrid-joined" if self.domain_joined else "entra-joined"
        if self.domain_joined:
            return "domain-joined"
        if self.session == "system" or not self.user_sections:
            return "unknown"  # WorkplaceJoined is the user's: not readable here
        return "entra-registered" if self.workplace_joined else "none"


def dsregcmd_text(pc: Pc) -> str:
    """A ``dsregcmd /status`` output in the current builds' layout."""
    lines: list[str] = []

    def section(title: str, fields: list[tuple[str, str]]) -> None:
        lines.extend([SEPARATOR, f"| {title:<68} |", SEPARATOR, ""])
        lines.extend(f"{key:>26} : {value}" for key, value in fields)
        lines.append("")

    if pc.device_state:
        state = [("AzureAdJoined", _yes(pc.azure_ad_joined)), ("EnterpriseJoined", "NO"),
                 ("DomainJoined", _yes(pc.domain_joined))]
        if pc.domain_joined:
            state.append(("DomainName", "CONTOSO"))
        section("Device State", [*state, ("Device Name", f"{pc.name}.contoso.local")])
    if pc.device_details and pc.azure_ad_joined:
        details = [("DeviceId", pc.device_id)] if pc.device_id else []
        details.append(("DeviceCertificateValidity",
                        "[ 2025-01-01 00:00:00.000 UTC -- 2035-01-01 00:30:00.000 UTC ]"))
        if pc.device_auth:
            details.append(("DeviceAuthStatus", pc.device_auth))
        section("Device Details", details)
    if pc.user_sections:
        section("User State", [("NgcSet", "NO"), ("WorkplaceJoined", _yes(pc.workplace_joined)),
                               ("WamDefaultSet", _yes(pc.prt))])
        sso = [("AzureAdPrt", _yes(pc.prt))]
        if pc.prt:
            sso += [("AzureAdPrtUpdateTime", "2026-01-12 08:00:00.000 UTC"),
                    ("AzureAdPrtExpiryTime", "2026-01-26 08:00:00.000 UTC")]
        if pc.prt_error:
            sso += [("AcquirePrtDiagnostics", "PRESENT"),
                    ("Previous Prt Attempt", "2026-01-12 08:10:00.000 UTC"),
                    ("Attempt Status", "0xc000006d"), ("HTTP status", "400"),
                    ("Server Error Code", "invalid_grant"),
                    ("Server Error Description", PRT_ERRORS[pc.prt_error])]
        section("SSO State", sso)
    diagnostic: list[tuple[str, str]] = []
    if pc.session == "system":
        diagnostic.append(("User Context", "SYSTEM"))
    elif pc.session != "none" and pc.prejoin:
        diagnostic.append(("User Context", "UN-ELEVATED User"))
    if pc.prejoin == "scp":
        diagnostic += [("AD Configuration Test", "FAIL [0x80070002]"),
                       ("Error Phase", "discover"), ("Client ErrorCode", "0x801c001d")]
    elif pc.prejoin == "sync":
        diagnostic += [("Registration Type", "sync"), ("Error Phase", "join"),
                       ("Client ErrorCode", "0x801c03f2"), ("Server ErrorCode", "DirectoryError")]
    elif pc.prejoin == "discovery":
        diagnostic += [("DRS Discovery Test", "FAIL [0x801c0021/0x80072ee2]"),
                       ("Error Phase", "discover"), ("Client ErrorCode", "0x801c0021")]
    if pc.azure_ad_joined:
        diagnostic.append(("AadRecoveryEnabled", _yes(pc.recovery)))
        if pc.key_sign:
            diagnostic.append(("KeySignTest", pc.key_sign))
    accounts = {"user": "CONTOSO\\user1, user1@contoso.com", "local": f"{pc.name}\\localuser",
                "system": f"CONTOSO\\{pc.name}$, {pc.name}$@contoso.local"}
    if pc.session in accounts:
        diagnostic.append(("Executing Account Name", accounts[pc.session]))
    if diagnostic:
        section("Diagnostic Data", diagnostic)
    return "\r\n".join(lines) + "\r\n"


def aad_xml(pc: Pc) -> str:
    """A wevtutil ``/f:xml /rd:true`` capture with one 1098 event per entry of ``pc.aad``."""
    events = []
    for number, key in enumerate(pc.aad):
        error, message, description = AAD_ERRORS[key]
        info = f"Code: invalid_grant&#13;&#10;Description: {description}" if description else (
            "Logged at ClientCache.cpp, line: 324, method: ClientCache::LoadPrimaryAccount.")
        events.append(
            "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
            "<Provider Name='Microsoft-Windows-AAD' Guid='{4de9bc9c-b27a-43c9-8994-0915f1a5e24f}'/>"
            "<EventID>1098</EventID><Version>0</Version><Level>2</Level><Task>103</Task>"
            f"<Opcode>0</Opcode><TimeCreated SystemTime='2026-01-12T08:{10 + number:02d}:04.1Z'/>"
            f"<EventRecordID>{100 + number}</EventRecordID>"
            "<Channel>Microsoft-Windows-AAD/Operational</Channel>"
            f"<Computer>{pc.name}.contoso.local</Computer></System><EventData>"
            f"<Data Name='Error'>{error}</Data><Data Name='ErrorMessage'>{message}</Data>"
            f"<Data Name='AdditionalInformation'>{info}</Data></EventData></Event>")
    return "\r\n".join(events) + "\r\n"


def files(pc: Pc) -> dict[str, bytes]:
    """The PC's captures under their conventional names."""
    out: dict[str, bytes] = dict(pc.extra)
    if pc.dsregcmd:
        out["dsregcmd_status.txt"] = dsregcmd_text(pc).encode()
    if pc.aad:
        out["aad_operational.xml"] = aad_xml(pc).encode()
    if pc.proxy:
        out["winhttp_proxy.txt"] = (b"\r\nCurrent WinHTTP proxy settings:\r\n\r\n"
                                    b"    Proxy Server(s) :  proxy.contoso.com:8080\r\n"
                                    b"    Bypass List     :  (none)\r\n\r\n")
    return out


def truth(pcs: list[Pc], shared_id: bool) -> dict[str, bool]:
    """From the spec alone: may each destructive method be planned for these PCs?"""
    kinds = {pc.join_type for pc in pcs}
    join = kinds.pop() if len(kinds) == 1 else "unknown"
    trusted = {pc.name: pc.dsregcmd and pc.user_sections and pc.session != "system"
               for pc in pcs}

    def disabled(pc: Pc) -> bool:
        return (pc.user_sections and pc.prt_error in DISABLED) or bool(DISABLED & set(pc.aad))

    def gone(pc: Pc) -> bool:
        return (trusted[pc.name] and pc.prt_error in GONE) or bool(GONE & set(pc.aad))

    def joined_broken(pc: Pc) -> bool:
        deleted = (pc.device_details and pc.device_auth is not None
                   and "disabled or deleted" in pc.device_auth and not disabled(pc))
        return pc.joined and (deleted or pc.key_sign == "FAILED" or pc.recovery or gone(pc))

    def account_broken(pc: Pc) -> bool:
        return trusted[pc.name] and pc.workplace_joined and gone(pc)

    cloned = shared_id and len({pc.name for pc in pcs}) > 1 and all(
        pc.joined and pc.device_details and pc.device_id for pc in pcs)  # both show the id
    joined_ok = join in ("entra-joined", "hybrid-joined") and (
        cloned or any(joined_broken(pc) for pc in pcs))
    account_ok = join in ("entra-registered", "domain-joined", "none") and any(
        account_broken(pc) for pc in pcs)
    return {"dsregcmd-leave-join": joined_ok, "reconnect-work-account": joined_ok or account_ok}


def _yes(value: bool) -> str:
    return "YES" if value else "NO"

"""Cause → effect on the simulated PC: token requests, sign-ins, device (un)registration.

Each request decides from the state alone, in the order Windows meets the problems: the network
first, then the Office identity cache, then the device, then cached tokens, then Conditional
Access. A failure writes AAD event 1098 the way the token broker does.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from odfix.hosts.base import RegValue
from odfix.hosts.sim.state import SimCredential, SimEvent, SimState

ONEDRIVE_KEY = r"HKCU\Software\Microsoft\OneDrive"
ACCOUNT_KEY = ONEDRIVE_KEY + r"\Accounts\Business1"
IDENTITY_KEY = r"HKCU\Software\Microsoft\Office\16.0\Common\Identity"
OFFICE_PREFIX = "LegacyGeneric:target=MicrosoftOffice16_Data:"
ONEDRIVE_TARGET = "LegacyGeneric:target=OneDrive Cached Credential Business - Business1"
INTERNET_KEY = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings"
TLS12_BIT = 0x800
WITH_TLS12 = 0xA80
"""WinINet ``SecureProtocols``: TLS 1.0 (0x80) + TLS 1.1 (0x200) + TLS 1.2 (0x800)."""
WITHOUT_TLS12 = 0xA0
"""SSL 3.0 (0x20) + TLS 1.0 (0x80): what an old hardening script leaves behind."""


@dataclass(frozen=True)
class Failure:
    """Why a token request failed, as the broker logs it."""

    error: str
    message: str
    additional: str


NETWORK = Failure("0xCAA82EE2", "The operation timed out.",
                  "Code: 0x80072ee2\r\nDescription: The TLS 1.2 handshake with "
                  "login.microsoftonline.com did not complete.")
MULTIPLE_IDENTITIES = Failure(
    "0xCAA20003", "Authorization grant failed for this assertion.",
    "Code: invalid_grant\r\nDescription: AADSTS50020: User account from identity provider does "
    "not exist in tenant and cannot access the application.")
DEVICE_DISABLED = Failure(
    "0xCAA20004", "The request was denied.",
    "Code: access_denied\r\nDescription: AADSTS135011: Device used during the authentication is "
    "disabled.")
DEVICE_NOT_AUTHENTICATED = Failure(
    "0xCAA20003", "Authorization grant failed for this assertion.",
    "Code: invalid_grant\r\nDescription: AADSTS50155: Device authentication failed for this user.")
STALE_TOKEN = Failure(
    "0xCAA20003", "Authorization grant failed for this assertion.",
    "Code: invalid_grant\r\nDescription: AADSTS50173: The provided grant has expired due to it "
    "being revoked, a fresh auth token is needed. The user might have changed or reset their "
    "password.")
INTERACTION_REQUIRED = Failure(
    "0xCAA2000C", "The request requires user interaction.",
    "Code: interaction_required\r\nDescription: AADSTS50076: Due to a configuration change made "
    "by your administrator, or because you moved to a new location, you must use multi-factor "
    "authentication to access '00000003-0000-0000-c000-000000000000'.")


def tls12(state: SimState) -> bool:
    """Whether Internet Options has TLS 1.2 on (``SecureProtocols`` bit 0x800; on when unset)."""
    values = next((v for k, v in state.registry.items() if k.lower() == INTERNET_KEY.lower()), [])
    setting = next((v.data for v in values if v.name.lower() == "secureprotocols"), None)
    return not isinstance(setting, int) or bool(setting & TLS12_BIT)


def set_tls12(state: SimState, enabled: bool) -> None:
    """Tick or untick "Use TLS 1.2" in Internet Options."""
    value = RegValue(name="SecureProtocols", kind="REG_DWORD",
                     data=WITH_TLS12 if enabled else WITHOUT_TLS12)
    state.registry[INTERNET_KEY] = [
        *[v for v in state.registry.get(INTERNET_KEY, []) if v.name != "SecureProtocols"], value]


FAILURES = {"network": NETWORK, "multiple-identities": MULTIPLE_IDENTITIES,
            "device-disabled": DEVICE_DISABLED,
            "device-not-authenticated": DEVICE_NOT_AUTHENTICATED,
            "stale-token": STALE_TOKEN, "interaction-required": INTERACTION_REQUIRED}
"""Failures by name, for scenario histories."""


def tick(state: SimState, seconds: float = 1.0) -> None:
    """Advance the simulated clock (every observable act takes a moment)."""
    state.now = state.now + timedelta(seconds=seconds)


def log_failure(state: SimState, failure: Failure, at: datetime | None = None) -> None:
    """Write event 1098 (error) to the AAD operational log."""
    record = max((e.record_id for e in state.events), default=1000) + 1
    state.events.append(SimEvent(record_id=record, event_id=1098, level=2, time=at or state.now,
                                 error=failure.error, error_message=failure.message,
                                 additional=failure.additional))


def revoked_at(state: SimState) -> datetime | None:
    """When the tenant last invalidated the user's tokens (password change or revocation)."""
    times = [t for t in (state.tenant.password_changed_at, state.tenant.sessions_revoked_at) if t]
    return max(times) if times else None


def registered(state: SimState) -> bool:
    """Whether the PC holds a device registration (joined or registered)."""
    reg = state.registration
    return reg.device_id is not None and reg.join_type in (
        "entra-joined", "hybrid-joined", "entra-registered")


def joined(state: SimState) -> bool:
    """Whether the PC is Entra joined or hybrid joined right now."""
    return registered(state) and state.registration.join_type != "entra-registered"


def device_failure(state: SimState) -> Failure | None:
    """The tenant's or the keys' verdict on the device, when the PC holds a registration."""
    if not registered(state):
        return None
    reg, tenant = state.registration, state.tenant
    if not tenant.device_enabled:
        return DEVICE_DISABLED
    if reg.device_id in tenant.cloned_device_ids or not reg.keys_healthy:
        return DEVICE_NOT_AUTHENTICATED
    return None


def device_auth_ok(state: SimState) -> bool:
    """``DeviceAuthStatus``: the tenant knows and accepts this device object."""
    return state.tenant.device_enabled and (
        state.registration.device_id not in state.tenant.cloned_device_ids)


def _identities(state: SimState) -> set[str]:
    """Distinct accounts in Office's identity cache (``Identities\\*`` ``EmailAddress``)."""
    accounts: set[str] = set()
    prefix = (IDENTITY_KEY + "\\").lower()
    for key, values in state.registry.items():
        if key.lower().startswith(prefix):
            accounts.update(str(v.data).casefold() for v in values
                            if v.name.lower() == "emailaddress")
    return accounts


def _cached(state: SimState) -> list[SimCredential]:
    return [c for c in state.credentials if c.type == 1 and (
        c.target.startswith(OFFICE_PREFIX) or c.target == ONEDRIVE_TARGET)]


def stale_cache(state: SimState) -> bool:
    """A cached Office/OneDrive token written before the tenant invalidated tokens."""
    cut = revoked_at(state)
    return cut is not None and any(c.last_written < cut for c in _cached(state))


def prt_valid(state: SimState) -> bool:
    """A PRT the tenant still honours."""
    reg, cut = state.registration, revoked_at(state)
    return (joined(state) and reg.prt_updated_at is not None
            and (cut is None or reg.prt_updated_at >= cut))


def frequency_expired(state: SimState) -> bool:
    """Conditional Access sign-in frequency demands a fresh interactive sign-in."""
    hours = state.tenant.sign_in_frequency_hours
    last = state.last_interactive_sign_in
    return hours is not None and (last is None or state.now - last > timedelta(hours=hours))


def prt_error(state: SimState) -> str | None:
    """The AADSTS text dsregcmd shows under the PRT diagnostics, if the last attempt failed."""
    if not joined(state):
        return None
    failure = device_failure(state)
    if failure is None and state.registration.prt_updated_at is not None and not prt_valid(state):
        failure = STALE_TOKEN
    return failure.additional.split("Description: ", 1)[1] if failure else None


def silent_request(state: SimState) -> bool:
    """OneDrive asks the broker for a token without the person; True when it gets one."""
    tick(state)
    failure: Failure | None = None
    if not tls12(state):
        failure = NETWORK
    elif len(_identities(state)) > 1:
        failure = MULTIPLE_IDENTITIES
    elif (fail := device_failure(state)) is not None:
        failure = fail
    elif stale_cache(state):
        failure = STALE_TOKEN
    elif frequency_expired(state) and (_cached(state) or prt_valid(state)):
        failure = INTERACTION_REQUIRED
    if failure is not None:
        log_failure(state, failure)
        state.onedrive_status = "sign-in-page" if failure is INTERACTION_REQUIRED else "error"
        return False
    if prt_valid(state) or _cached(state):
        _issue_tokens(state)
        state.onedrive_status = "signed-in"
        return True
    state.onedrive_status = "sign-in-page"
    return False


def interactive_sign_in(state: SimState) -> str | None:
    """The person signs in to OneDrive (password, MFA); None on success, else why not."""
    tick(state, 30)
    person = state.person
    if not tls12(state):
        log_failure(state, NETWORK)
        return "the sign-in page did not load (the connection to Microsoft failed)"
    if len(_identities(state)) > 1:
        log_failure(state, MULTIPLE_IDENTITIES)
        return "Office offered the wrong work account and the sign-in failed"
    if stale_cache(state):
        log_failure(state, STALE_TOKEN)
        return "OneDrive reused its cached token and showed 0x8004de40 without a sign-in page"
    if not person.knows_password:
        return "the person does not know the current password"
    if state.tenant.mfa_required and not person.can_mfa:
        return "the person could not complete multi-factor authentication"
    if (fail := device_failure(state)) is not None:
        log_failure(state, fail)
        return "the device could not authenticate, so the sign-in was refused"
    state.last_interactive_sign_in = state.now
    _issue_tokens(state)
    onedrive_up(state)
    state.onedrive_status = "signed-in"
    return None


IDENTITY_FOLDERS = ("OneAuth", "IdentityCache")
"""``%LOCALAPPDATA%\\Microsoft\\<name>``: the Office identity caches OneDrive's sign-in fills."""


def identity_folders(state: SimState) -> list[str]:
    """The Office identity cache folders of the user."""
    return [rf"{state.local_appdata}\Microsoft\{name}" for name in IDENTITY_FOLDERS]


def onedrive_up(state: SimState) -> None:
    """OneDrive runs (from now on, if it did not); its sign-in recreates the identity caches."""
    if not state.onedrive_running:
        state.onedrive_running = True
        state.onedrive_started_at = state.now
    for folder in identity_folders(state):
        if folder.lower() not in (f.lower() for f in state.folders):
            state.folders.append(folder)


def sign_out(state: SimState) -> None:
    """The person signs out of the Microsoft 365 apps and closes them (OneDrive unlinks)."""
    unlink_account(state)
    state.onedrive_running = False
    state.onedrive_status = "sign-in-page"


def _issue_tokens(state: SimState) -> None:
    for target in (f"{OFFICE_PREFIX}SSPI:{state.person.upn}", ONEDRIVE_TARGET):
        state.credentials = [c for c in state.credentials if c.target != target]
        state.credentials.append(SimCredential(target=target, user_name=state.person.upn,
                                               last_written=state.now))
    if joined(state) and device_failure(state) is None:
        refresh_prt(state)
    link_account(state)


def refresh_prt(state: SimState) -> None:
    """CloudAP gets (or renews) the PRT at logon or unlock with the current password."""
    reg = state.registration
    if reg.prt_issued_at is None:
        reg.prt_issued_at = state.now
    reg.prt_updated_at = state.now
    reg.wam_default_set = True


def link_account(state: SimState) -> None:
    """OneDrive records the Business1 account (what a successful sign-in leaves)."""
    tenant, person = state.tenant, state.person
    values = [
        RegValue(name="UserEmail", kind="REG_SZ", data=person.upn),
        RegValue(name="UserName", kind="REG_SZ", data=person.display_name),
        RegValue(name="UserFolder", kind="REG_SZ",
                 data=rf"C:\Users\{person.upn.split('@')[0]}\OneDrive - {tenant.name}"),
        RegValue(name="ConfiguredTenantId", kind="REG_SZ", data=tenant.id),
        RegValue(name="SPOResourceId", kind="REG_SZ",
                 data=f"https://{tenant.name.lower()}-my.sharepoint.com/"),
        RegValue(name="Business", kind="REG_DWORD", data=1),
    ]
    state.registry[ACCOUNT_KEY] = values


def unlink_account(state: SimState) -> None:
    """Unlink this PC / reset: the account values go, the files stay."""
    for key in list(state.registry):
        if key.lower().startswith((ONEDRIVE_KEY + r"\Accounts").lower()):
            del state.registry[key]


def leave(state: SimState) -> None:
    """The PC drops its registration (dsregcmd /leave, or Disconnect)."""
    reg = state.registration
    reg.device_id = None
    reg.thumbprint = None
    reg.prt_issued_at = None
    reg.prt_updated_at = None
    reg.keys_healthy = True
    reg.wam_default_set = False


def register(state: SimState) -> bool:
    """A fresh registration with new keys and a new device id; needs the network."""
    if not tls12(state):
        log_failure(state, NETWORK)
        return False
    state.device_serial += 1
    serial = state.device_serial
    device_id = f"{serial:08x}-aaaa-4bbb-8ccc-{state.hostname.encode().hex()[:12]:0>12}"
    reg = state.registration
    reg.device_id = device_id
    reg.thumbprint = f"{serial:040X}"
    reg.keys_healthy = True
    state.tenant.known_device_ids.append(device_id)
    return True

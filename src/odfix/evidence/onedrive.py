"""OneDrive client state: accounts, sign-in markers, client path and version.

Source: ``reg export HKCU\\Software\\Microsoft\\OneDrive`` (``onedrive.reg``), optionally with the
``HKLM\\SOFTWARE\\Microsoft\\OneDrive`` key appended, or the same keys read through a Host.
"""

from pydantic import BaseModel

from odfix.evidence import regfile
from odfix.evidence.common import ParseError
from odfix.evidence.regfile import Cited, RegFile, RegKey
from odfix.hosts.base import Host

MACHINE_KEYS = ("HKLM\\SOFTWARE\\Microsoft\\OneDrive",
                "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\OneDrive")
REGISTRY: tuple[regfile.KeySpec, ...] = (
    ("HKCU\\Software\\Microsoft\\OneDrive", True),
    *((key, False) for key in MACHINE_KEYS),
)
"""What ``onedrive.reg`` holds: the user's OneDrive tree and the per-machine Version."""
_SUFFIX = "Software\\Microsoft\\OneDrive"


class OneDriveAccount(BaseModel):
    """One ``Accounts\\<slot>`` subkey (``Business1``.., ``Personal``)."""

    slot: str
    business: bool
    user_email: Cited | None = None
    user_name: Cited | None = None
    user_folder: Cited | None = None
    configured_tenant_id: Cited | None = None
    spo_resource_id: Cited | None = None
    service_endpoint_uri: Cited | None = None
    cid: Cited | None = None
    values: dict[str, Cited] = {}


class OneDriveState(BaseModel):
    """What the OneDrive registry tells about this user's client."""

    source: str
    accounts: list[OneDriveAccount] = []
    client_ever_signed_in: Cited | None = None
    silent_business_config_completed: Cited | None = None
    personal_unlinked_timestamp: Cited | None = None
    one_auth_unrecoverable_timestamp: Cited | None = None
    version: Cited | None = None
    client_path: Cited | None = None
    notes: list[str] = []
    """Lines of the export skipped (``RegFile.notes``)."""

    @property
    def business_accounts(self) -> list[OneDriveAccount]:
        """The work/school accounts."""
        return [a for a in self.accounts if a.business]


_ACCOUNT_FIELDS = {
    "user_email": "UserEmail", "user_name": "UserName", "user_folder": "UserFolder",
    "configured_tenant_id": "ConfiguredTenantId", "spo_resource_id": "SPOResourceId",
    "service_endpoint_uri": "ServiceEndpointUri", "cid": "cid",
}


def _account(key: RegKey) -> OneDriveAccount:
    slot = key.path.rsplit("\\", 1)[-1]
    flag = key.get("Business")
    business = bool(flag.data) if flag is not None else slot.casefold().startswith("business")
    fields = {field: key.cited(name) for field, name in _ACCOUNT_FIELDS.items()}
    values = {v.name: v.cited() for v in key.values if not v.deleted}
    return OneDriveAccount(slot=slot, business=business, values=values, **fields)


def _machine_version(reg: RegFile) -> Cited | None:
    for path in MACHINE_KEYS:
        key = reg.key(path)
        if key is not None and key.get("Version") is not None:
            return key.cited("Version")
    return None


def from_regfile(reg: RegFile) -> OneDriveState:
    """The state from a parsed export that holds the user's OneDrive key."""
    user_keys = [k for k in reg.keys_ending(_SUFFIX)
                 if not k.path.upper().startswith(("HKEY_LOCAL_MACHINE", "HKLM"))]
    if not user_keys:
        raise ParseError(f"{reg.source}: no [...\\{_SUFFIX}] key in this export")
    root = user_keys[0]
    accounts = [_account(k) for k in reg.children(root.path + "\\Accounts")]
    return OneDriveState(
        source=reg.source,
        accounts=accounts,
        client_ever_signed_in=root.cited("ClientEverSignedIn"),
        silent_business_config_completed=root.cited("SilentBusinessConfigCompleted"),
        personal_unlinked_timestamp=root.cited("PersonalUnlinkedTimeStamp"),
        one_auth_unrecoverable_timestamp=root.cited("OneAuthUnrecoverableTimestamp"),
        version=root.cited("Version") or _machine_version(reg),
        client_path=root.cited("OneDriveTrigger"),
        notes=reg.notes,
    )


def parse(data: bytes | str, source: str = "onedrive.reg") -> OneDriveState:
    """Parse ``onedrive.reg``; raises ``ParseError`` when it holds no OneDrive key."""
    return from_regfile(regfile.parse(data, source))


def from_host(host: Host) -> OneDriveState:
    """The state read live through ``host`` (cited against the rendered ``onedrive.reg``)."""
    return parse(regfile.render(regfile.capture_all(host, REGISTRY)))

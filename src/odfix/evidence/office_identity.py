"""Office identity cache: ``HKCU\\Software\\Microsoft\\Office\\16.0\\Common\\Identity``.

Reports the cached identities (the 0x8004dec5 "multiple cached identities" path) and the
values that turn WAM off for Office (``DisableADALatopWAMOverride``, ``DisableAADWAM``) or set
``EnableADAL``.
"""

from pydantic import BaseModel

from odfix.evidence import regfile
from odfix.evidence.common import ParseError
from odfix.evidence.regfile import Cited, RegKey
from odfix.hosts.base import Host

REGISTRY: tuple[regfile.KeySpec, ...] = (
    ("HKCU\\Software\\Microsoft\\Office\\16.0\\Common\\Identity", True),
)
_SUFFIX = "Office\\16.0\\Common\\Identity"


class CachedIdentity(BaseModel):
    """One ``Identities\\<id>_<provider>`` subkey."""

    key: str
    email_address: Cited | None = None
    sign_in_name: Cited | None = None
    provider_id: Cited | None = None
    friendly_name: Cited | None = None

    @property
    def account(self) -> str | None:
        """The account this identity is for (e-mail, else sign-in name), case-folded."""
        for cited in (self.email_address, self.sign_in_name):
            if cited is not None and isinstance(cited.value, str) and cited.value.strip():
                return cited.value.strip().casefold()
        return None


class OfficeIdentity(BaseModel):
    """Office's identity settings and cache for this user."""

    source: str
    identities: list[CachedIdentity] = []
    disable_adal_atop_wam_override: Cited | None = None
    disable_aad_wam: Cited | None = None
    enable_adal: Cited | None = None
    connected_account_wam_aad: Cited | None = None
    notes: list[str] = []
    """Lines of the export skipped (``RegFile.notes``)."""

    @property
    def distinct_accounts(self) -> list[str]:
        """Distinct accounts among the cached identities, sorted."""
        return sorted({i.account for i in self.identities if i.account is not None})

    @property
    def wam_disabled(self) -> bool:
        """Whether either value that turns WAM off for Office is set to a non-zero number."""
        return any(isinstance(c.value, int) and c.value != 0
                   for c in (self.disable_adal_atop_wam_override, self.disable_aad_wam)
                   if c is not None)


def _identity(key: RegKey) -> CachedIdentity:
    return CachedIdentity(
        key=key.path.rsplit("\\", 1)[-1],
        email_address=key.cited("EmailAddress"),
        sign_in_name=key.cited("SignInName"),
        provider_id=key.cited("ProviderId"),
        friendly_name=key.cited("FriendlyName"),
    )


def parse(data: bytes | str, source: str = "office_identity.reg") -> OfficeIdentity:
    """Parse ``office_identity.reg``; raises ``ParseError`` when it has no Identity key."""
    reg = regfile.parse(data, source)
    roots = reg.keys_ending(_SUFFIX)
    under = "\\" + _SUFFIX.casefold() + "\\identities"
    children: dict[str, list[RegKey]] = {}
    for key in reg.keys:
        parent = regfile.normalize_key(key.path).rsplit("\\", 1)[0]
        if parent.endswith(under) and not key.deleted:
            children.setdefault(parent, []).append(key)
    identities = [_identity(k) for parent in sorted(children) for k in children[parent]]
    if not roots and not identities:
        raise ParseError(f"{source}: no [...\\{_SUFFIX}] key in this export")
    root = roots[0] if roots else None

    def value(name: str) -> Cited | None:
        return root.cited(name) if root is not None else None

    return OfficeIdentity(
        source=source,
        identities=identities,
        disable_adal_atop_wam_override=value("DisableADALatopWAMOverride"),
        disable_aad_wam=value("DisableAADWAM"),
        enable_adal=value("EnableADAL"),
        connected_account_wam_aad=value("ConnectedAccountWamAad"),
        notes=reg.notes,
    )


def from_host(host: Host) -> OfficeIdentity:
    """The identity state read live through ``host``."""
    return parse(regfile.render(regfile.capture_all(host, REGISTRY)))

"""Several cached work identities (Microsoft's 0x8004dec5 path): Office identity cache, OneDrive."""

from odfix.diagnosis.models import Finding
from odfix.evidence.common import Citation
from odfix.evidence.office_identity import OfficeIdentity
from odfix.evidence.onedrive import OneDriveState
from odfix.evidence.regfile import Cited


def _lines(*cited: Cited | None) -> list[Citation]:
    return [c.citation for c in cited if c is not None]


def office(identity: OfficeIdentity) -> list[Finding]:
    """Several accounts in Office's identity cache; WAM turned off for Office."""
    found = []
    accounts = identity.distinct_accounts
    if len(accounts) > 1:
        found.append(Finding(
            id="identity.several-office-identities", severity="warning", source="office_identity",
            title=f"Office caches {len(accounts)} identities ({', '.join(accounts)})",
            evidence=[line for i in identity.identities
                      for line in _lines(i.email_address or i.sign_in_name)],
            weights={"multiple-identities": 0.7},
        ))
    if identity.wam_disabled:
        found.append(Finding(
            id="identity.office-wam-disabled", severity="warning", source="office_identity",
            title="Office is told not to use WAM (DisableADALatopWAMOverride / DisableAADWAM)",
            evidence=_lines(identity.disable_adal_atop_wam_override, identity.disable_aad_wam),
            weights={"multiple-identities": 0.2},
        ))
    return found


def onedrive(state: OneDriveState) -> list[Finding]:
    """Work accounts OneDrive is configured with (several tenants are a hint, not a fault)."""
    business = state.business_accounts
    if not business:
        return [Finding(id="onedrive.no-business-account", severity="info", source="onedrive",
                        title="OneDrive has no work or school account configured",
                        evidence=_lines(state.client_ever_signed_in))]
    emails = sorted({str(a.user_email.value).casefold() for a in business
                     if a.user_email is not None and a.user_email.value})
    evidence = [line for a in business for line in _lines(a.user_email, a.configured_tenant_id)]
    if len(emails) > 1:
        return [Finding(
            id="onedrive.several-business-accounts", severity="info", source="onedrive",
            title=f"OneDrive syncs {len(emails)} work accounts ({', '.join(emails)})",
            evidence=evidence, weights={"multiple-identities": 0.2},
        )]
    return [Finding(id="onedrive.business-account", severity="info", source="onedrive",
                    title=f"OneDrive work account: {', '.join(emails) or business[0].slot}",
                    evidence=evidence)]

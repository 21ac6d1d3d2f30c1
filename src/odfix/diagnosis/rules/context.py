"""What every rule needs besides its evidence: the clock of the capture and the ticket's facts."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from odfix.diagnosis.models import CauseId
from odfix.guide.codes import Catalog

# How strongly a code of each catalog category points at each cause (docs/diagnosis.md).
CATEGORY_WEIGHTS: dict[str, dict[CauseId, float]] = {
    "password-change": {"stale-token-password-change": 0.8},
    # On the PC (PRT diagnostics, AAD events) Windows itself sent a password Entra refuses: per
    # Microsoft's PRT troubleshooting, a mistyped or a just-changed, not yet synced password.
    "wrong-password": {"stale-token-password-change": 0.8},
    "inactivity": {"stale-token-password-change": 0.4},
    "sign-in-frequency": {"recurring-conditional-access": 0.5},
    "interaction-required": {"recurring-conditional-access": 0.3},
    "ca-block": {"recurring-conditional-access": 0.3},
    "device": {"device-registration": 0.8},
    "network": {"connectivity-tls": 0.7},
    "identity-cache": {"multiple-identities": 0.3},
}


ACCOUNT_NOT_IN_TENANT_AADSTS = frozenset({90002, 50128, 50059, 50034})
"""Entra ID does not know the sign-in name (Microsoft's AADSTS table): the tenant of its domain
was not found (90002 InvalidTenantName, 50128 invalid domain name, 50059 no tenant-identifying
information: typically a UPN suffix such as ``corp.local`` that is not a verified domain) or the
account is not in the directory (50034, e.g. an account left out of Entra Connect sync). The
directory administrator fixes the UPN or the sync scope; nothing on the PC is broken."""


@dataclass(frozen=True)
class RuleContext:
    """``now`` is the capture time (manifest, else the newest time in the evidence)."""

    catalog: Catalog
    now: datetime | None = None
    password_changed_at: datetime | None = None

    def categories(self, codes: Iterable[str | int]) -> list[str]:
        """Catalog categories of ``codes`` (``unknown`` ones left out), first seen first."""
        found = (self.catalog.category_for(code) for code in codes)
        return list(dict.fromkeys(c for c in found if c != "unknown"))

    def classify(self, codes: Iterable[str], aadsts: Iterable[int]) -> list[str]:
        """Categories of one failure: its AADSTS codes say why the server refused, so they alone
        count when present (the broker's outer ``invalid_grant`` also wraps a disabled device or
        a wrong tenant); without one, the 0xCAA.. codes count."""
        server = [f"AADSTS{n}" for n in aadsts]
        return self.categories(server) if server else self.categories(codes)

    def weights(self, categories: Iterable[str]) -> dict[CauseId, float]:
        """The strongest weight per cause over ``categories``."""
        merged: dict[CauseId, float] = {}
        for category in categories:
            for cause, weight in CATEGORY_WEIGHTS.get(category, {}).items():
                merged[cause] = max(merged.get(cause, 0.0), weight)
        return merged

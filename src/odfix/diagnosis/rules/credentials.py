"""Cached Office/OneDrive credentials: written before the password change, or for several users."""

from odfix.diagnosis.models import Finding
from odfix.diagnosis.rules.context import RuleContext
from odfix.evidence.credentials import Credential, CredentialList

SOURCE = "credentials"
CACHED = ("office", "onedrive-business")


def findings(credentials: CredentialList, context: RuleContext) -> list[Finding]:
    """Findings on the allow-listed (deletable) Office and OneDrive credentials."""
    cached = credentials.of_class(*CACHED)
    found = []
    if cached:
        found.append(Finding(
            id="cred.cached", severity="info", source=SOURCE,
            title=f"{len(cached)} cached Office/OneDrive credential(s) that Method 1 would clear",
            evidence=[c.citation for c in cached],
        ))
    changed = context.password_changed_at
    if changed is not None:
        older = [c for c in cached if c.last_written is not None and c.last_written < changed]
        if older:
            found.append(Finding(
                id="cred.written-before-password-change", severity="warning", source=SOURCE,
                title=(f"{len(older)} cached credential(s) were last written before the password "
                       f"change at {changed:%Y-%m-%d %H:%M} UTC"),
                evidence=[c.citation for c in older],
                weights={"stale-token-password-change": 0.6},
            ))
    users = _office_users(cached)
    wanted = set(users)
    if len(users) > 1:
        found.append(Finding(
            id="cred.several-office-users", severity="warning", source=SOURCE,
            title=f"Office credentials are cached for {len(users)} users ({', '.join(users)})",
            evidence=[c.citation for c in cached if _user(c) in wanted],
            weights={"multiple-identities": 0.5},
        ))
    return found


def _user(credential: Credential) -> str | None:
    """The account an Office credential belongs to: its last ``:``-part when it is a UPN."""
    tail = credential.name.rsplit(":", 1)[-1]
    user = tail if "@" in tail else credential.user
    return user.casefold() if user and "@" in user else None


def _office_users(cached: list[Credential]) -> list[str]:
    found = (_user(c) for c in cached if c.credential_class == "office")
    return sorted({u for u in found if u})

"""Who may use the console: OIDC sign-in, the local break-glass account, roles, CSRF, tokens.

Sessions are signed cookies holding the account id and a CSRF token; every request reloads the
account, so disabling it ends its sessions at once. Passwords and enrolment tokens are stored
only as hashes (scrypt; SHA-256 for 256-bit random tokens).
"""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from odfix.console.config import OidcConfig
from odfix.console.db import Account, Setting, now

ROLES = ("technician", "lead")
BREAK_GLASS = "local:admin"
"""The subject of the one local account (user name ``admin``)."""
TOKEN_PREFIX = "odfx_"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class NotSignedIn(Exception):
    """No session: pages redirect to /login, the API answers 401."""


class Forbidden(Exception):
    """Signed in, but the role does not allow it (403)."""


class CsrfFailed(Exception):
    """A form came without this session's CSRF token (403)."""


@dataclass(frozen=True)
class Viewer:
    """The signed-in person, as routes see them."""

    id: int
    name: str
    role: str

    @property
    def is_lead(self) -> bool:
        return self.role == "lead"


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def verify_password(password: str, stored: str | None) -> bool:
    if not stored or not stored.startswith("scrypt$"):
        return False
    _, salt, digest = stored.split("$")
    got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), **_SCRYPT)
    return hmac.compare_digest(got, base64.b64decode(digest))


def new_token() -> tuple[str, str, str]:
    """A fresh enrolment token: (the token, its SHA-256 to store, a prefix to show)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hashlib.sha256(token.encode()).hexdigest(), token[:12]


def setting(db: Session, key: str, default: str | None = None) -> str | None:
    row = db.get(Setting, key)
    return row.value if row else default


def session_secret(db: Session) -> str:
    """The key that signs session cookies: made once, shared by every worker via the database."""
    secret = setting(db, "session_secret")
    if secret is None:
        db.add(Setting(key="session_secret", value=secrets.token_urlsafe(48)))
        db.commit()
        secret = setting(db, "session_secret")
    assert secret is not None
    return secret


def set_break_glass_password(db: Session) -> str:
    """Create the local ``admin`` (role lead) or give it a new random password; returns it."""
    password = secrets.token_urlsafe(15)
    account = db.scalar(select(Account).where(Account.subject == BREAK_GLASS))
    if account is None:
        account = Account(subject=BREAK_GLASS, name="admin (break-glass)", role="lead",
                          disabled=False)
        db.add(account)
    account.password_hash = hash_password(password)
    db.commit()
    return password


def has_break_glass(db: Session) -> bool:
    return db.scalar(select(Account.id).where(Account.subject == BREAK_GLASS)) is not None


def local_sign_in(db: Session, user: str, password: str) -> Account | None:
    """The break-glass account when the user name and password match (constant work otherwise)."""
    account = db.scalar(select(Account).where(Account.subject == BREAK_GLASS))
    ok = verify_password(password, account.password_hash if account else None)
    if user != "admin" or account is None or not ok or account.disabled:
        return None
    account.last_login_at = now()
    db.commit()
    return account


def role_from_claims(claims: dict[str, Any], oidc: OidcConfig) -> str | None:
    """``lead``, ``technician`` or None from the ID token's ``roles`` (Entra app roles)."""
    roles = claims.get("roles") or []
    if isinstance(roles, str):
        roles = [roles]
    have = {str(r).casefold() for r in roles}
    if have & {r.casefold() for r in oidc.lead_roles}:
        return "lead"
    if have & {r.casefold() for r in oidc.technician_roles}:
        return "technician"
    return None


def oidc_sign_in(db: Session, claims: dict[str, Any], role: str) -> Account:
    """The account of a verified ID token, created on first sign-in; its role follows the token."""
    subject = f"oidc:{claims['iss']}|{claims['sub']}"
    account = db.scalar(select(Account).where(Account.subject == subject))
    name = str(claims.get("name") or claims.get("preferred_username") or claims["sub"])
    if account is None:
        account = Account(subject=subject, name=name, role=role, disabled=False)
        db.add(account)
    account.name = name
    account.email = claims.get("email") or claims.get("preferred_username")
    account.role = role
    account.last_login_at = now()
    db.commit()
    return account


def viewer(db: Session, session: dict[str, Any]) -> Viewer:
    """The session's person; ``NotSignedIn`` when there is none or the account is disabled."""
    account_id = session.get("account")
    account = db.get(Account, account_id) if isinstance(account_id, int) else None
    if account is None or account.disabled:
        session.pop("account", None)
        raise NotSignedIn
    return Viewer(id=account.id, name=account.name, role=account.role)


def start_session(session: dict[str, Any], account: Account) -> None:
    session.clear()
    session["account"] = account.id
    session["csrf"] = secrets.token_urlsafe(24)


def csrf_token(session: dict[str, Any]) -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return str(session["csrf"])


def check_csrf(session: dict[str, Any], sent: str | None) -> None:
    expected = session.get("csrf")
    if not expected or not sent or not hmac.compare_digest(str(expected), sent):
        raise CsrfFailed

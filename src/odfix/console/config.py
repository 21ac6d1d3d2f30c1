"""How one console server runs: database, sign-in, limits (``odfix serve`` builds it)."""

import json
import os

from pydantic import BaseModel, Field

ENV = "ODFIX_CONSOLE_CONFIG"
"""Workers started by uvicorn read the config from this variable (JSON)."""


class OidcConfig(BaseModel):
    """An OpenID Connect provider (Entra ID: ``https://login.microsoftonline.com/<tenant>/v2.0``)."""

    issuer: str
    client_id: str
    client_secret: str | None = None
    """Entra "web" platform apps have one; a public client does PKCE alone."""
    lead_roles: list[str] = ["Lead"]
    technician_roles: list[str] = ["Technician"]
    """App role values (the ID token's ``roles`` claim) that grant each console role."""


class ConsoleConfig(BaseModel):
    db_url: str
    oidc: OidcConfig | None = None
    public_url: str | None = None
    """The URL people open (behind a reverse proxy); the OIDC redirect URI derives from it."""
    secure_cookies: bool = False
    """Mark the session cookie Secure (set when served over HTTPS)."""
    max_upload_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    max_report_bytes: int = Field(default=256 * 1024, gt=0)
    batch_limit: int = Field(default=1000, gt=0)
    """Reports in one ingest request (an Intune import posts many)."""

    def to_env(self) -> dict[str, str]:
        return {ENV: self.model_dump_json()}

    @classmethod
    def from_env(cls) -> "ConsoleConfig":
        return cls.model_validate(json.loads(os.environ[ENV]))

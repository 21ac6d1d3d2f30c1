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


class GraphPullConfig(BaseModel):
    """The app registration the console pulls sign-in logs with (app-only, client credentials).

    Only where the credential is: the secret stays in the environment variable ``secret_env``
    (never in this config, which workers receive through their environment, nor in a page)."""

    tenant: str
    client_id: str
    secret_env: str = "ODFIX_GRAPH_CLIENT_SECRET"
    certificate: str | None = None
    """A ``.pfx`` or a PEM with key and certificate, instead of the secret."""
    graph_url: str = "https://graph.microsoft.com"
    authority_host: str = "https://login.microsoftonline.com"
    rate_limit: int = Field(default=5, gt=0)
    """Reporting requests per 10 s (Graph documents 5)."""


class ConsoleConfig(BaseModel):
    db_url: str
    oidc: OidcConfig | None = None
    graph: GraphPullConfig | None = None
    """Set: leads can pull sign-in logs from Graph on the tenant page."""
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

"""Tokens for Graph with msal: admins sign in (browser or device code), scheduled runs use an app.

* Public client (delegated): ``acquire_token_silent`` from the cache, else an interactive browser
  sign-in, or a device code with ``--device-code`` (which cannot satisfy device-based Conditional
  Access: AADSTS530003/53000). The cache is msal-extensions' encrypted store (DPAPI, Keychain,
  LibSecret); an unencrypted file only with ``--plaintext-cache``.
* Confidential client (application): a certificate (``.pfx`` or a PEM holding key and certificate)
  or a secret read from an environment variable; app-only tokens are not cut short by the admin's
  sign-in frequency, so long pulls survive.
* ``--token-env`` takes a ready access token (e.g. from ``az account get-access-token``).

Scopes are the least the pull needs: ``AuditLog.Read.All`` (sign-ins, directory audits),
``User.Read.All`` (users' ``lastPasswordChangeDateTime``), ``Device.Read.All`` (devices),
``Policy.Read.All`` (Conditional Access policies).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from odfix.errors import BadInput, NetworkUnavailable, WrongContext
from odfix.output import err_console
from odfix.tenant.graph import GRAPH_URL, TokenSource

if TYPE_CHECKING:
    import msal

AUTHORITY_HOST = "https://login.microsoftonline.com"
SCOPES_BY_NEED: dict[str, str] = {
    "signins": "AuditLog.Read.All",
    "audits": "AuditLog.Read.All",
    "users": "User.Read.All",
    "devices": "Device.Read.All",
    "policies": "Policy.Read.All",
    "groups": "GroupMember.Read.All",
    "remediations": "DeviceManagementConfiguration.Read.All",
}
DEVICE_CA_CODES = ("AADSTS530003", "AADSTS53000")


class AuthError(WrongContext):
    """Signing in to Entra ID failed (exit 5): the message carries the AADSTS code."""


class AuthOptions(BaseModel):
    """How to get a token for one tenant."""

    tenant: str
    client_id: str | None = None
    authority_host: str = AUTHORITY_HOST
    graph_url: str = GRAPH_URL
    secret_env: str | None = None
    certificate: Path | None = None
    certificate_passphrase_env: str | None = None
    device_code: bool = False
    plaintext_cache: bool = False
    cache_path: Path | None = None
    token_env: str | None = None
    needs: tuple[str, ...] = tuple(SCOPES_BY_NEED)

    @property
    def authority(self) -> str:
        return f"{self.authority_host.rstrip('/')}/{self.tenant}"

    @property
    def confidential(self) -> bool:
        return self.secret_env is not None or self.certificate is not None


def delegated_scopes(needs: list[str], graph_url: str = GRAPH_URL) -> list[str]:
    """Fully qualified delegated scopes for ``needs`` (``signins``, ``users``, ...), no repeats."""
    names = dict.fromkeys(SCOPES_BY_NEED[n] for n in needs)
    return [f"{graph_url.rstrip('/')}/{name}" for name in names]


def _env(name: str, what: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise BadInput(f"environment variable {name} ({what}) is not set or empty")
    return value


def _result_token(result: dict[str, Any] | None, how: str, device_code: bool = False) -> str:
    if result and "access_token" in result:
        return str(result["access_token"])
    result = result or {}
    detail = str(result.get("error_description") or result.get("error") or "no answer")
    first = detail.splitlines()[0]
    hint = ""
    if device_code and any(code in detail for code in DEVICE_CA_CODES):
        hint = " — device-code sign-in cannot satisfy device-based Conditional Access; " \
               "run without --device-code on a managed device"
    raise AuthError(f"{how} sign-in failed: {first}{hint}")


def credential(options: AuthOptions) -> str | dict[str, Any]:
    """The confidential client's credential: a secret, a PFX path or PEM key + certificate."""
    if options.secret_env:
        return _env(options.secret_env, "client secret")
    assert options.certificate is not None
    path = options.certificate
    if not path.is_file():
        raise BadInput(f"--certificate {path}: no such file")
    passphrase = (_env(options.certificate_passphrase_env, "certificate passphrase")
                  if options.certificate_passphrase_env else None)
    found: dict[str, Any] = {}
    if path.suffix.lower() in (".pfx", ".p12"):
        found["private_key_pfx_path"] = str(path)
    else:
        text = path.read_text(encoding="utf-8", errors="replace")
        if "PRIVATE KEY-----" not in text or "BEGIN CERTIFICATE-----" not in text:
            raise BadInput(f"--certificate {path}: a PEM file needs both the private key and "
                           "the certificate (or give a .pfx)")
        found["private_key"] = text
        found["public_certificate"] = text
    if passphrase:
        found["passphrase"] = passphrase
    return found


def token_cache(options: AuthOptions) -> msal.TokenCache:
    """The persisted token cache: encrypted, or plaintext (0600) only when asked for."""
    import platformdirs
    from msal_extensions import FilePersistence, PersistedTokenCache, build_encrypted_persistence

    path = options.cache_path or Path(platformdirs.user_cache_dir("odfix")) / "msal_cache.bin"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        persistence = build_encrypted_persistence(str(path))
    except Exception as error:  # msal-extensions raises ImportError/RuntimeError/OSError kinds
        if not options.plaintext_cache:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise WrongContext(
                f"no encrypted token store on this system ({reason}); pass --plaintext-cache "
                f"to keep the token cache unencrypted in {path} (readable by you only), or use "
                "--token-env / a certificate"
            ) from error
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)
        persistence = FilePersistence(str(path))
    return PersistedTokenCache(persistence)


def token_source(options: AuthOptions, *, http_client: Any = None) -> TokenSource:
    """A :data:`TokenSource` for ``options`` (msal is imported only here); the sign-in service
    out of reach (DNS or network down) is ``NetworkUnavailable``, exit 6."""
    source = _token_source(options, http_client)
    if options.token_env:
        return source

    def reachable(refresh: bool) -> str:
        with _offline(options):
            return source(refresh)

    return reachable


@contextmanager
def _offline(options: AuthOptions) -> Iterator[None]:
    """msal's connection errors (``requests``) as one line and exit 6; an authority it refuses
    as bad input."""
    import requests

    try:
        yield
    except requests.exceptions.ConnectionError as error:
        reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        raise NetworkUnavailable(f"cannot reach the sign-in service {options.authority_host} "
                                 f"({reason}); check the network, DNS and proxy") from None
    except ValueError as error:  # msal refuses an authority that is not an https URL
        raise BadInput(f"--authority-host {options.authority_host}: "
                       f"{str(error).splitlines()[0][:200]}") from None


def _token_source(options: AuthOptions, http_client: Any) -> TokenSource:
    if options.token_env:
        token = _env(options.token_env, "access token")
        return lambda refresh: token
    if not options.client_id:
        raise BadInput("--client-id is required (the app registration odfix signs in with; "
                       "or set ODFIX_CLIENT_ID), unless --token-env gives a token")
    import msal

    extra: dict[str, Any] = {"http_client": http_client} if http_client is not None else {}
    if options.authority_host.rstrip("/") != AUTHORITY_HOST:
        extra.update(validate_authority=False, instance_discovery=False)
    if options.confidential:
        with _offline(options):  # msal reads the authority's metadata here
            confidential = msal.ConfidentialClientApplication(
                options.client_id, client_credential=credential(options),
                authority=options.authority, **extra)
        scopes = [f"{options.graph_url.rstrip('/')}/.default"]

        def app_token(refresh: bool) -> str:
            return _result_token(confidential.acquire_token_for_client(scopes), "App")

        return app_token
    with _offline(options):
        public = msal.PublicClientApplication(
            options.client_id, authority=options.authority, token_cache=token_cache(options),
            **extra)
    delegated = delegated_scopes(list(options.needs), options.graph_url)

    def user_token(refresh: bool) -> str:
        accounts = public.get_accounts()
        if accounts:
            cached = public.acquire_token_silent(delegated, account=accounts[0],
                                                 force_refresh=refresh)
            if cached and "access_token" in cached:
                return str(cached["access_token"])
        if options.device_code:
            flow = public.initiate_device_flow(scopes=delegated)
            if "user_code" not in flow:
                return _result_token(flow, "Device-code", device_code=True)
            err_console.print(flow["message"], markup=False)
            return _result_token(public.acquire_token_by_device_flow(flow), "Device-code",
                                 device_code=True)
        return _result_token(
            public.acquire_token_interactive(delegated, prompt="select_account"), "Interactive")

    return user_token

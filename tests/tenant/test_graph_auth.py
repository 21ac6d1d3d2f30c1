"""Sign-in through msal against a mocked authority (no network), and the token cache rules."""

import datetime as dt
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import msal_extensions
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from odfix.errors import BadInput, WrongContext
from odfix.tenant.auth import AuthError, AuthOptions, delegated_scopes, token_cache, token_source

HOST = "https://login.test"
GRAPH = "https://graph.test"


class Authority:
    """Answers msal's discovery, device-code and token requests; remembers token requests."""

    def __init__(self, token_answer: dict[str, Any], status: int = 200) -> None:
        self.token_answer = token_answer
        self.status = status
        self.token_requests: list[dict[str, str]] = []
        self.device_requests: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/.well-known/openid-configuration"):
            base = f"{HOST}/contoso"
            return httpx.Response(200, json={
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "issuer": f"{base}/v2.0"})
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if path.endswith("/devicecode"):
            self.device_requests.append(form)
            return httpx.Response(200, json={
                "device_code": "dc", "user_code": "ABCD", "interval": 0, "expires_in": 60,
                "verification_uri": "https://microsoft.com/devicelogin",
                "message": "To sign in, enter ABCD at https://microsoft.com/devicelogin"})
        self.token_requests.append(form)
        return httpx.Response(self.status, json=self.token_answer)


def _client(authority: Authority) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(authority))


OK = {"access_token": "graph-token", "token_type": "Bearer", "expires_in": 3600}


def _options(**kw: Any) -> AuthOptions:
    return AuthOptions(tenant="contoso", client_id="11111111-2222-3333-4444-555555555555",
                       authority_host=HOST, graph_url=GRAPH, **kw)


def test_client_secret_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ODFIX_SECRET", "s3cret")
    authority = Authority(OK)
    source = token_source(_options(secret_env="ODFIX_SECRET"), http_client=_client(authority))
    assert source(False) == "graph-token"
    (sent,) = authority.token_requests
    assert sent["grant_type"] == "client_credentials"
    assert sent["client_secret"] == "s3cret"
    assert sent["scope"] == f"{GRAPH}/.default"


def _pem(tmp_path: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "odfix-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    path = tmp_path / "app.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())
                     + cert.public_bytes(serialization.Encoding.PEM))
    return path


def test_certificate_signs_a_client_assertion(tmp_path: Path) -> None:
    authority = Authority(OK)
    source = token_source(_options(certificate=_pem(tmp_path)), http_client=_client(authority))
    assert source(False) == "graph-token"
    (sent,) = authority.token_requests
    assert sent["client_assertion_type"].endswith("jwt-bearer")
    assert sent["client_assertion"].count(".") == 2


def test_bad_certificate_file_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "key-only.pem"
    path.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(BadInput, match="needs both the private key and the certificate"):
        token_source(_options(certificate=path), http_client=_client(Authority(OK)))


def test_refused_secret_names_the_aadsts_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ODFIX_SECRET", "wrong")
    answer = {"error": "invalid_client", "error_codes": [7000215],
              "error_description": "AADSTS7000215: Invalid client secret provided.\nTrace ID: x"}
    source = token_source(_options(secret_env="ODFIX_SECRET"),
                          http_client=_client(Authority(answer, status=401)))
    with pytest.raises(AuthError) as caught:
        source(False)
    assert caught.value.message == "App sign-in failed: AADSTS7000215: Invalid client secret " \
        "provided."
    assert caught.value.code == WrongContext.code


def test_device_code_flow_prints_the_prompt_and_explains_device_ca(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = {"error": "invalid_grant", "error_description": "AADSTS530003: Your device is "
              "required to be managed to access this resource."}
    options = _options(device_code=True, plaintext_cache=True,
                       cache_path=tmp_path / "cache.bin", needs=("signins", "users"))
    authority = Authority(answer, status=400)
    source = token_source(options, http_client=_client(authority))
    with pytest.raises(AuthError, match="run without --device-code"):
        source(False)
    assert "enter ABCD" in capsys.readouterr().err
    assert authority.token_requests[0]["device_code"] == "dc"
    assert sorted(authority.device_requests[0]["scope"].split()) == [
        f"{GRAPH}/AuditLog.Read.All", f"{GRAPH}/User.Read.All", "offline_access", "openid",
        "profile"]


def test_encrypted_cache_or_an_explicit_plaintext_opt_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_keyring(location: str) -> Any:
        raise ImportError("Unable to import module 'gi'")

    monkeypatch.setattr(msal_extensions, "build_encrypted_persistence", no_keyring)
    path = tmp_path / "cache.bin"
    with pytest.raises(WrongContext, match="--plaintext-cache"):
        token_cache(_options(cache_path=path))
    cache = token_cache(_options(cache_path=path, plaintext_cache=True))
    cache.add({"client_id": "c", "scope": ["s"], "token_endpoint": f"{HOST}/t",
               "response": {"access_token": "a", "expires_in": 60, "token_type": "Bearer"}})
    assert path.stat().st_mode & 0o777 == 0o600
    assert "AccessToken" in json.loads(path.read_text())


def test_ready_token_and_missing_client_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ODFIX_TOKEN", "abc")
    assert token_source(AuthOptions(tenant="t", token_env="ODFIX_TOKEN"))(True) == "abc"
    with pytest.raises(BadInput, match="--client-id is required"):
        token_source(AuthOptions(tenant="t"))
    with pytest.raises(BadInput, match="ODFIX_NOPE"):
        token_source(AuthOptions(tenant="t", token_env="ODFIX_NOPE"))


def test_scopes_are_the_least_each_need_requires() -> None:
    assert delegated_scopes(["signins", "audits", "policies"], GRAPH) == [
        f"{GRAPH}/AuditLog.Read.All", f"{GRAPH}/Policy.Read.All"]

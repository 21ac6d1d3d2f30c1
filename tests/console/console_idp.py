"""A small OpenID Connect provider for the tests: discovery, authorization code with PKCE (S256
only), a token endpoint that checks the verifier and the client, RS256 ID tokens and JWKS.

It signs in whoever ``user`` names (the test sets it) instead of showing a login form, and it
records what the client sent so tests can check the protocol, not just the outcome.
"""

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route


@dataclass
class Person:
    sub: str
    name: str
    email: str
    roles: list[str]


@dataclass
class LocalIdp:
    client_id: str = "odfix-console"
    client_secret: str | None = "s3cret"
    redirect_uris: set[str] = field(default_factory=lambda: {"http://testserver/auth/callback"})
    issuer: str = ""
    user: Person | None = None
    audience: str | None = None
    """Issue ID tokens for this audience instead of the client (a misbehaving provider)."""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, {"kid": "k1"}))
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/.well-known/openid-configuration", self.discovery),
            Route("/authorize", self.authorize),
            Route("/token", self.token, methods=["POST"]),
            Route("/jwks", self.jwks),
        ])

    async def discovery(self, request: Request) -> Response:
        return JSONResponse({
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                      "client_secret_post", "none"],
        })

    async def jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    async def authorize(self, request: Request) -> Response:
        q = dict(request.query_params)
        self.seen.append({"endpoint": "authorize", **q})
        redirect = q.get("redirect_uri", "")
        if q.get("client_id") != self.client_id or redirect not in self.redirect_uris:
            return JSONResponse({"error": "invalid_client"}, status_code=400)

        def fail(error: str) -> Response:
            query = urlencode({"error": error, "error_description": error,
                               "state": q.get("state", "")})
            return RedirectResponse(f"{redirect}?{query}", status_code=302)

        if q.get("response_type") != "code" or "openid" not in q.get("scope", "").split():
            return fail("unsupported_response_type")
        if q.get("code_challenge_method") != "S256" or len(q.get("code_challenge", "")) < 43:
            return fail("invalid_request")  # PKCE with S256 is required
        if self.user is None:
            return fail("access_denied")
        code = secrets.token_urlsafe(24)
        self.codes[code] = {"challenge": q["code_challenge"], "redirect_uri": redirect,
                            "nonce": q.get("nonce"), "user": self.user}
        return RedirectResponse(f"{redirect}?{urlencode({'code': code, 'state': q['state']})}",
                                status_code=302)

    async def token(self, request: Request) -> Response:
        form = dict(await request.form())
        self.seen.append({"endpoint": "token", **{k: str(v) for k, v in form.items()},
                          "authorization": request.headers.get("authorization", "")})
        client_id, secret = str(form.get("client_id", "")), form.get("client_secret")
        basic = request.headers.get("authorization", "")
        if basic.startswith("Basic "):
            client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        if client_id != self.client_id or (self.client_secret and secret != self.client_secret):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = self.codes.pop(str(form.get("code", "")), None)  # single use
        if form.get("grant_type") != "authorization_code" or grant is None:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        verifier = str(form.get("code_verifier", ""))
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if digest.rstrip(b"=").decode() != grant["challenge"]:
            return JSONResponse({"error": "invalid_grant",
                                 "error_description": "PKCE verifier mismatch"}, status_code=400)
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        person: Person = grant["user"]
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.audience or self.client_id, "sub": person.sub,
                  "iat": now, "exp": now + 600, "name": person.name,
                  "preferred_username": person.email, "roles": person.roles}
        if grant["nonce"]:
            claims["nonce"] = grant["nonce"]
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, self.key)
        return JSONResponse({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                             "expires_in": 600, "id_token": id_token})

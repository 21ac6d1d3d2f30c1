"""OIDC sign-in (authorization code + PKCE S256) against a local provider speaking the protocol."""

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from console_idp import LocalIdp, Person
from console_kit import Console, LiveServer, make_console
from sqlalchemy import Engine, select

from odfix.console.config import OidcConfig
from odfix.console.db import Account, sessions

LEAD = Person("u-1", "Lea Lead", "lea@contoso.com", ["Lead"])
TECH = Person("u-2", "Tom Tech", "tom@contoso.com", ["Technician"])
NOBODY = Person("u-3", "No Role", "nobody@contoso.com", [])


@pytest.fixture(params=["sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/console.db"


@pytest.fixture(scope="module")
def idp() -> Iterator[LocalIdp]:
    provider = LocalIdp()
    server = LiveServer(provider.app())
    provider.issuer = server.url
    yield provider
    server.stop()


@pytest.fixture
def console(engine: Engine, db_url: str, idp: LocalIdp) -> Iterator[Console]:
    idp.audience, idp.user = None, None
    idp.seen.clear()
    oidc = OidcConfig(issuer=idp.issuer, client_id=idp.client_id,
                      client_secret=idp.client_secret)
    yield from make_console(engine, db_url, oidc=oidc)


def sign_in(console: Console, idp: LocalIdp, person: Person | None,
            next_page: str = "/dashboard") -> httpx.Response:
    """Browser steps: console → provider → console callback."""
    idp.user = person
    start = console.client.get(f"/auth/start?next={next_page}", follow_redirects=False)
    assert start.status_code == 302
    assert start.headers["location"].startswith(f"{idp.issuer}/authorize?")
    back = httpx.get(start.headers["location"], follow_redirects=False)
    assert back.status_code == 302
    parts = urlsplit(back.headers["location"])
    assert parts.netloc == "testserver" and parts.path == "/auth/callback"
    return console.client.get(f"{parts.path}?{parts.query}")


def test_lead_signs_in_with_pkce(console: Console, idp: LocalIdp) -> None:
    page = sign_in(console, idp, LEAD)
    assert page.status_code == 200 and "Lea Lead" in page.text and "Dashboard" in page.text
    authorize = next(s for s in idp.seen if s["endpoint"] == "authorize")
    token = next(s for s in idp.seen if s["endpoint"] == "token")
    assert authorize["code_challenge_method"] == "S256" and authorize["nonce"]
    assert len(token["code_verifier"]) >= 43  # the provider checked it against the challenge
    assert console.client.get("/settings").status_code == 200
    with sessions(console.engine)() as db:
        account = db.scalars(select(Account).where(Account.name == "Lea Lead")).one()
        assert account.subject == f"oidc:{idp.issuer}|u-1" and account.role == "lead"
        assert account.password_hash is None


def test_technician_role_from_the_token(console: Console, idp: LocalIdp) -> None:
    assert sign_in(console, idp, TECH).status_code == 200
    assert console.client.get("/settings").status_code == 403
    assert console.client.get("/intake").status_code == 200


def test_no_app_role_no_access(console: Console, idp: LocalIdp) -> None:
    page = sign_in(console, idp, NOBODY)
    assert page.status_code == 403 and "no console role" in page.text
    assert console.client.get("/cases", follow_redirects=False).status_code == 303


def test_id_token_for_another_client_is_refused(console: Console, idp: LocalIdp) -> None:
    idp.audience = "someone-else"
    page = sign_in(console, idp, LEAD)
    assert page.status_code == 401 and "Sign-in failed" in page.text
    assert console.client.get("/cases", follow_redirects=False).status_code == 303


def test_callback_with_a_forged_state_or_replayed_code(console: Console,
                                                       idp: LocalIdp) -> None:
    idp.user = LEAD
    start = console.client.get("/auth/start", follow_redirects=False)
    back = urlsplit(httpx.get(start.headers["location"], follow_redirects=False)
                    .headers["location"])
    code = parse_qs(back.query)["code"][0]
    forged = console.client.get(f"/auth/callback?code={code}&state=forged")
    assert forged.status_code == 401
    assert console.client.get("/cases", follow_redirects=False).status_code == 303
    denied = sign_in(console, idp, None)  # the provider said no
    assert denied.status_code == 401 and "access_denied" in denied.text

"""No page or API answers anonymously; the break-glass sign-in; roles; CSRF on forms."""

import pytest
from console_kit import Console
from fastapi.routing import APIRoute
from sqlalchemy import select

from odfix.console import auth
from odfix.console.db import Account, sessions

OPEN = {"/login", "/login/local", "/auth/start", "/auth/callback"}


def _routes(console: Console) -> list[tuple[str, str]]:
    out = []
    out.append(("POST", "/api/v1/reports"))  # in front of the pages (odfix.console.api)
    for route in console.client.app.pages.routes:  # type: ignore[attr-defined]
        if isinstance(route, APIRoute) and route.path not in OPEN:
            path = route.path.replace("{case_id}", "1").replace("{intake_id}", "1") \
                .replace("{analysis_id}", "1").replace("{token_id}", "1") \
                .replace("{account_id}", "1")
            out.extend((method, path) for method in route.methods)
    return out


def test_nothing_answers_anonymously(console: Console) -> None:
    routes = _routes(console)
    assert len(routes) > 15
    for method, path in routes:
        response = console.client.request(method, path, follow_redirects=False)
        if path.startswith("/api/"):
            assert response.status_code == 401, (method, path)
            assert "error" in response.json()
        elif method == "GET":
            assert response.status_code == 303, (method, path)
            assert response.headers["location"].startswith("/login?next=")
        else:  # forms: refused before anything runs (CSRF, then sign-in)
            assert response.status_code in (303, 403), (method, path)


def test_break_glass_sign_in(console: Console) -> None:
    page = console.client.post("/login/local", data={
        "user": "admin", "password": "wrong", "csrf": console.csrf("/login")})
    assert page.status_code == 401 and "Wrong user name or password" in page.text
    console.login()
    assert console.client.get("/dashboard").status_code == 200
    console.post("/logout")
    assert console.client.get("/dashboard", follow_redirects=False).status_code == 303


def test_login_redirect_stays_on_site(console: Console) -> None:
    response = console.client.post("/login/local", follow_redirects=False, data={
        "user": "admin", "password": console.password, "next": "https://evil.example/",
        "csrf": console.csrf("/login")})
    assert response.headers["location"] == "/"


def test_forms_need_the_session_csrf_token(lead: Console) -> None:
    refused = lead.client.post("/fleet/sites", data={"name": "X"})
    assert refused.status_code == 403 and "CSRF" in refused.text
    forged = lead.client.post("/fleet/sites", data={"name": "X", "csrf": "forged"})
    assert forged.status_code == 403
    assert "X" in lead.post("/fleet/sites", {"name": "X"}).text


def test_technician_cannot_do_lead_work(lead: Console) -> None:
    with sessions(lead.engine)() as db:
        account = db.scalar(select(Account).where(Account.subject == auth.BREAK_GLASS))
        assert account is not None
        account.role = "technician"
        db.commit()
    assert lead.post("/fleet/sites", {"name": "X"}).status_code == 403
    assert lead.client.get("/settings").status_code == 403
    assert lead.client.get("/fleet").status_code == 200


def test_disabling_an_account_ends_its_sessions(lead: Console) -> None:
    with sessions(lead.engine)() as db:
        account = db.scalar(select(Account).where(Account.subject == auth.BREAK_GLASS))
        assert account is not None
        account.disabled = True
        db.commit()
    assert lead.client.get("/cases", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("password", ["", "x" * 200])
def test_password_hashes_verify_only_the_password(password: str) -> None:
    stored = auth.hash_password(password)
    assert password not in stored.split("$")[1:]
    assert auth.verify_password(password, stored)
    assert not auth.verify_password(password + "!", stored)

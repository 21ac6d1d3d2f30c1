"""Tenant pull from the console: app-only sign-in (msal client credentials) and the local Graph
stand-in of the tenant tests (real wire format, paging, 429 throttling), analysed and linked to
cases like an upload."""

import json
import re
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from console_kit import Console
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from odfix.console import auth
from odfix.console.app import create_app
from odfix.console.config import ConsoleConfig, GraphPullConfig
from odfix.console.db import Analysis, Case, TenantPull, now, sessions
from odfix.tenant.synth import END, synthesize

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tenant"))
from graph_server import TOKEN, GraphServer, GraphState

AUTHORITY = "https://login.test"
SECRET_ENV = "ODFIX_TEST_GRAPH_SECRET"
SECRET = "s3cret-from-the-admin"


class Authority:
    """msal's discovery and token endpoints; answers the client-credentials grant with the
    token the Graph stand-in accepts, only for the configured secret."""

    def __init__(self) -> None:
        self.token_requests: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/.well-known/openid-configuration"):
            base = f"{AUTHORITY}/contoso.example"
            return httpx.Response(200, json={
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "issuer": f"{base}/v2.0"})
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        self.token_requests.append(form)
        if form.get("client_secret") != SECRET:
            return httpx.Response(401, json={
                "error": "invalid_client", "error_description":
                "AADSTS7000215: Invalid client secret provided."})
        return httpx.Response(200, json={"access_token": TOKEN, "token_type": "Bearer",
                                         "expires_in": 3600})


@pytest.fixture
def tenant(tmp_path: Path) -> Iterator[tuple[GraphServer, dict[str, Any], int]]:
    """The Graph stand-in holding a synthetic tenant (sign-ins, users, policies, audits,
    devices), 50 records a page, 25 reporting requests a second."""
    made = synthesize(tmp_path / "signins.json", users=120, days=10, seed=3)
    state = GraphState(
        signins=json.loads(made.signins.read_text())["value"],
        users=json.loads(made.users.read_text())["value"],
        policies=json.loads(made.policies.read_text())["value"],
        audits=json.loads(made.audits.read_text())["value"],
        devices=json.loads(made.devices.read_text())["value"],
        page_size=50, throttle=(25, 1.0))
    with GraphServer(state) as server:
        yield server, json.loads(made.truth.read_text()), made.rows


def _console(engine: Engine, url: str, server: GraphServer, authority: Authority
             ) -> Iterator[Console]:
    with sessions(engine)() as db:
        password = auth.set_break_glass_password(db)
    graph = GraphPullConfig(tenant="contoso.example", client_id="2f0c8a54-0000-4000-8000-0001",
                            secret_env=SECRET_ENV, graph_url=server.url,
                            authority_host=AUTHORITY, rate_limit=1000)
    config = ConsoleConfig(db_url=url, graph=graph)
    assert SECRET not in config.model_dump_json()  # workers get the config, never the secret
    app = create_app(config, graph_http=httpx.Client(transport=httpx.MockTransport(authority)))
    with TestClient(app, base_url="http://testserver") as client:
        console = Console(client, engine, password)
        console.login()
        yield console


def _wait(console: Console, location: str) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        page = console.client.get(location).text
        if "Running:" not in page:
            return page
        time.sleep(0.2)
    raise AssertionError(f"{location} still running after 120 s")


def _headline(page: str) -> str:
    found = re.search(r'<p class="headline">(.*?)</p>', page, re.S)
    assert found, page[:500]
    return re.sub(r"\s+", " ", found.group(1))


def test_pull_pages_through_throttling_and_links_users_to_cases(
        engine: Engine, db_url: str, tenant: tuple[GraphServer, dict[str, Any], int],
        monkeypatch: pytest.MonkeyPatch) -> None:
    server, truth, rows = tenant
    monkeypatch.setenv(SECRET_ENV, SECRET)
    authority = Authority()
    sif_users = truth["sif_users"]
    with sessions(engine)() as db:
        for upn in [*sif_users, "someone@contoso.com"]:
            db.add(Case(upn=upn.lower(), cause="recurring-conditional-access",
                        join_type="entra-joined", status="open", source="intake",
                        needs_person=False))
        db.commit()
    for console in _console(engine, db_url, server, authority):
        form = console.client.get("/tenant").text
        assert 'action="/tenant/pull"' in form and SECRET not in form
        start, last = END - timedelta(days=11), END - timedelta(days=1)
        answer = console.post("/tenant/pull", {"name": "Graph week", "since": f"{start:%Y-%m-%d}",
                                               "until": f"{last:%Y-%m-%d}"},
                              follow_redirects=False)
        assert answer.status_code == 303, answer.text[:300]
        page = _wait(console, answer.headers["location"])
        assert "Done:" in page, page[:800]
        assert f"{rows:,} sign-ins" in page
        analysis_link = re.search(r'href="(/tenant/\d+)"', page)
        assert analysis_link
        analysis_page = console.client.get(analysis_link.group(1)).text
        headline = _headline(analysis_page)
        assert len(sif_users) >= 2
        assert headline.startswith(f"{len(sif_users) + 1} open cases; {len(sif_users)} of them "
                                   "are users in this analysis"), headline
        assert f"<b>{len(sif_users)}</b> of them users under the 24 h" in headline
        assert SECRET not in analysis_page
    # app-only: the client-credentials grant with the secret from the environment
    grants = {r.get("grant_type") for r in authority.token_requests}
    assert grants == {"client_credentials"}
    assert all(r["scope"] == f"{server.url}/.default" for r in authority.token_requests)
    hits = server.reporting_hits()
    assert any("skiptoken" in h.query for h in hits if h.status == 200)  # paged
    assert any(h.status == 429 for h in hits)  # throttled, waited and went on
    with sessions(engine)() as db:
        kept = json.loads(db.scalars(select(Analysis.result)).one())
        assert kept["summary"]["signins"] == rows  # every sign-in once: none lost, none twice
        pull = db.scalars(select(TenantPull)).one()
        assert (pull.status, pull.rows) == ("done", rows) and pull.finished_at is not None


def test_refusals_end_the_pull_with_the_reason(
        engine: Engine, db_url: str, tenant: tuple[GraphServer, dict[str, Any], int],
        monkeypatch: pytest.MonkeyPatch) -> None:
    server, _, _ = tenant
    authority = Authority()
    monkeypatch.setenv(SECRET_ENV, "wrong")
    day = f"{END - timedelta(days=2):%Y-%m-%d}"
    for console in _console(engine, db_url, server, authority):
        answer = console.post("/tenant/pull", {"since": day, "until": day},
                              follow_redirects=False)
        page = _wait(console, answer.headers["location"])
        assert "Failed: App sign-in failed: AADSTS7000215" in page, page[:800]
        monkeypatch.setenv(SECRET_ENV, SECRET)
        server.state.forbidden = {"signins"}
        answer = console.post("/tenant/pull", {"since": day, "until": day},
                              follow_redirects=False)
        page = _wait(console, answer.headers["location"])
        assert "Failed: Graph refused" in page and "AuditLog.Read.All" in page, page[:800]
        bad = console.post("/tenant/pull", {"since": "last week", "until": day})
        assert bad.status_code == 400 and "YYYY-MM-DD" in bad.text
        with sessions(engine)() as db:  # one pull at a time
            db.add(TenantPull(name="", since=now(), until=now(), status="running", rows=0,
                              pages=0, created_at=now(), updated_at=now()))
            db.commit()
        busy = console.post("/tenant/pull", {"since": day, "until": day})
        assert busy.status_code == 400 and "still running" in busy.text
        with sessions(engine)() as db:
            assert db.scalars(select(Analysis)).first() is None


def test_pull_needs_the_server_configured(lead: Console) -> None:
    assert 'action="/tenant/pull"' not in lead.client.get("/tenant").text
    answer = lead.post("/tenant/pull", {"since": "2026-11-01", "until": "2026-11-02"})
    assert answer.status_code == 400 and "--graph-tenant" in answer.text

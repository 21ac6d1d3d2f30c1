"""Helpers the console tests share: the app behind a TestClient, signed in as a lead."""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from odfix.console import auth
from odfix.console.app import create_app
from odfix.console.config import ConsoleConfig
from odfix.console.db import Site, sessions
from odfix.fleet.report import FleetReport, MethodResult

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Console:
    client: TestClient
    engine: Engine
    password: str

    def csrf(self, path: str = "/cases") -> str:
        found = CSRF.search(self.client.get(path).text)
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    def login(self) -> None:
        response = self.client.post("/login/local", data={
            "user": "admin", "password": self.password, "csrf": self.csrf("/login")})
        assert response.status_code == 200 and "Cases" in response.text

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.client.post(path, data={**(data or {}), "csrf": self.csrf()}, **kwargs)

    def token(self, site: str = "HQ") -> str:
        """A new enrolment token (through the fleet page, as a lead makes one)."""
        self.post("/fleet/sites", {"name": site})
        with sessions(self.engine)() as db:
            site_id = db.query(Site).filter_by(name=site).one().id
        page = self.post("/fleet/tokens", {"site_id": str(site_id), "label": "test"})
        found = re.search(r"(odfx_[A-Za-z0-9_-]{20,})", page.text)
        assert found, "the new token is shown once on the fleet page"
        return found.group(1)


def prepare(engine: Engine, url: str, **config: Any) -> tuple[Any, str]:
    """The app over a migrated database, and the break-glass password."""
    with sessions(engine)() as db:
        password = auth.set_break_glass_password(db)
    return create_app(ConsoleConfig(db_url=url, **config)), password


def make_console(engine: Engine, url: str, **config: Any) -> Iterator[Console]:
    app, password = prepare(engine, url, **config)
    with TestClient(app, base_url="http://testserver") as client:
        yield Console(client, engine, password)


class LiveServer:
    """The app served by a real uvicorn on 127.0.0.1 (for browsers and posting clients)."""

    def __init__(self, app: Any) -> None:
        import socket
        import threading
        import time

        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the live server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


def add_token(engine: Engine, site: str = "HQ") -> str:
    """An enrolment token made straight in the database (as the fleet page would)."""
    from odfix.console.db import EnrolmentToken

    token, digest, prefix = auth.new_token()
    with sessions(engine)() as db:
        row = Site(name=site)
        db.add(row)
        db.flush()
        db.add(EnrolmentToken(site_id=row.id, label=site, token_hash=digest, prefix=prefix))
        db.commit()
    return token


T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday


def report(run: str, *, verdict: str = "problem", user: str | None = "ada@contoso.com",
           device: str | None = "DEV-1", host: str = "PC-1", cause: str = "cloned-image",
           methods: list[tuple[str, str]] | None = None, at: datetime = T0,
           minutes: int = 5, source: str = "cli") -> dict[str, Any]:
    exit_code = {"healthy": 0, "fixed": 0, "problem": 1, "still-failing": 3,
                 "needs-person": 4}[verdict]
    doc = FleetReport(
        run_id=run, source=source, kind="fix", device_id=device, device_name=host, user=user,  # type: ignore[arg-type]
        join_type="hybrid-joined", cause=cause, verdict=verdict,  # type: ignore[arg-type]
        methods=[MethodResult(method=m, outcome=o) for m, o in methods or []],  # type: ignore[arg-type]
        exit_code=exit_code, started_at=at, ended_at=at + timedelta(minutes=minutes),
        odfix_version="0.test")
    return doc.dump()


def post(console: Console, token: str, body: Any) -> Any:
    return console.client.post("/api/v1/reports", content=json.dumps(body),
                               headers={"Authorization": f"Bearer {token}",
                                        "Content-Type": "application/json"})

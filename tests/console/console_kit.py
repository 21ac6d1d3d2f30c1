"""Helpers the console tests share: the app behind a TestClient, signed in as a lead."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from odfix.console import auth
from odfix.console.app import create_app
from odfix.console.config import ConsoleConfig
from odfix.console.db import Site, sessions

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


def make_console(engine: Engine, url: str, **config: Any) -> Iterator[Console]:
    with sessions(engine)() as db:
        password = auth.set_break_glass_password(db)
    app = create_app(ConsoleConfig(db_url=url, **config))
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

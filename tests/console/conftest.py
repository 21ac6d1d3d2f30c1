"""Console fixtures: a migrated database (SQLite file or a real PostgreSQL server the tests
start), the app behind Starlette's TestClient, and a signed-in lead."""

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from odfix.console import migrate
from odfix.console.db import make_engine

sys.path.insert(0, str(Path(__file__).parent))
from console_kit import Console, make_console
from console_pg import PgServer, binaries


@pytest.fixture(scope="session")
def pg() -> Iterator[PgServer]:
    if binaries() is None:
        pytest.skip("PostgreSQL binaries are absent (apt-get install postgresql; .ci/run "
                    "installs them, so CI never skips)")
    server = PgServer()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'console.db'}"
    server: PgServer = request.getfixturevalue("pg")
    return server.create("t" + uuid.uuid4().hex[:12])


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def console(engine: Engine, db_url: str) -> Iterator[Console]:
    yield from make_console(engine, db_url)


@pytest.fixture
def lead(console: Console) -> Console:
    console.login()
    return console

"""``odfix fix --report-to``: the run's report reaches the console; offline, it waits."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from console_kit import LiveServer, add_token
from sqlalchemy import Engine, select

from odfix.console.app import create_app
from odfix.console.config import ConsoleConfig
from odfix.console.db import Case, Report, sessions


def _fix(data: Path, url: str, token: str | None, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ODFIX_DATA_DIR": str(data)}
    env.pop("ODFIX_REPORT_TOKEN", None)
    if token:
        env["ODFIX_REPORT_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "odfix", "fix", "--simulate", "password-reset",
                           "--apply", "--yes", "--json", "--report-to", url, *extra],
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture(params=["sqlite"])
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'console.db'}"


def test_fix_posts_its_report_and_keeps_it_while_offline(engine: Engine, db_url: str,
                                                         tmp_path: Path) -> None:
    token = add_token(engine)
    server = LiveServer(create_app(ConsoleConfig(db_url=db_url)))
    try:
        missing = _fix(tmp_path / "a", server.url, None)
        assert missing.returncode == 2 and "ODFIX_REPORT_TOKEN" in missing.stderr
        assert not (tmp_path / "a" / "sim").exists()  # refused before the PC was touched
        run = _fix(tmp_path / "a", server.url, token)
        line = json.loads(run.stdout)  # still exactly one JSON document on stdout
        assert run.returncode == line["exit"] and "report posted" in run.stderr
        with sessions(engine)() as db:
            stored = db.scalars(select(Report)).one()
            assert stored.run_id == line["run"] and stored.upn == line["user"]
            case = db.get(Case, stored.case_id)
            assert case is not None and case.cause == line["cause"]
    finally:
        server.stop()
    # the console is down: the fix still ends with its own code, the report waits in the outbox
    offline = _fix(tmp_path / "b", server.url, token)
    assert offline.returncode == json.loads(offline.stdout)["exit"]
    assert "report not posted" in offline.stderr
    waiting = list((tmp_path / "b" / "outbox").glob("*.json"))
    assert len(waiting) == 1
    server = LiveServer(create_app(ConsoleConfig(db_url=db_url)))
    try:
        again = _fix(tmp_path / "b", server.url, token, "--resume")
        assert "report posted" in again.stderr
        assert not list((tmp_path / "b" / "outbox").glob("*.json"))
        with sessions(engine)() as db:
            runs = set(db.scalars(select(Report.run_id)))
        assert {json.loads(offline.stdout)["run"], json.loads(again.stdout)["run"]} <= runs
    finally:
        server.stop()

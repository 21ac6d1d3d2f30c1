"""``odfix serve``: first start prints the break-glass account once; bad options, one line."""

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from odfix.console import auth
from odfix.console.db import Account, make_engine, sessions


def _serve(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ODFIX_GRAPH_CLIENT_SECRET"}
    return subprocess.run([sys.executable, "-m", "odfix", "serve", *args],
                          env={**env, "ODFIX_DATA_DIR": str(data), "COLUMNS": "200"},
                          capture_output=True, text=True, timeout=120)


def test_first_start_makes_the_break_glass_account(tmp_path: Path) -> None:
    first = _serve(tmp_path, "--migrate-only")
    assert first.returncode == 0 and "user admin, password" in first.stderr
    password = first.stderr.split("password ", 1)[1].split()[0]
    engine = make_engine(f"sqlite:///{tmp_path / 'console.db'}")
    with sessions(engine)() as db:
        account = db.scalars(select(Account)).one()
        assert account.role == "lead" and auth.verify_password(password, account.password_hash)
    again = _serve(tmp_path, "--migrate-only")
    assert again.returncode == 0 and "password" not in again.stderr  # shown once
    reset = _serve(tmp_path, "--reset-admin-password")
    new = reset.stderr.split("password ", 1)[1].split()[0]
    assert reset.returncode == 0 and new != password
    with sessions(engine)() as db:
        stored = db.scalars(select(Account)).one().password_hash
        assert auth.verify_password(new, stored) and not auth.verify_password(password, stored)
    engine.dispose()


def test_bad_options_get_one_line(tmp_path: Path) -> None:
    for args, code, text in (
        (["--workers", "2"], 2, "several workers need PostgreSQL"),
        (["--oidc-issuer", "https://login.example/"], 2, "go together"),
        (["--graph-tenant", "contoso.example"], 2, "--graph-tenant and --graph-client-id"),
        (["--graph-tenant", "contoso.example", "--graph-client-id", "c"], 2,
         "credential: set ODFIX_GRAPH_CLIENT_SECRET or give --graph-certificate"),
        (["--graph-tenant", "contoso.example", "--graph-client-id", "c",
          "--graph-certificate", "/nonexistent/app.pfx"], 2, "no such file"),
        (["--db", "postgresql://odfix:secret@127.0.0.1:1/none", "--migrate-only"], 8,
         "cannot open the database"),
        (["--db", "mysql://odfix:secret@db/none", "--migrate-only"], 2,
         "is not a database odfix can use"),
        (["--db", "nope://x", "--migrate-only"], 2, "is not a database odfix can use"),
        (["--db", "sqlite://", "--migrate-only"], 2, "is not a database odfix can use"),
        (["--db", "postgresql://odfix:secret@db:port/none", "--migrate-only"], 2,
         "not a database URL odfix can use"),
    ):
        result = _serve(tmp_path, *args)
        assert result.returncode == code, result.stderr
        assert text in result.stderr and "Traceback" not in result.stderr
        assert "secret" not in result.stderr  # the URL's password is not echoed

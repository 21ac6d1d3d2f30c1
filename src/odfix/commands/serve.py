"""``odfix serve``: the help-desk console (needs the ``console`` extra).

SQLite in the data directory by default; ``--db postgresql://…`` for a shared deployment with
several workers. The schema is migrated before the server starts.
"""

import os
from pathlib import Path

import typer

from odfix import output
from odfix.errors import BadInput

SECRET_ENV = "ODFIX_OIDC_CLIENT_SECRET"
GRAPH_SECRET_ENV = "ODFIX_GRAPH_CLIENT_SECRET"
DB_SCHEMES = ("sqlite:///", "postgresql://", "postgres://")
"""The databases the console runs on (``make_engine``)."""


def _default_db() -> str:
    from odfix.fix.journal import data_dir

    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'console.db'}"


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8765, "--port", min=1, max=65535, help="Port to listen on."),
    db: str | None = typer.Option(
        None, "--db", metavar="URL", help="postgresql://user@host/db (default: SQLite in the "
        "data directory)."),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes (PostgreSQL)."),
    oidc_issuer: str | None = typer.Option(
        None, "--oidc-issuer", help="OpenID Connect issuer, e.g. "
        "https://login.microsoftonline.com/<tenant-id>/v2.0"),
    oidc_client_id: str | None = typer.Option(None, "--oidc-client-id",
                                              help="The app registration's client id."),
    graph_tenant: str | None = typer.Option(
        None, "--graph-tenant", help="Tenant (id or domain) to pull sign-in logs from, app-only."),
    graph_client_id: str | None = typer.Option(
        None, "--graph-client-id", help="The app registration the console pulls with."),
    graph_certificate: Path | None = typer.Option(
        None, "--graph-certificate", help="Its certificate (.pfx, or PEM with the key) instead "
        "of a secret in ODFIX_GRAPH_CLIENT_SECRET."),
    graph_url: str = typer.Option("https://graph.microsoft.com", "--graph-url",
                                  help="Graph endpoint (national clouds)."),
    graph_authority_host: str = typer.Option(
        "https://login.microsoftonline.com", "--graph-authority-host",
        help="Sign-in endpoint (national clouds)."),
    public_url: str | None = typer.Option(
        None, "--public-url", help="The URL people open (behind a reverse proxy)."),
    reset_admin_password: bool = typer.Option(
        False, "--reset-admin-password", help="Give the break-glass 'admin' a new password, "
        "print it and exit."),
    migrate_only: bool = typer.Option(False, "--migrate-only",
                                      help="Create or upgrade the schema and exit."),
) -> None:
    """Run the help-desk console: intake, cases, fleet reports, dashboard, tenant view, KB.

    The OIDC client secret, when the app registration has one, is read from
    ODFIX_OIDC_CLIENT_SECRET, and the Graph pull's client secret from ODFIX_GRAPH_CLIENT_SECRET
    (never from the command line).
    """
    try:
        import uvicorn

        from odfix.console import auth, migrate
        from odfix.console.config import ConsoleConfig, GraphPullConfig, OidcConfig
        from odfix.console.db import make_engine, sessions
    except ImportError as error:
        raise BadInput(f"the console needs the 'console' extra: pip install 'odfix[console]' "
                       f"({error.name} is missing)") from None
    url = db or _default_db()
    if workers > 1 and url.startswith("sqlite"):
        raise BadInput("several workers need PostgreSQL (--db postgresql://…); SQLite takes one")
    if bool(oidc_issuer) != bool(oidc_client_id):
        raise BadInput("--oidc-issuer and --oidc-client-id go together")
    oidc = (OidcConfig(issuer=oidc_issuer, client_id=oidc_client_id,
                       client_secret=os.environ.get(SECRET_ENV) or None)
            if oidc_issuer and oidc_client_id else None)
    graph = None
    if bool(graph_tenant) != bool(graph_client_id):
        raise BadInput("--graph-tenant and --graph-client-id go together")
    if graph_tenant and graph_client_id:
        if graph_certificate is not None and not graph_certificate.is_file():
            raise BadInput(f"--graph-certificate {graph_certificate}: no such file")
        if graph_certificate is None and not os.environ.get(GRAPH_SECRET_ENV):
            raise BadInput(f"pulling from Graph needs the app's credential: set "
                           f"{GRAPH_SECRET_ENV} or give --graph-certificate")
        graph = GraphPullConfig(
            tenant=graph_tenant, client_id=graph_client_id, secret_env=GRAPH_SECRET_ENV,
            certificate=str(graph_certificate.resolve()) if graph_certificate else None,
            graph_url=graph_url, authority_host=graph_authority_host)
    config = ConsoleConfig(db_url=url, oidc=oidc, graph=graph, public_url=public_url,
                           secure_cookies=bool(public_url and public_url.startswith("https:")))
    if not url.startswith(DB_SCHEMES):
        raise BadInput(f"--db: {_redact(url)} is not a database odfix can use; give "
                       "postgresql://user@host/db or sqlite:///path/console.db")
    try:
        engine = make_engine(url)
    except ValueError as error:  # a port that is not a number, a URL SQLAlchemy cannot parse
        raise BadInput(f"--db: not a database URL odfix can use ({_redact(url)}): "
                       f"{str(error).splitlines()[0]}") from None
    try:
        migrate.upgrade(engine)
        with sessions(engine)() as session:
            if reset_admin_password or not auth.has_break_glass(session):
                password = auth.set_break_glass_password(session)
                output.err_console.print(
                    f"break-glass account: user [bold]admin[/], password [bold]{password}[/] "
                    "(shown once; odfix serve --reset-admin-password prints a new one)",
                    soft_wrap=True)
    except Exception as error:
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(error, SQLAlchemyError):
            from odfix.errors import IOFailure

            raise IOFailure(f"cannot open the database {_redact(url)}: "
                            f"{str(error).splitlines()[0]}") from None
        raise
    finally:
        engine.dispose()
    if reset_admin_password or migrate_only:
        return
    os.environ.update(config.to_env())
    output.err_console.print(f"odfix console on http://{host}:{port}/ ({_redact(url)})",
                             soft_wrap=True)
    uvicorn.run("odfix.console.app:from_env", factory=True, host=host, port=port,
                workers=workers, proxy_headers=True, log_level="warning", access_log=False)


def _redact(url: str) -> str:
    """A database URL without its password."""
    if "://" not in url or "@" not in url:
        return url if not url.startswith("sqlite") else str(Path(url.split(":///", 1)[-1]))
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    return f"{scheme}://{credentials.split(':', 1)[0]}@{host}"


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the app."""
    app.command("serve")(serve)

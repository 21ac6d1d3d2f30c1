"""``odfix signins pull`` (Graph → Parquet) and ``odfix signins kql`` (the analyses as KQL)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from odfix import output
from odfix.commands.graph_signin import Certificate, ClientId, DeviceCode, SecretEnv, TokenEnv
from odfix.errors import BadInput

if TYPE_CHECKING:
    from odfix.tenant.kql import KqlTable
    from odfix.tenant.pull import PullProgress, PullResult
    from odfix.tenant.pull_checkpoint import PullPlan

_RELATIVE = re.compile(r"^(\d+)([dh])$")


def parse_when(text: str, now: datetime) -> datetime:
    """An ISO date/time (UTC unless it says otherwise) or ``7d`` / ``36h`` before ``now``."""
    if found := _RELATIVE.match(text.strip()):
        amount, unit = int(found[1]), found[2]
        return now - (timedelta(days=amount) if unit == "d" else timedelta(hours=amount))
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as error:
        raise BadInput(f"not a date/time: {text!r} (use 2026-11-01, 2026-11-01T08:00Z or 7d)") \
            from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _names(text: str, option: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    if text.strip().lower() == "none":
        return ()
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise BadInput(f"{option}: unknown {', '.join(unknown)} (choose from {', '.join(allowed)})")
    return names


def pull(
    tenant: str = typer.Option(..., "--tenant", help="Tenant id or domain."),
    since: str = typer.Option(..., "--since", help="Start: ISO date/time (UTC) or 7d / 36h ago."),
    until: str = typer.Option("0h", "--until", help="End: ISO date/time (UTC); default now."),
    out: Path = typer.Option(..., "--out", help="Output folder (Parquet + JSON + checkpoint)."),
    client_id: ClientId = None,
    certificate: Certificate = None,
    secret_env: SecretEnv = None,
    token_env: TokenEnv = None,
    device_code: DeviceCode = False,
    plaintext_cache: bool = typer.Option(False, "--plaintext-cache",
                                         help="Allow an unencrypted token cache file."),
    slice_hours: float = typer.Option(6.0, "--slice-hours", min=0.01,
                                      help="Hours per checkpointed time slice."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted pull in --out."),
    user: str | None = typer.Option(None, "--user", help="Only this userPrincipalName."),
    app_id: str | None = typer.Option(None, "--app-id", help="Only this application id."),
    types: str = typer.Option("interactiveUser,nonInteractiveUser", "--types",
                              help="Sign-in event types to pull."),
    include: str = typer.Option("users,policies,groups,devices,audits", "--include",
                                help="Also pull these (or 'none')."),
    rate_limit: int = typer.Option(5, "--rate-limit", min=1,
                                   help="Reporting requests per 10 s (Graph documents 5)."),
    graph_url: str = typer.Option("https://graph.microsoft.com", "--graph-url",
                                  help="Graph endpoint (national clouds)."),
    authority_host: str = typer.Option("https://login.microsoftonline.com", "--authority-host",
                                       help="Sign-in endpoint (national clouds)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Pull sign-ins (interactive and non-interactive) and related objects from Microsoft Graph."""
    from pydantic import ValidationError
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from odfix.tenant.auth import AuthOptions, token_source
    from odfix.tenant.graph import GraphClient
    from odfix.tenant.graph_throttle import ThrottleLimit, TokenBucket
    from odfix.tenant.pull import Puller
    from odfix.tenant.pull_checkpoint import (
        CHECKPOINT_NAME,
        EVENT_TYPES,
        EXTRAS,
        Checkpoint,
        PullPlan,
    )

    now = datetime.now(UTC)
    try:
        plan = PullPlan(
            since=parse_when(since, now), until=parse_when(until, now), slice_hours=slice_hours,
            event_types=_names(types, "--types", tuple(EVENT_TYPES)),
            extras=_names(include, "--include", EXTRAS), user=user, app_id=app_id)
    except ValidationError as error:
        raise BadInput(str(error.errors()[0]["msg"]).removeprefix("Value error, ")) from error
    saved = out / CHECKPOINT_NAME
    if resume and saved.is_file():
        plan = Checkpoint.load(saved).plan  # relative --since/--until would move with the clock
    if secret_env and certificate:
        raise BadInput("give either --certificate or --secret-env, not both")
    options = AuthOptions(
        tenant=tenant, client_id=client_id, authority_host=authority_host, graph_url=graph_url,
        secret_env=secret_env, certificate=certificate, device_code=device_code,
        plaintext_cache=plaintext_cache, token_env=token_env,
        needs=("signins", *plan.extras, *(("policies",) if "groups" in plan.extras else ())))
    pacer = TokenBucket.for_limit(ThrottleLimit(requests=rate_limit))
    started = time.monotonic()
    # on stderr, also with --json (stdout carries only the JSON document); not in a log file
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=output.err_console, transient=True,
                  disable=not output.err_console.is_terminal) as bar:
        task = bar.add_task("connecting to Microsoft Graph", total=None)

        def show(step: PullProgress) -> None:
            bar.update(task, total=step.slices_total, completed=step.slices_done,
                       description=progress_line(step, plan, time.monotonic() - started))

        with GraphClient(token_source(options), base_url=graph_url, pacer=pacer) as client:
            try:
                result = Puller(client, out, on_progress=show).run(plan, resume=resume)
            except OSError as error:
                from odfix.tenant.outfile import write_error

                raise write_error(Path(error.filename or out), "the pull", error) from None
    if as_json:
        output.emit_json(result)
        return
    _summary(result)


def progress_line(step: PullProgress, plan: PullPlan, elapsed: float) -> str:
    """Pages, rows, rate and the position in the time window, for the progress display."""
    rate = step.rows / elapsed if elapsed > 0 else 0.0
    where = ""
    if step.at is not None:
        span = (plan.until - plan.since).total_seconds()
        share = (step.at - plan.since).total_seconds() / span if span > 0 else 1.0
        where = f", at {step.at:%Y-%m-%d %H:%M} ({min(max(share, 0.0), 1.0):.0%} of the window)"
    return (f"{step.pages:,} pages, {step.rows:,} sign-ins, {rate:,.0f}/s{where}; slices")


def _summary(result: PullResult) -> None:
    from rich.table import Table

    table = Table(title=f"Pulled into {output.escape(str(result.out))}"
                  + (" (resumed)" if result.resumed else ""))
    table.add_column("data")
    table.add_column("rows", justify="right")
    for name, count in result.rows.items():
        table.add_row(f"sign-ins: {name}", f"{count:,}")
    for name, count in result.extras.items():
        table.add_row(f"{name}.json", f"{count:,}")
    output.console.print(table)
    stats = result.stats
    output.console.print(f"{stats.requests} requests, {stats.retries} retried, {stats.throttled} "
                         f"throttled, {stats.paced_wait_s:.0f} s paced", markup=False)
    for warning in result.warnings:
        output.err_console.print(output.plain(f"odfix: warning: {warning}"), markup=False,
                                 soft_wrap=True)
    extras = " ".join(f"--{n} {Path(result.out) / (n + '.json')}" for n in result.extras)
    next_step = f"Next: odfix signins analyze {Path(result.out) / 'signins'} {extras}".rstrip()
    output.console.print(output.plain(next_step), markup=False, soft_wrap=True)


def kql(
    analysis: list[str] = typer.Option(
        [], "--analysis", help="classify, users, cadence, password or clones (default: all)."),
    days: int = typer.Option(30, "--days", min=1, max=3650, help="Look back this many days."),
    workspace: str | None = typer.Option(None, "--workspace",
                                         help="Run in this Log Analytics workspace (id)."),
    tenant: str | None = typer.Option(None, "--tenant", help="Tenant for --workspace sign-in."),
    client_id: str | None = typer.Option(None, "--client-id", envvar="ODFIX_CLIENT_ID",
                                         help="App registration for --workspace sign-in."),
    secret_env: str | None = typer.Option(None, "--secret-env",
                                          help="Env variable holding the app's client secret."),
    certificate: Path | None = typer.Option(None, "--certificate", help="App certificate."),
    device_code: bool = typer.Option(False, "--device-code", help="Sign in with a device code."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Print the analyses as KQL for Log Analytics, or run them there with --workspace."""
    from odfix.tenant import kql as generator
    from odfix.tenant.analyze import catalog_categories

    unknown = [a for a in analysis if a not in generator.ANALYSES]
    if unknown:
        raise BadInput(f"--analysis: unknown {', '.join(unknown)} "
                       f"(choose from {', '.join(generator.ANALYSES)})")
    categories = catalog_categories()
    queries = {name: generator.query(name, categories, days)
               for name in (analysis or list(generator.ANALYSES))}
    if workspace is None:
        if as_json:
            output.emit_json({"days": days, "queries": queries})
        else:
            output.console.print("\n".join(queries.values()), markup=False, highlight=False,
                                 soft_wrap=True)
        return
    credential = generator.workspace_credential(tenant, client_id, secret_env, certificate,
                                                device_code)
    results, warnings = generator.run_in_workspace(workspace, queries, days, credential)
    for warning in warnings:
        output.err_console.print(output.plain(f"odfix: warning: {warning}"), markup=False,
                                 soft_wrap=True)
    if as_json:
        output.emit_json({"days": days, "workspace": workspace, "queries": queries,
                          "results": {n: [t.model_dump() for t in ts]
                                      for n, ts in results.items()}})
        return
    _tables(results)


def _tables(results: dict[str, list[KqlTable]]) -> None:
    from rich.table import Table

    for name, tables in results.items():
        for result in tables:
            table = Table(title=name)
            for column in result.columns:
                table.add_column(output.escape(column))
            for row in result.rows:
                table.add_row(*("" if v is None else output.escape(str(v)) for v in row))
            output.console.print(table)


def register(group: typer.Typer) -> None:
    """Add ``pull`` and ``kql`` to the ``signins`` group."""
    group.command("pull")(pull)
    group.command("kql")(kql)

"""``odfix collect``: gather this PC's evidence into a bundle zip (Windows only)."""

import sys
from datetime import UTC, datetime
from pathlib import Path

import typer

from odfix import output
from odfix.errors import WrongContext


def register(app: typer.Typer) -> None:
    """Add ``collect`` to the main app."""
    app.command(name="collect")(collect_command)


def collect_command(
    out: Path | None = typer.Option(
        None, "--out", help="Bundle zip to write (default: odfix-<host>-<UTC time>.zip here)."),
    pseudonymize: bool = typer.Option(
        False, "--pseudonymize",
        help="Replace UPNs, e-mail addresses, host names, tenant and device ids by keyed tokens."),
    key: str | None = typer.Option(
        None, "--key", help="Key for --pseudonymize (the same key gives the same tokens across "
                            "PCs); without it a random key is written to <bundle>.key."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    connectivity: bool = typer.Option(
        False, "--connectivity", help="Also test DNS, TCP and TLS 1.2+ to Microsoft's sign-in, "
        "device-registration and SharePoint endpoints (connectivity.json)."),
) -> None:
    """Gather dsregcmd, the AAD log, credentials (names only), OneDrive, Office identity,
    proxy and TLS settings into a zip for [bold]odfix diagnose[/bold]. Changes nothing."""
    if sys.platform != "win32":
        raise WrongContext("odfix collect reads a Windows PC and runs only on Windows; "
                           "elsewhere, gather the files by hand (docs/gather-without-odfix.md)")
    from odfix.evidence.bundle import check_output
    from odfix.evidence.collect import run_collect
    from odfix.hosts.windows import WindowsHost

    if out is not None:
        check_output(out)
    host = WindowsHost()
    target = out or Path(f"odfix-{host.hostname()}-"
                         f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.zip")
    result = run_collect(host, target, pseudonymize_with=key, pseudonymize_files=pseudonymize,
                         with_connectivity=connectivity)
    if as_json:
        output.emit_json(result)
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table("source", "file", "status", "reason")
    for run in result.collectors:
        table.add_row(run.name, run.file, run.status, run.reason or "")
    output.console.print(table)
    for problem in result.problems:
        output.console.print("[yellow]could not read:[/yellow] " + escape(problem))
    output.console.print(f"Bundle written: {result.bundle}", markup=False)
    if result.key_file:
        output.console.print(f"Pseudonymization key: {result.key_file} (keep it with you, not "
                             "in the ticket)", markup=False)

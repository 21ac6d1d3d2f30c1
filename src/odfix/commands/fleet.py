"""``odfix fleet import``: Intune Remediations run states → per cause and per method counts.

Also the pieces ``odfix diagnose`` borrows for ``--live`` (this PC's detection line) and
``--note`` (the ticket note).
"""

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from odfix import output
from odfix.commands.graph_signin import Certificate, ClientId, DeviceCode, SecretEnv, TokenEnv
from odfix.errors import BadInput

if TYPE_CHECKING:
    from odfix.diagnosis.models import Diagnosis
    from odfix.fix.engine import FixReport
    from odfix.fleet.report import FleetReport
    from odfix.fleet.runstates import RunState
    from odfix.fleet.summary import FleetSummary


def live_diagnosis(error_code: str | None, changed: datetime | None,
                   simulate: str | None = None) -> "tuple[Diagnosis, dict[str, Any]]":
    """This PC (or a simulated one) diagnosed now, and its detection line."""
    from odfix.commands.fix import _real_host, _simulated
    from odfix.fix.journal import Journal
    from odfix.fleet.live import detection_line, diagnose_live, last_run, still_fixed

    host = _simulated(simulate, True)[0] if simulate else _real_host()
    started = host.now()
    diagnosis = diagnose_live(host, error_code, changed)
    journal = Journal()
    since = None if diagnosis.healthy else still_fixed(host, journal, host.owner())
    line = detection_line(diagnosis, started=started, ended=host.now(),
                          last=last_run(journal, host.owner()), healthy_since=since)
    return diagnosis, line


def print_note(result: "Diagnosis | FixReport", fmt: str) -> None:
    """Print the ticket note of a diagnosis or a fix run as plain text or Markdown."""
    import sys

    from odfix.diagnosis.models import Diagnosis
    from odfix.guide.load import load_guide
    from odfix.publish import ticket

    guide = load_guide()
    items = (ticket.for_diagnosis(result, guide) if isinstance(result, Diagnosis)
             else ticket.for_fix(result, guide))
    sys.stdout.write(ticket.render(items, "md" if fmt == "md" else "text") + "\n")
    sys.stdout.flush()


def _print_summary(summary: "FleetSummary") -> None:
    from rich.table import Table

    esc = output.escape
    output.console.print(f"{summary.pcs} PCs ({summary.reports} run states): "
                         f"{summary.healthy} healthy, {summary.errors} with script errors")
    causes = Table("cause", "found", "fixed", "still failing", "needs a person",
                   "not remediated yet", title="Per cause", box=None)
    for row in summary.causes:
        causes.add_row(esc(row.cause), *(str(n) for n in (
            row.found, row.fixed, row.still_failing, row.needs_person, row.not_remediated)))
    output.console.print(causes)
    methods = Table("method", "ran", "fixed", "not fixed", "needs a person",
                    title="Per method", box=None)
    for line in summary.methods:
        methods.add_row(esc(line.method), *(str(n) for n in (
            line.ran, line.fixed, line.not_fixed, line.needs_person)))
    output.console.print(methods)
    if summary.clones:
        output.console.print("[bold]Device ids on more than one PC name[/] (cloned images: "
                             "see the cloned-image case in the KB)")
        for clone in summary.clones:
            output.console.print(f"  {esc(clone.device_id)}: {esc(', '.join(clone.names))}",
                                 soft_wrap=True)


def fleet_import(
    files: list[Path] | None = typer.Argument(
        None, metavar="FILE", help="Saved Graph answers of deviceRunStates (JSON or JSON Lines)."),
    script_id: str | None = typer.Option(
        None, "--script-id", help="Pull this remediation's run states from Graph instead."),
    tenant: str | None = typer.Option(None, "--tenant", help="Tenant id or domain (with "
                                      "--script-id)."),
    client_id: ClientId = None,
    certificate: Certificate = None,
    secret_env: SecretEnv = None,
    token_env: TokenEnv = None,
    device_code: DeviceCode = False,
    graph_url: str = typer.Option("https://graph.microsoft.com", "--graph-url",
                                  help="Graph endpoint (national clouds)."),
    reports_out: Path | None = typer.Option(
        None, "--reports", help="Also write each PC's fleet report as JSON Lines here."),
    report_to: str | None = typer.Option(
        None, "--report-to", metavar="URL", help="Also post the reports to the odfix console "
        "(the site's enrolment token in ODFIX_REPORT_TOKEN)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Read Intune Remediations run states and count, per cause and per method, the PCs found,
    fixed, still failing and needing a person; list device ids seen on several PC names."""
    from odfix.fleet import post, runstates
    from odfix.fleet.summary import summarize

    if bool(files) == bool(script_id):
        raise BadInput("give saved run-state FILEs, or --script-id (and --tenant) to pull them")
    if report_to is not None:  # refuse before any work
        post.endpoint(report_to)
        post.token()
    if script_id:
        states = _pull(script_id, tenant, client_id, certificate, secret_env, token_env,
                       device_code, graph_url)
    else:
        states = [state for path in files or [] for state in runstates.read_file(path)]
    reports: list[FleetReport] = [r for s in states if (r := runstates.to_report(s))]
    summary = summarize(reports)
    if reports_out is not None:
        reports_out.write_text("".join(r.model_dump_json(by_alias=True) + "\n" for r in reports),
                               encoding="utf-8")
    if report_to is not None:
        counts = post.send_batch(report_to, reports)
        output.err_console.print(
            f"posted {len(reports)} reports to the console: {counts['created']} new, "
            f"{counts['duplicate']} already there", soft_wrap=True, markup=False)
    if as_json:
        output.emit_json(summary)
    else:
        _print_summary(summary)


def _pull(script_id: str, tenant: str | None, client_id: str | None, certificate: Path | None,
          secret_env: str | None, token_env: str | None, device_code: bool,
          graph_url: str) -> "list[RunState]":
    from odfix.fleet import runstates
    from odfix.tenant.auth import AuthOptions, token_source
    from odfix.tenant.graph import GraphClient

    if not tenant:
        raise BadInput("--script-id needs --tenant")
    if secret_env and certificate:
        raise BadInput("give either --certificate or --secret-env, not both")
    options = AuthOptions(tenant=tenant, client_id=client_id, graph_url=graph_url,
                          secret_env=secret_env, certificate=certificate,
                          device_code=device_code, token_env=token_env, needs=("remediations",))
    with GraphClient(token_source(options), base_url=graph_url) as client:
        return runstates.pull(client, script_id)


def register(app: typer.Typer) -> None:
    """Add the ``fleet`` group with ``import``."""
    group = typer.Typer(no_args_is_help=True,
                        help="Fleet results: Intune Remediations run states summarised.")
    group.command("import")(fleet_import)
    app.add_typer(group, name="fleet")

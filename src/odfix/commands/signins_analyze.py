"""``odfix signins analyze`` and ``odfix signins synth``."""

import sys
from enum import StrEnum
from pathlib import Path

import typer

from odfix import output


class SynthFormat(StrEnum):
    GRAPH = "graph"
    NDJSON = "ndjson"


def analyze(
    files: list[Path] = typer.Argument(
        ..., help="Sign-in exports: Graph JSON (v1.0/beta, paged, array or NDJSON), portal "
                  "CSV/JSON, Log Analytics CSV/JSON, Parquet from 'signins pull', or folders."),
    users: Path | None = typer.Option(None, "--users", help="Graph users JSON "
                                      "(lastPasswordChangeDateTime)."),
    audits: Path | None = typer.Option(None, "--audits", help="Graph directoryAudits JSON."),
    policies: Path | None = typer.Option(None, "--policies", help="Graph CA policies JSON."),
    devices: Path | None = typer.Option(None, "--devices", help="Graph devices JSON."),
    groups: Path | None = typer.Option(None, "--groups", help="Graph groups with members or "
                                       "transitiveMembers (resolves group-scoped CA policies)."),
    as_csv: bool = typer.Option(False, "--csv", help="Print the ranked users as CSV."),
    html: Path | None = typer.Option(None, "--html", help="Write a self-contained HTML report."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    user: list[str] = typer.Option([], "--user", help="Show this user's timeline (repeatable)."),
    top: int = typer.Option(20, "--top", min=1, help="Users shown in the table."),
    window: float = typer.Option(72.0, "--window-hours", min=0.0,
                                 help="Failures this long after a password change correlate."),
) -> None:
    """Classify failures, rank users, find cadences, password-change bursts and cloned devices."""
    from odfix.tenant.analyze import Options, run

    if html is not None:  # before the analysis, not after it
        from odfix.tenant.outfile import check_target

        check_target(html, "the HTML report")
    result = run(files, users=users, audits=audits, policies=policies, devices=devices,
                 groups=groups, options=Options(password_window_hours=window,
                                                timeline_users=user))
    if html is not None:
        from odfix.tenant.html import write_html

        write_html(result, html)
    if as_json:
        output.emit_json(result)
    elif as_csv:
        from odfix.tenant.report import to_csv

        sys.stdout.write(to_csv(result))
    else:
        from odfix.tenant.report import render

        render(result, output.console, top=top, timelines=bool(user))
        if html is not None:
            output.console.print(f"HTML report: {output.escape(str(html))}")


def synth(
    out: Path = typer.Option(..., "--out", help="Sign-ins file to write (companions beside it)."),
    users: int = typer.Option(1000, "--users", min=4, max=10_000_000,
                              help="Users in the tenant."),
    days: int = typer.Option(30, "--days", min=3, max=3650, help="Days of logs."),
    seed: int = typer.Option(1, "--seed", help="Random seed (same seed, same files)."),
    rows: int | None = typer.Option(None, "--rows", min=1, max=1_000_000_000,
                                    help="Exact number of sign-ins."),
    fmt: SynthFormat = typer.Option(SynthFormat.GRAPH, "--format", help="graph or ndjson."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Write Graph sign-in logs with planted patterns, plus users/audits/policies/devices."""
    from odfix.tenant.synth import synthesize

    result = synthesize(out, users=users, days=days, seed=seed, rows=rows,
                        fmt="ndjson" if fmt is SynthFormat.NDJSON else "graph")
    if as_json:
        output.emit_json(result)
    else:
        names = ", ".join(p.name for p in (result.users, result.audits, result.policies,
                                           result.devices, result.truth))
        output.console.print(output.plain(f"{result.rows:,} sign-ins -> {result.signins}; "
                                          f"companions: {names}"), markup=False, soft_wrap=True)


def register(group: typer.Typer) -> None:
    """Add ``analyze`` and ``synth`` to the ``signins`` group."""
    group.command("analyze")(analyze)
    group.command("synth")(synth)

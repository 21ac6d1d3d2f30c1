"""``odfix diagnose PATH...``: why OneDrive fails on these PCs, with cited evidence and a plan.

Heavy work is imported inside the command so ``odfix --help`` stays fast.
"""

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from odfix.errors import BadInput
from odfix.exitcodes import ExitCode


class NoteFormat(StrEnum):
    """How ``--note`` prints."""

    TEXT = "text"
    MD = "md"


def parse_time(text: str) -> datetime:
    """An ISO 8601 time as aware UTC (a time without an offset is taken as UTC)."""
    try:
        parsed = datetime.fromisoformat(text.strip())
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: an offset past year 1 or 9999 in UTC
        raise BadInput(f"--password-changed-at: {text!r} is not a time "
                       "(use ISO 8601, e.g. 2025-07-15T09:00:00Z)") from None


def diagnose_command(
    paths: list[Path] | None = typer.Argument(
        None, metavar="PATH",
        help="A bundle zip or a folder of raw captures; several PATHs are several PCs.",
    ),
    error_code: str | None = typer.Option(
        None, "--error-code", metavar="C",
        help="The OneDrive error code from the ticket, e.g. 0x8004de40 (weighs the causes).",
    ),
    password_changed_at: str | None = typer.Option(
        None, "--password-changed-at", metavar="T",
        help="When the password was last changed or reset (ISO 8601, UTC if no offset).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    live: bool = typer.Option(
        False, "--live", help="Diagnose this PC now (Windows; nothing is written or changed)."),
    compact: bool = typer.Option(
        False, "--compact", help="With --json: one line of at most 2,048 characters, as the "
        "Intune and RMM detection scripts print it."),
    simulate: str | None = typer.Option(
        None, "--simulate", metavar="SCENARIO", help="With --live: a simulated PC (as in odfix "
        "fix --simulate) instead of this one."),
    note: bool = typer.Option(
        False, "--note", help="Print the ticket note (at most 15 lines) instead of the report."),
    note_format: NoteFormat = typer.Option(
        NoteFormat.TEXT, "--format", help="The ticket note as plain text or Markdown."),
) -> None:
    """Diagnose the 0x8004de40 family from captures: causes, cited findings and the plan.

    Exit 0 when healthy, 1 when a problem is found, 4 when there is not enough evidence (the
    captures to ask the user for are listed), 2 on bad input.
    """
    changed = parse_time(password_changed_at) if password_changed_at else None
    if live == bool(paths):
        raise BadInput("give the PATHs of captures, or --live to diagnose this PC (not both)")
    if compact and not (as_json and live):
        raise BadInput("--compact goes with --live --json (the detection line)")
    if simulate and not live:
        raise BadInput("--simulate goes with --live")
    line: dict[str, Any] = {}
    if live:
        from odfix.commands.fleet import live_diagnosis

        result, line = live_diagnosis(error_code, changed, simulate)
    else:
        from odfix.diagnosis import diagnose
        from odfix.evidence import bundle

        bundles = [bundle.load(path) for path in paths or []]
        result = diagnose(bundles, error_code=error_code, password_changed_at=changed)
    if note:
        from odfix.commands.fleet import print_note

        print_note(result, note_format.value)
    elif compact:
        from odfix.output import emit_json

        emit_json(line)
    elif as_json:
        from odfix.output import emit_json

        emit_json(result)
    else:
        from odfix.diagnosis.render import render
        from odfix.output import console

        render(result, console)
    codes = {"healthy": ExitCode.OK, "problem": ExitCode.PROBLEM,
             "not-enough-evidence": ExitCode.NEEDS_USER}
    raise typer.Exit(line["exit"] if live else codes[result.outcome])


def register(app: typer.Typer) -> None:
    """Add ``odfix diagnose``."""
    app.command("diagnose")(diagnose_command)

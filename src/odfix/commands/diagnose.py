"""``odfix diagnose PATH...``: why OneDrive fails on these PCs, with cited evidence and a plan.

Heavy work is imported inside the command so ``odfix --help`` stays fast.
"""

from datetime import UTC, datetime
from pathlib import Path

import typer

from odfix.errors import BadInput
from odfix.exitcodes import ExitCode


def parse_time(text: str) -> datetime:
    """An ISO 8601 time as aware UTC (a time without an offset is taken as UTC)."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(f"--password-changed-at: {text!r} is not a time "
                       "(use ISO 8601, e.g. 2025-07-15T09:00:00Z)") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def diagnose_command(
    paths: list[Path] = typer.Argument(
        ..., metavar="PATH",
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
) -> None:
    """Diagnose the 0x8004de40 family from captures: causes, cited findings and the plan.

    Exit 0 when healthy, 1 when a problem is found, 4 when there is not enough evidence (the
    captures to ask the user for are listed), 2 on bad input.
    """
    changed = parse_time(password_changed_at) if password_changed_at else None
    from odfix.diagnosis import diagnose
    from odfix.evidence import bundle

    bundles = [bundle.load(path) for path in paths]
    result = diagnose(bundles, error_code=error_code, password_changed_at=changed)
    if as_json:
        from odfix.output import emit_json

        emit_json(result)
    else:
        from odfix.diagnosis.render import render
        from odfix.output import console

        render(result, console)
    codes = {"healthy": ExitCode.OK, "problem": ExitCode.PROBLEM,
             "not-enough-evidence": ExitCode.NEEDS_USER}
    raise typer.Exit(codes[result.outcome])


def register(app: typer.Typer) -> None:
    """Add ``odfix diagnose``."""
    app.command("diagnose")(diagnose_command)

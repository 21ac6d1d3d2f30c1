"""Human output of a diagnosis: verdict, causes, findings with their quoted lines, plan."""

from rich.console import Console
from rich.table import Table

from odfix.diagnosis.models import NOT_ON_PC, Diagnosis, Finding
from odfix.output import escape

QUOTE_CHARS = 110
"""Quoted lines are cut here on screen (one wevtutil event is one long line); JSON keeps them."""
_MARK = {"error": "[red]✖[/red]", "warning": "[yellow]▲[/yellow]", "info": "[blue]·[/blue]"}
_COLOUR = {"healthy": "green", "problem": "red", "not-enough-evidence": "yellow"}
_USER_SCOPED = {"trusted": "describe the user", "not-the-user": "describe the machine account "
                "(captured as SYSTEM)", "not-captured": "not captured"}
WHO = {"user": "in the user's session", "elevated": "an administrator's elevated prompt",
       "local-admin": "a local administrator of this PC", "ui": "by hand, on screen"}
"""Who does a plan item: its context (``PlanItem.context``) in words."""


def render(diagnosis: Diagnosis, console: Console) -> None:
    """Print the diagnosis for a technician."""
    colour = _COLOUR[diagnosis.outcome]
    console.print(f"[bold {colour}]{escape(diagnosis.verdict)}[/bold {colour}]")
    if diagnosis.error_code:
        meaning = f" — {diagnosis.error_code_meaning}" if diagnosis.error_code_meaning else ""
        console.print(f"Ticket error code: {escape(diagnosis.error_code + meaning)}")
    if len(diagnosis.pcs) > 1:
        _pcs(diagnosis, console)
    else:
        console.print(f"Join type: {diagnosis.join_type}")
    for pc in diagnosis.pcs:
        for problem in pc.problems:
            console.print(f"[yellow]note[/yellow] {escape(pc.name)}: {escape(problem)}")
    _causes(diagnosis, console)
    console.print()
    console.print("[bold]Findings[/bold]")
    for finding in diagnosis.findings:
        _finding(finding, console)
    if diagnosis.plan:
        console.print()
        if NOT_ON_PC in diagnosis.verdict:
            console.print("[bold]Plan on the PC meanwhile[/bold] (the fix itself is the hand-over "
                          "under Escalate; from the guide, in its order; nothing is changed here)")
        else:
            console.print("[bold]Plan[/bold] (from the guide, in its order; run it with odfix "
                          "fix, or by hand with odfix guide; nothing is changed here)")
        for number, item in enumerate(diagnosis.plan, start=1):
            console.print(f" {number}. [bold]{item.method}[/bold] ({item.context}: "
                          f"{WHO[item.context]}) — {escape(item.why)}")
            if item.note:
                console.print(f"    {escape(item.note)}")
            if item.justified_by:
                console.print(f"    justified by: {escape(', '.join(item.justified_by))}")
            if item.steps:
                console.print(f"    [dim]steps: {escape(' → '.join(item.steps))}[/dim]")
    if diagnosis.withheld:
        console.print()
        console.print("[bold]Withheld[/bold] (unjoins or removes a registration; not planned, "
                      "for the reason given)")
        for withheld in diagnosis.withheld:
            console.print(f" - [bold]{withheld.method}[/bold]: {escape(withheld.why)}")
            console.print(f"    [dim]needs: {escape(withheld.needs)}[/dim]")
    if diagnosis.escalation:
        console.print()
        console.print(f"[bold]Escalate:[/bold] {escape(diagnosis.escalation)}")
    _evidence(diagnosis, console)


def _evidence(diagnosis: Diagnosis, console: Console) -> None:
    coverage = diagnosis.coverage
    console.print()
    console.print(f"[bold]Evidence[/bold]: {escape(', '.join(coverage.sources) or 'none')}; "
                  f"user-scoped dsregcmd fields {_USER_SCOPED[coverage.user_scoped]}")
    if not diagnosis.ask_for:
        return
    if diagnosis.outcome == "healthy":
        console.print("[bold]If the user still sees the error, ask for[/bold] (captured while "
                      "it shows, in their own Command Prompt, then zip and send):")
    else:
        console.print("[bold]Ask the user for[/bold] (in their own Command Prompt, then zip and "
                      "send):")
    for ask in diagnosis.ask_for:
        pc = f"{ask.pc}: " if ask.pc else ""
        console.print(f" - {escape(pc + ask.file)}: {escape(ask.why)}")
        console.print(f"    [dim]{escape(ask.command)}[/dim]", soft_wrap=True)


def _pcs(diagnosis: Diagnosis, console: Console) -> None:
    table = Table(title="PCs", title_justify="left")
    for column in ("PATH", "host", "join type", "DeviceId"):
        table.add_column(column)
    for pc in diagnosis.pcs:
        table.add_row(escape(pc.name), escape(pc.host_name or "?"), pc.join_type,
                      escape(pc.device_id or "-"))
    console.print(table)


def _causes(diagnosis: Diagnosis, console: Console) -> None:
    table = Table(title="Causes (best first)", title_justify="left")
    table.add_column("cause")
    table.add_column("confidence", justify="right")
    table.add_column("summary")
    for cause in diagnosis.causes:
        table.add_row(cause.id, f"{cause.confidence:.2f}", escape(cause.summary))
    console.print(table)


def _finding(finding: Finding, console: Console) -> None:
    console.print(f" {_MARK[finding.severity]} [bold]{escape(finding.id)}[/bold] "
                  f"{escape(finding.title)}")
    for detail in finding.details:
        console.print(f"     {escape(detail)}", soft_wrap=True)
    for line in finding.evidence:
        text = line.text.strip()
        if len(text) > QUOTE_CHARS:
            text = text[:QUOTE_CHARS] + "…"
        console.print(f"     [dim]{escape(line.file)}:{line.line}[/dim]  {escape(text)}",
                      soft_wrap=True)

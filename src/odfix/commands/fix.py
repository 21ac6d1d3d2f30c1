"""``odfix fix``, ``odfix journal`` and ``odfix demo``: run the guide, show the journal, rehearse.

``fix`` runs on the real Windows host (imported lazily) or, with ``--simulate SCENARIO``, on the
simulated PC, whose state is kept under the data directory so ``--resume`` can continue it.
"""

import hashlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from odfix import output
from odfix.commands.diagnose import NoteFormat
from odfix.errors import BadInput, WrongContext
from odfix.hosts import scenario_names
from odfix.output import emit_json, escape

if TYPE_CHECKING:  # the engine is imported inside the commands: `odfix --help` stays fast
    from odfix.fix.engine import FixReport, Narrator
    from odfix.fix.journal import Entry
    from odfix.hosts.base import Host

SCENARIOS = ", ".join(scenario_names())

STATUS_STYLE = {"done": "green", "done-before": "green", "planned": "cyan", "skipped": "dim",
                "paused": "yellow", "failed": "red", "declined": "yellow"}
NARRATION_STYLE = {"diagnosis": "bold", "method": "bold magenta", "check": "cyan",
                   "person": "yellow", "restart": "bold yellow", "resume": "bold yellow",
                   "test": "yellow", "gate": "yellow", "step": ""}


def _narrator(enabled: bool) -> "Narrator":
    from odfix.fix.engine import quiet

    if not enabled:
        return quiet

    def narrate(kind: str, text: str) -> None:
        style = NARRATION_STYLE.get(kind, "")
        label = f"[{style}]{kind:>9}[/]" if style else f"{kind:>9}"
        output.console.print(f"{label}  {escape(text)}", soft_wrap=True)

    return narrate


def _print_report(report: "FixReport") -> None:
    """Each step with its status, then each change or observation on its own unwrapped line."""
    if report.steps:
        from odfix.diagnosis.models import a_pc

        output.console.rule(f"odfix fix — {report.cause} on {a_pc(report.join_type)}")
    for step in report.steps:
        style = STATUS_STYLE.get(step.status, "")
        output.console.print(f"[{style}]{step.status:>11}[/]  {step.id}  {escape(step.title)}",
                             soft_wrap=True)
        for note in step.notes:
            output.console.print(f"{'':>13}  {escape(note)}", soft_wrap=True)
    verdict = "healthy" if report.healthy else f"exit {report.exit_code}"
    output.console.print(f"[bold]{verdict}[/]: {escape(report.reason)}", soft_wrap=True)
    if report.run_id:
        output.console.print(f"journal: odfix journal --run {report.run_id}")


def _sim_dir() -> Path:
    from odfix.fix.journal import data_dir

    return data_dir() / "sim"


def _sim_path(scenario: str) -> Path:
    return _sim_dir() / f"{scenario}.json"


def _simulated(scenario: str, resume: bool) -> "tuple[Host, str]":
    """The simulated PC (the saved one when resuming) and the code on the scenario's ticket."""
    from odfix.hosts.simulated import SimulatedHost, build_host, load_scenario

    spec = load_scenario(scenario)
    saved = _sim_path(scenario)
    if resume and saved.exists():
        return SimulatedHost.load(saved), spec.error_code
    return build_host(spec, _sim_dir() / scenario), spec.error_code


def _self_command() -> list[str]:
    """How to start this odfix again: odfix.exe of the Windows build (its launcher passes
    ``-X odfix-exe``), else this interpreter with ``-m odfix``."""
    if "odfix-exe" in sys._xoptions:
        return [sys.executable]
    return [sys.executable, "-m", "odfix"]


def _real_host() -> "Host":
    if sys.platform != "win32":
        raise WrongContext("odfix fix changes a Windows PC and this is not Windows; "
                           "rehearse with --simulate SCENARIO or run odfix demo")
    from odfix.hosts.windows import WindowsHost

    return WindowsHost()


def fix(
    apply: bool = typer.Option(False, "--apply", help="Make the changes (default: dry run)."),
    yes: bool = typer.Option(False, "--yes", help="Unattended: do not ask before each step."),
    method: str | None = typer.Option(None, "--method", help="Run only this guide method."),
    resume: bool = typer.Option(False, "--resume", help="Continue the last unfinished run."),
    allow_unjoin: bool = typer.Option(
        False, "--allow-unjoin",
        help=("Allow Method 2 to unjoin an Entra joined PC; unattended (--yes), vouch that the "
              "checklist before removing a registration is done.")),
    simulate: str | None = typer.Option(
        None, "--simulate", metavar="SCENARIO",
        help=f"Run on a simulated PC instead; SCENARIO is one of: {SCENARIOS}."),
    error_code: str | None = typer.Option(
        None, "--error-code", help="The code the user saw (default with --simulate: the "
        "scenario's ticket)."),
    json_output: bool = typer.Option(False, "--json", help="One JSON line (<= 2,048 chars)."),
    report_to: str | None = typer.Option(
        None, "--report-to", metavar="URL", help="Post the run's report to the odfix console "
        "(the site's enrolment token in ODFIX_REPORT_TOKEN)."),
    note: bool = typer.Option(
        False, "--note", help="Print the ticket note (at most 15 lines) instead of the report."),
    note_format: NoteFormat = typer.Option(
        NoteFormat.TEXT, "--format", help="The ticket note as plain text or Markdown."),
) -> None:
    """Fix the 0x8004de40 family: diagnose, then run the guide's methods and verify each."""
    from odfix.fix.engine import Engine, FixOptions
    from odfix.fix.journal import Journal

    if report_to:
        from odfix.fleet import post

        post.endpoint(report_to)  # a bad URL or no token: refused before anything changes
        post.token()

    if simulate:
        host, ticket_code = _simulated(simulate, resume)
        error_code = error_code or ticket_code
    else:
        host = _real_host()
    person: Any = None
    if not yes:
        if simulate:
            from odfix.hosts.sim.person import SimulatedPerson
            from odfix.hosts.simulated import SimulatedHost

            assert isinstance(host, SimulatedHost)
            person = SimulatedPerson(host.state)
        else:
            from odfix.fix.person import ConsolePerson

            person = ConsolePerson()
    # RunOnce runs without the venv's PATH: name the program that runs odfix now.
    program = ["odfix"] if simulate else _self_command()
    argv = [*program, "fix", "--resume", "--apply", *(["--yes"] if yes else []),
            *(["--allow-unjoin"] if allow_unjoin else []),
            *(["--simulate", simulate] if simulate else [])]
    options = FixOptions(apply=apply or resume, yes=yes, method=method, resume=resume,
                         allow_unjoin=allow_unjoin, error_code=error_code, resume_argv=argv)
    probe = None
    if not simulate:
        from odfix.evidence.connectivity import Prober

        probe = Prober()
    engine = Engine(host, options, Journal(), person=person,
                    narrate=_narrator(not (json_output or note)), probe=probe)
    report = engine.run()
    if simulate:
        from odfix.hosts.simulated import SimulatedHost

        assert isinstance(host, SimulatedHost)
        if report.applied:
            host.save(_sim_path(simulate))
    if note:
        from odfix.commands.fleet import print_note

        print_note(report, note_format.value)
    elif json_output:
        emit_json(report.compact())
    else:
        _print_report(report)
    if report_to:
        post.report_run(report_to, report.compact())
    raise typer.Exit(report.exit_code)


def _value(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return str(value)


def describe(entry: "Entry") -> str:
    """One readable line for a journal entry (plain text: escape it before Rich renders it)."""
    data = dict(entry.data)
    match entry.kind:
        case "run-start":
            head = (f"cause {data.pop('cause', '?')}, join type {data.pop('join_type', '?')}, plan "
                    + ", ".join(str(m) for m in data.pop("plan", None) or []))
        case "step-start":
            head = f"{data.pop('title', '')} ({data.pop('action', '')})"
            data.pop("method", None)
        case "change":
            head = f"{data.pop('what', 'change')}"
        case "step-done":
            head = f"{data.pop('outcome', '')}: " + "; ".join(
                str(n) for n in data.pop("notes", None) or [])
        case "verify":
            head = f"{data.pop('method', '')} {data.pop('status', '')}"
            data.pop("healthy", None)
            checks = data.pop("checks", None) or []
            head += "".join(f"; {'ok' if c.get('ok') else 'FAIL'} {c.get('name')}: "
                            f"{c.get('detail')}" for c in checks if isinstance(c, dict))
        case "paused":
            head = str(data.pop("instruction", ""))
            data.pop("reason", None)
        case "run-end":
            head = f"exit {data.pop('exit_code', '?')}: {data.pop('reason', '')}"
            data.pop("healthy", None)
    rest = ", ".join(f"{k} {_value(v)}" for k, v in data.items() if v not in (None, [], {}))
    return f"{head} — {rest}" if rest else head


def journal(
    run: str | None = typer.Option(None, "--run", help="Show this run's entries."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Show the fix journal: every run, or every change of one run with its before-state."""
    from rich.table import Table

    from odfix.fix.journal import Journal

    book = Journal()
    if run is not None:
        entries = book.entries(run)
        if not entries:
            raise BadInput(f"no run {run!r} in {book.path}")
        if json_output:
            emit_json({"run": run, "entries": [e.model_dump(mode="json") for e in entries]})
            return
        output.console.rule(f"run {escape(run)}")
        for entry in entries:
            step = f"  {entry.step}" if entry.step else ""
            output.console.print(
                f"{entry.time:%Y-%m-%d %H:%M:%S}  [bold]{entry.kind:<10}[/]{escape(step)}  "
                f"{escape(describe(entry))}", soft_wrap=True)
        return
    runs = []
    for run_id in book.run_ids():
        entries = book.entries(run_id)
        start = next((e for e in entries if e.kind == "run-start"), None)
        end = next((e for e in entries if e.kind == "run-end"), None)
        runs.append({"run": run_id, "owner": start.data.get("owner") if start else None,
                     "cause": start.data.get("cause") if start else None,
                     "changes": sum(e.kind == "change" for e in entries),
                     "status": (f"exit {end.data.get('exit_code')}" if end else "open")})
    if json_output:
        emit_json({"journal": str(book.path), "runs": runs})
        return
    table = Table(title=escape(str(book.path)), box=None)
    for column in ("run", "owner", "cause", "changes", "status"):
        table.add_column(column, overflow="fold")
    for item in runs:
        table.add_row(*(escape(str(item[k])) for k in ("run", "owner", "cause", "changes",
                                                       "status")))
    output.console.print(table if runs else "the journal is empty")


def _folder_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def demo(
    scenario: str = typer.Option("password-reset", "--scenario",
                                 help=f"Which simulated PC: {SCENARIOS}."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Diagnose → fix → verify on a simulated PC, narrating each step and check."""
    from odfix.fix.engine import FixOptions
    from odfix.fix.journal import Journal
    from odfix.fix.rehearse import rehearse
    from odfix.fix.scratch import scratch_folder
    from odfix.hosts.simulated import build_host, load_scenario

    spec = load_scenario(scenario)
    with scratch_folder() as base:
        host = build_host(spec, base / "pc")
        before = _folder_digest(host.onedrive_folder())
        narrate = _narrator(not json_output)
        if not json_output:
            output.console.rule(f"[bold]odfix demo — {scenario}")
            output.console.print(escape(spec.summary), soft_wrap=True)
        options = FixOptions(apply=True, error_code=spec.error_code,
                             resume_argv=["odfix", "fix", "--resume", "--apply"])
        reports = rehearse(host, options, Journal(base / "journal.jsonl"), narrate=narrate)
        untouched = _folder_digest(host.onedrive_folder()) == before
    last = reports[-1]
    deleted = [c for r in reports for s in r.steps for c in s.notes
               if c.startswith("deleted credential")]
    if json_output:
        emit_json({"scenario": scenario, "cause": reports[0].cause,
                   "methods": list(dict.fromkeys(v.method for r in reports
                                                 for v in r.verifications)),
                   "healthy": last.healthy, "exit_code": last.exit_code, "reason": last.reason,
                   "restarts": len(reports) - 1, "deleted": deleted,
                   "onedrive_folder_untouched": untouched})
    else:
        output.console.rule()
        output.console.print(f"cause: [bold]{reports[0].cause}[/] — "
                             f"{escape(reports[0].cause_summary)}", soft_wrap=True)
        output.console.print(f"OneDrive folder byte-identical: {'yes' if untouched else 'NO'}")
        verdict = "[green]healthy[/]" if last.healthy else f"[yellow]exit {last.exit_code}[/]"
        output.console.print(f"result: {verdict} — {escape(last.reason)}", soft_wrap=True)
    raise typer.Exit(last.exit_code)


def register(app: typer.Typer) -> None:
    """Add ``fix``, ``journal`` and ``demo`` to the app."""
    app.command("fix")(fix)
    app.command("journal")(journal)
    app.command("demo")(demo)

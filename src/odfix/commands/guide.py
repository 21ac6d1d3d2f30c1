"""``odfix guide`` (the fix guide as a checklist or JSON) and ``odfix kb`` (the KCS article)."""

import errno
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from odfix import output
from odfix.errors import BadInput, IOFailure
from odfix.output import emit_json, escape

if TYPE_CHECKING:
    from odfix.guide import Guide, JoinType, Method, Plan, Step, Variant


class KbFormatOption(StrEnum):
    MD = "md"
    HTML = "html"


def guide(
    json_output: bool = typer.Option(False, "--json", help="Print one JSON document."),
    cause: str | None = typer.Option(
        None, "--cause", help="Show only the plan for this cause id (see the guide's causes)."
    ),
    join_type: str | None = typer.Option(
        None, "--join-type",
        help="Resolve join-type variants: entra-joined, hybrid-joined, domain-joined, "
        "entra-registered, none or unknown.",
    ),
) -> None:
    """Print the fix guide as a checklist: methods, numbered steps, contexts, tests, sources.

    With --cause, print the ordered plan for that cause (variants resolved for --join-type,
    default unknown); --json prints the whole guide, or that plan.
    """
    from odfix.guide import load_guide

    data = load_guide()
    join = _join_type(join_type)
    if cause is not None:
        plan = _plan(data, cause, join)
        if json_output:
            emit_json(plan)
        else:
            _print_plan(data, plan)
        return
    if json_output:
        emit_json(data)
        return
    _print_guide(data, join if join_type is not None else None)


def kb(
    fmt: KbFormatOption = typer.Option(KbFormatOption.MD, "--format", help="md or html."),
    org: str | None = typer.Option(None, "--org", help="Organisation name for the header."),
    contact: str | None = typer.Option(None, "--contact", help="Help-desk contact line."),
    config: Path | None = typer.Option(
        None, "--config", help="YAML file: org, contact, escalation_team, audience, state, title."
    ),
    out: Path | None = typer.Option(None, "--out", help="Write the article to this file."),
) -> None:
    """Render the KCS knowledge-base article from the guide (Markdown or self-contained HTML)."""
    from pydantic import ValidationError

    from odfix.guide import load_guide
    from odfix.publish.kb import KbConfig, KbConfigError, load_kb_config, render_kb

    settings = load_kb_config(config) if config is not None else KbConfig()
    overrides = {k: v for k, v in {"org": org, "contact": contact}.items() if v is not None}
    try:
        settings = KbConfig.model_validate({**settings.model_dump(), **overrides})
    except ValidationError as error:
        field = error.errors()[0]
        raise KbConfigError(f"--{field['loc'][0]}: {field['msg']}") from None
    article = render_kb(load_guide(), fmt.value, settings)
    if out is None:
        sys.stdout.write(article)
        return
    _write(out, article)
    output.console.print(f"Wrote {escape(str(out))}")


def _write(out: Path, text: str) -> None:
    """Write ``text`` to ``out``; a wrong path is bad input (exit 2), a failing disk an I/O error
    (exit 8), each one line."""
    try:
        out.write_text(text, encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        raise BadInput(f"cannot write {out}: the folder {out.parent} does not exist") from None
    except IsADirectoryError:
        raise BadInput(f"cannot write {out}: it is a folder; give a file name") from None
    except OSError as error:
        reason = error.strerror or errno.errorcode.get(error.errno or 0, str(error))
        raise IOFailure(f"cannot write {out}: {reason}") from None


def register(app: typer.Typer) -> None:
    """Add ``guide`` and ``kb`` to the app."""
    app.command("guide")(guide)
    app.command("kb")(kb)


def _join_type(text: str | None) -> "JoinType":
    from odfix.guide import JoinType

    try:
        return JoinType(text or JoinType.UNKNOWN)
    except ValueError:
        known = ", ".join(j.value for j in JoinType)
        raise BadInput(f"unknown join type {text!r}; use one of: {known}") from None


def _plan(data: "Guide", cause: str, join: "JoinType") -> "Plan":
    try:
        return data.resolve(cause, join)
    except KeyError:
        known = ", ".join(c.id for c in data.causes)
        raise BadInput(f"unknown cause {cause!r}; use one of: {known}") from None


def _cites(confidence: str, sources: list[str]) -> str:
    return f"[dim]{escape(confidence)} · sources: {escape(', '.join(sources))}[/]"


def _print_steps(steps: "list[Step]", indent: str = "  ") -> None:
    for number, step in enumerate(steps, start=1):
        automated = f" · {step.action.name}" if step.action else ""
        output.console.print(
            f"{indent}☐ {number}. [bold]{escape(step.title)}[/] "
            f"[cyan]({step.context.value}{escape(automated)})[/]"
        )
        output.console.print(f"{indent}     {escape(step.text)}")
        if step.ui_path:
            output.console.print(f"{indent}     [magenta]{escape(' › '.join(step.ui_path))}[/]")
        if step.command:
            output.console.print(f"{indent}     [green]{escape(step.command)}[/]")


def _print_variant_head(data: "Guide", variant: "Variant", head: str, indent: str,
                        items: bool = False) -> None:
    output.console.print(f"{indent}[yellow]{head}: {escape(variant.title)}[/]")
    output.console.print(f"{indent}  {escape(variant.why)}")
    if variant.checklist:
        checklist = data.checklist(variant.checklist)
        output.console.print(f"{indent}  [red]First: the checklist “{escape(checklist.title)}”[/]")
        for item in checklist.items if items else []:
            output.console.print(f"{indent}    [red]☐ {escape(item.text)}[/]")
    if variant.gate:
        output.console.print(f"{indent}  [yellow]Gate: {escape(variant.gate)}[/]")


def _print_method(data: "Guide", method: "Method", join: "JoinType | None",
                  checklist_items: bool = False) -> None:
    number = f"Method {method.number}: " if method.number else ""
    output.console.print(f"\n[bold underline]{number}{escape(method.title)}[/]  "
                         f"[dim]({method.id})[/]")
    output.console.print(f"  {escape(method.summary)}")
    output.console.print(f"  {_cites(method.confidence.value, method.sources)}")
    variant = method.variant_for(join) if join is not None else None
    if variant is not None:
        _print_variant_head(data, variant, f"Path for {join}", "  ", checklist_items)
        _print_steps(variant.steps)
    else:
        if join is None and method.variants:
            output.console.print("  [bold]Which path?[/] Read the join type first "
                                 "(dsregcmd /status, in the user's own session):")
            for info in data.join_types:
                path = method.variant_for(info.id)
                output.console.print(f"    • {escape(info.title)} ({escape(info.dsregcmd)}) → "
                                     f"{escape(path.title) if path else 'the steps below'}")
        _print_steps(method.steps)
        if join is None:
            for other in method.variants:
                joins = ", ".join(other.join_types)
                _print_variant_head(data, other, f"Path ({joins})", "  ")
                _print_steps(other.steps, indent="    ")
    output.console.print(f"  [bold]Test:[/] {escape(method.test.text)}")
    output.console.print(f"    ✓ {escape(method.test.if_fixed)}")
    output.console.print(f"    ✗ {escape(method.test.if_not_fixed)}")


def _print_guide(data: "Guide", join: "JoinType | None") -> None:
    output.console.print(f"[bold]{escape(data.title)}[/]")
    output.console.print(escape(data.summary))
    output.console.print("\n[bold]Rules[/]")
    for rule in data.rules:
        output.console.print(f"  • {escape(rule)}")
    for checklist in data.checklists:
        output.console.print(f"\n[bold red]{escape(checklist.title)}[/]  [dim]({checklist.id})[/]")
        output.console.print(f"  {escape(checklist.why)}")
        for point in checklist.items:
            output.console.print(f"  ☐ {escape(point.text)}")
            output.console.print(f"    {_cites(point.confidence.value, point.sources)}")
    for method in data.methods:
        _print_method(data, method, join)
    output.console.print("\n[bold]Special cases[/]")
    for case in data.special_cases:
        output.console.print(f"\n[bold underline]{escape(case.title)}[/]  "
                             f"[dim](cause: {case.cause})[/]")
        output.console.print(f"  When: {escape(case.when)}")
        output.console.print(f"  {escape(case.explanation)}")
        output.console.print(f"  {_cites(case.confidence.value, case.sources)}")
        for number, item in enumerate(case.sequence, start=1):
            if item.step is not None:
                _print_steps([item.step], indent="  ")
                continue
            method = data.method(item.method or "")
            label = f"Method {method.number}: " if method.number else ""
            note = f" — {item.note}" if item.note else ""
            output.console.print(f"  ☐ {number}. Run {label}{escape(method.title + note)}")
        for case_note in case.notes:
            output.console.print(f"  Note: {escape(case_note)}")
    output.console.print("\n[bold]Causes[/]")
    for cause in data.causes:
        output.console.print(f"  • [bold]{escape(cause.title)}[/] [dim]({cause.id})[/]: "
                             f"{escape(' → '.join(cause.plan) or 'nothing to do')}")
        for join_type, plan in cause.plan_by_join_type.items():
            output.console.print(f"    on {join_type}: {escape(' → '.join(plan) or 'nothing')}")
        output.console.print(f"    {_cites(cause.confidence.value, cause.sources)}")
    output.console.print("\n[bold]Sources[/]")
    for source_id, source in data.sources.items():
        where = f" {source.url}" if source.url else ""
        output.console.print(f"  [{escape(source_id)}] {escape(source.publisher)}: "
                             f"{escape(source.title)}{escape(where)}", soft_wrap=True)


def _print_plan(data: "Guide", plan: "Plan") -> None:
    cause = data.cause(plan.cause)
    output.console.print(f"[bold]Plan for {escape(cause.title)}[/] [dim]({plan.cause}, "
                         f"join type {plan.join_type})[/]")
    if not plan.methods:
        output.console.print("  Nothing to run.")
    for method_id in data.plan_for(plan.cause, plan.join_type):
        _print_method(data, data.method(method_id), plan.join_type, checklist_items=True)
    for escalation in plan.escalations:
        output.console.print(f"\n[bold]Escalate to {escape(escalation.to)}:[/] "
                             f"{escape(escalation.when)}")

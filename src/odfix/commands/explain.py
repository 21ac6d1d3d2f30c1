"""``odfix explain CODE``: what an error code means and where the guide goes from it."""

from collections.abc import Sequence

import typer

from odfix import output


def explain(
    code: str = typer.Argument(
        ..., help="0x8004de40, 8004DE40, -2147164608, 0xCAA2000C, AADSTS50173 or 50173."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Explain a OneDrive, WAM (0xCAA..) or AADSTS error code."""
    from odfix.guide.codes import CATEGORY_MEANINGS, load_catalog

    catalog = load_catalog()
    entry = catalog.lookup(code)
    sources = [{"id": source, "text": catalog.sources[source]} for source in entry.sources]
    if json_output:
        output.emit_json({**entry.model_dump(mode="json"), "input": code, "sources": sources})
        return
    from rich.table import Table

    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    table.add_row("[bold]Code[/]", entry.code + (f"  ({entry.name})" if entry.name else ""))
    table.add_row("[bold]Family[/]", entry.family)
    table.add_row("[bold]Meaning[/]", entry.meaning)
    table.add_row("[bold]Category[/]", f"{entry.category} — {CATEGORY_MEANINGS[entry.category]}")
    confidence = entry.confidence + ("" if entry.verified else " — unverified")
    if entry.facility:
        confidence += " (explained by its facility group)"
    table.add_row("[bold]Confidence[/]", confidence)
    table.add_row("[bold]Guide path[/]", guide_path(entry.guide_path))
    cited = "\n".join(f"[{s['id']}] {s['text']}" for s in sources)
    table.add_row("[bold]Sources[/]", output.escape(cited))
    output.console.print(table)


def guide_path(methods: Sequence[str]) -> str:
    """The guide path in words; a method that unjoins or removes a registration says that a
    code alone never justifies it."""
    from odfix.guide import load_guide

    destructive = {method.id for method in load_guide().methods if method.destructive}
    shown = [f"{m} (destructive: only when odfix diagnose shows the registration exists and is "
             "broken; join type first, then the checklist)" if m in destructive else m
             for m in methods]
    return " → ".join(shown) or "none on the PC (see the category)"


def register(app: typer.Typer) -> None:
    """Add ``explain`` to the app."""
    # Negative decimal HRESULTs (-2147164608) must reach the argument, not the option parser.
    app.command("explain", context_settings={"ignore_unknown_options": True})(explain)

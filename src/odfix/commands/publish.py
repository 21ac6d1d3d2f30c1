"""``odfix publish intune``: the Intune Remediations pair, the RMM .cmd pair and their README."""

from pathlib import Path

import typer

from odfix import output
from odfix.errors import IOFailure


def publish_intune(
    out: Path = typer.Option(..., "--out", help="Folder to write the scripts and README into."),
    install_dir: str = typer.Option(
        r"%ProgramW6432%\odfix", "--install-dir",
        help="Where the Windows build is on the PCs (%NAME% variables allowed; a share works)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Write detect/remediate .ps1 (Intune, user context, 64-bit) and .cmd (RMM tools),
    install/uninstall .cmd for the build, and a README with every Intune setting."""
    from odfix.guide.load import load_guide
    from odfix.publish.intune import scripts

    files = scripts(load_guide(), install_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for script in files:
            (out / script.name).write_bytes(script.text.encode("utf-8"))
    except OSError as error:
        raise IOFailure(f"cannot write the scripts to {out}: {error.strerror or error}") from None
    if as_json:
        output.emit_json({"out": str(out), "files": [s.name for s in files],
                          "install_dir": install_dir})
        return
    for script in files:
        output.console.print(output.plain(str(out / script.name)), markup=False)


def register(app: typer.Typer) -> None:
    """Add the ``publish`` group with ``intune``."""
    group = typer.Typer(no_args_is_help=True,
                        help="Publish odfix for fleet tools: Intune Remediations, RMM scripts.")
    group.command("intune")(publish_intune)
    app.add_typer(group, name="publish")

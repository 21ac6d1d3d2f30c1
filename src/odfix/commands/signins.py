"""``odfix signins``: Entra sign-in logs and Conditional Access, from files or from Graph.

The group's commands come from the modules in ``SUBCOMMAND_MODULES``; each has ``register(group)``.
"""

import importlib

import typer

SUBCOMMAND_MODULES: tuple[str, ...] = (
    "odfix.commands.signins_analyze",
    "odfix.commands.signins_graph",
)


def register(app: typer.Typer) -> None:
    """Add the ``signins`` group and its commands to the main app."""
    group = typer.Typer(
        no_args_is_help=True,
        help="Analyse Entra sign-in logs and Conditional Access (files or Graph).",
    )
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).register(group)
    app.add_typer(group, name="signins")

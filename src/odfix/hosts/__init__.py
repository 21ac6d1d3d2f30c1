"""The machine odfix acts on: the real Windows host and a simulated PC, behind one protocol."""

from importlib import resources


def scenario_names() -> list[str]:
    """The simulated-PC scenarios shipped in ``odfix/hosts/scenarios`` (cheap: no parsing, so
    command help can list them)."""
    folder = resources.files("odfix.hosts") / "scenarios"
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir()
                  if p.name.endswith(".yaml"))

"""Where command output goes: Rich for people, one JSON document on stdout for machines.

``console`` and ``err_console`` are created on first use, and Rich is imported only then: every
``odfix`` command imports this module at start-up, and Rich costs ~40-60 ms to import, which a
``--json`` run never needs.
"""

import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    console: Console
    err_console: Console

_consoles: dict[str, "Console"] = {}


def __getattr__(name: str) -> "Console":
    if name not in ("console", "err_console"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name not in _consoles:
        from rich.console import Console

        _consoles[name] = Console(stderr=name == "err_console", highlight=False)
    return _consoles[name]


def escape(text: str) -> str:
    """Rich's markup escape (Rich imported on first use)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def emit_json(document: Any) -> None:
    """Print exactly one JSON document on stdout (pydantic models serialise themselves)."""
    dump = getattr(document, "model_dump_json", None)  # pydantic: ~7x json.dumps on 9 MB
    text = dump() if callable(dump) else json.dumps(document, ensure_ascii=False, default=str)
    sys.stdout.write(text)
    sys.stdout.write("\n")
    sys.stdout.flush()

"""Where command output goes: Rich for people, one JSON document on stdout for machines.

``console`` and ``err_console`` are created on first use, and Rich is imported only then: every
``odfix`` command imports this module at start-up, and Rich costs ~40-60 ms to import, which a
``--json`` run never needs.
"""

import json
import os
import sys
from typing import TYPE_CHECKING, Any

from odfix.textsafe import visible

if TYPE_CHECKING:
    from rich.console import Console

    console: Console
    err_console: Console

_consoles: dict[str, "Console"] = {}


def __getattr__(name: str) -> "Console":
    if name not in ("console", "err_console"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name not in _consoles:
        _consoles[name] = _make_console(stderr=name == "err_console")
    return _consoles[name]


def _make_console(*, stderr: bool) -> "Console":
    """A Rich console; piped or redirected output is never hard-wrapped at 80 columns.

    Rich wraps at 80 columns when the stream is not a terminal, which splits URLs and evidence
    lines mid-word in a ticket or a log. Off a terminal the width is ``COLUMNS`` or 200 columns
    and long lines are left whole (soft wrap): the reader's viewer wraps them.
    """
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            """Rich exits with 1 here; a reader that went away is odfix.cli's to handle."""
            raise BrokenPipeError

    stream = sys.stderr if stderr else sys.stdout
    is_tty = bool(getattr(stream, "isatty", lambda: False)())
    if is_tty:
        return _Console(stderr=stderr, highlight=False)
    columns = os.environ.get("COLUMNS", "")
    width = int(columns) if columns.isdigit() and int(columns) > 0 else 200
    return _Console(stderr=stderr, highlight=False, width=width, soft_wrap=True)


def escape(text: str) -> str:
    """Text from data made safe for Rich: markup escaped, control and bidi characters visible.

    Every value that did not come from odfix itself (evidence, UPNs, names, journal entries)
    goes through this before Rich renders it.
    """
    from rich.markup import escape as rich_escape

    return rich_escape(visible(text))


def plain(text: str) -> str:
    """Text from data made safe for a ``markup=False`` print (control and bidi made visible)."""
    return visible(text)


_state = {"json_documents": 0}


def emit_json(document: Any) -> None:
    """Print exactly one JSON document on stdout (pydantic models serialise themselves)."""
    dump = getattr(document, "model_dump_json", None)  # pydantic: ~7x json.dumps on 9 MB
    text = dump() if callable(dump) else json.dumps(document, ensure_ascii=False, default=str)
    _state["json_documents"] += 1
    sys.stdout.write(text)
    sys.stdout.write("\n")
    sys.stdout.flush()


def start_command() -> None:
    """Forget what an earlier command in this process printed (tests run many in one)."""
    _state["json_documents"] = 0


def json_emitted() -> bool:
    """Whether this process has printed its JSON document already."""
    return _state["json_documents"] > 0


def emit_json_error(message: str, code: int) -> None:
    """The ``--json`` answer to a failure: ``{"error": message, "exit": code}``, unless the
    command printed its document before it failed (then that document is the answer)."""
    if not json_emitted():
        emit_json({"error": message, "exit": int(code)})

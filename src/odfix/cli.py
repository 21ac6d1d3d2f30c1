"""The ``odfix`` command line: a thin Typer app over the library.

Each area registers its commands from a module in ``odfix.commands`` (``register(app)``), so this
file stays small and commands import their heavy dependencies lazily, inside the command body.
"""

import contextlib
import importlib
import os
import sys
from typing import NoReturn

import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.exceptions import Abort

from odfix import __version__, output
from odfix.errors import OdfixError
from odfix.exitcodes import ExitCode

TENANT_MODULES = frozenset({"duckdb", "pyarrow", "httpx", "msal", "msal_extensions"})
"""Installed by the ``tenant`` extra only; the endpoint commands never import them."""

COMMAND_MODULES: tuple[str, ...] = (
    "odfix.commands.signins",
    "odfix.commands.explain",
    "odfix.commands.guide",
    "odfix.commands.diagnose",
    "odfix.commands.collect",
    "odfix.commands.fix",
    "odfix.commands.publish",
    "odfix.commands.fleet",
    "odfix.commands.serve",
)

app = typer.Typer(
    name="odfix",
    help="Diagnose and fix the OneDrive for Business sign-in error 0x8004de40 and its family.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"odfix {__version__}")
        raise typer.Exit(ExitCode.OK)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", callback=_show_version,
        is_eager=True,
    ),
) -> None:
    """Diagnose and fix the OneDrive for Business sign-in error 0x8004de40 and its family."""


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def _utf8_streams() -> None:
    """On Windows, write UTF-8 to pipes and files (the ANSI code page cannot print "→").

    Consoles are unaffected: CPython writes to them with WriteConsoleW whatever the encoding.
    """
    if sys.platform != "win32":
        return
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and (stream.encoding or "").lower() not in ("utf-8", "utf8"):
            reconfigure(encoding="utf-8", errors="replace")


def _wants_json(args: list[str]) -> bool:
    """Whether the command line asks for ``--json`` (options end at ``--``)."""
    for arg in args:
        if arg == "--":
            return False
        if arg == "--json":
            return True
    return False


def _fail(message: str, code: ExitCode, *, as_json: bool, kind: str = "error") -> int:
    """One line on stderr (control characters made visible) and, with ``--json``, the JSON error
    document on stdout; returns the exit code."""
    line = f"odfix: {kind}: {message}"
    with contextlib.suppress(OSError, ValueError):
        output.err_console.print(output.plain(line), markup=False, soft_wrap=True)
    if as_json:
        with contextlib.suppress(OSError, ValueError):
            output.emit_json_error(message, code)
    return int(code)


def _os_message(error: OSError) -> str:
    where = f"{error.filename}: " if error.filename else ""
    return f"{where}{error.strerror or error}"


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; every failure ends in one line on stderr and an ``ExitCode``, never a traceback.

    With ``--json`` a failure also prints ``{"error": …, "exit": …}`` on stdout, so a script or
    Intune always gets one document. A reader that closed the pipe early is not an error.
    """
    _utf8_streams()
    args = list(sys.argv[1:] if argv is None else argv)
    as_json = _wants_json(args)
    output.start_command()
    try:
        result = app(args=args, prog_name="odfix", standalone_mode=False)
    except NoArgsIsHelpError as shown:
        shown.show()
        return int(ExitCode.BAD_INPUT)
    except UsageError as usage:
        hint = f" (try '{usage.ctx.command_path} --help')" if usage.ctx is not None else ""
        return _fail(f"{usage.format_message()}{hint}", ExitCode.BAD_INPUT, as_json=as_json,
                     kind="usage error")
    except OdfixError as error:
        return _fail(error.message, error.code, as_json=as_json)
    except SystemExit as done:  # a library that exits on its own still ends in a code
        return done.code if isinstance(done.code, int) else int(ExitCode.BAD_INPUT)
    except BrokenPipeError:
        _quiet_stdout()
        return int(ExitCode.OK)
    except (KeyboardInterrupt, Abort):
        return _fail("interrupted", ExitCode.INTERRUPTED, as_json=as_json, kind="stopped")
    except RecursionError:
        return _fail("the input is nested too deeply to read", ExitCode.BAD_INPUT,
                     as_json=as_json)
    except ModuleNotFoundError as missing:
        if (missing.name or "").split(".")[0] in TENANT_MODULES:
            return _fail(f"this command needs the tenant extra ({missing.name} is not "
                         "installed): pip install 'odfix[tenant]'", ExitCode.BAD_INPUT,
                         as_json=as_json)
        return _internal(missing, as_json)
    except OSError as error:
        return _fail(_os_message(error), ExitCode.IO_ERROR, as_json=as_json)
    except Exception as bug:  # the last guard: a bug must still end in one line and a code
        return _internal(bug, as_json)
    return int(result or 0)


def _internal(bug: Exception, as_json: bool) -> int:
    """A bug still ends in one line and exit 70 (``ODFIX_DEBUG=1`` re-raises it)."""
    if os.environ.get("ODFIX_DEBUG"):
        raise bug
    return _fail(f"{type(bug).__name__}: {bug} (a bug in odfix; ODFIX_DEBUG=1 shows the "
                 "traceback)", ExitCode.INTERNAL, as_json=as_json, kind="internal error")


def _quiet_stdout() -> None:
    """After the reader closed stdout: point it at devnull so the final flush cannot fail."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def run() -> NoReturn:
    """The process entry point (console script, ``python -m odfix``): ``main``, then exit at once.

    Commands close their files and finish their threads before they return, so the
    interpreter's teardown has nothing left to save; skipping it saves ~0.1 s after a large
    ``signins analyze`` (a million-row in-memory database and ~20,000 findings freed one object
    at a time). Standard streams are flushed first. Tests call ``main``.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            _quiet_stdout()
        except (OSError, ValueError):
            pass
    os._exit(code)


if __name__ == "__main__":
    run()

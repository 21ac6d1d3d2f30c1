"""Errors that end a command with one clear line and a distinct exit code (never a traceback)."""

from odfix.exitcodes import ExitCode


class OdfixError(Exception):
    """A failure the user can act on; the CLI prints ``message`` on one line and exits ``code``."""

    code: ExitCode = ExitCode.BAD_INPUT

    def __init__(self, message: str, code: ExitCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class BadInput(OdfixError):
    """Input that cannot be read or understood (exit 2)."""

    code = ExitCode.BAD_INPUT


class WrongContext(OdfixError):
    """Wrong context for the job, e.g. SYSTEM for a user task (exit 5)."""

    code = ExitCode.WRONG_CONTEXT


class FixFailed(OdfixError):
    """A fix step failed (exit 3)."""

    code = ExitCode.FIX_FAILED

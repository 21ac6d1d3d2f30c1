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


class NetworkUnavailable(OdfixError):
    """The network or DNS is down, or a service cannot be reached (exit 6)."""

    code = ExitCode.NETWORK


class Busy(OdfixError):
    """Another odfix run holds the lock this one needs (exit 7)."""

    code = ExitCode.BUSY


class IOFailure(OdfixError):
    """A file could not be read or written: disk full, permission denied, a device (exit 8)."""

    code = ExitCode.IO_ERROR
